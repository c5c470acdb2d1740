"""Deploy skips shipping an image whose content tag the device already has (built there, or shipped before)."""

from __future__ import annotations

import json

from harness.remote.image_transfer import content_tag_of, same_content_on_device

KEY = "c0ffee" * 10
LABELS = {"io.edge-harness.content-key": KEY, "io.edge-harness.versions": json.dumps({"flavor": "l4t-r36", "harness": "0.1.0"})}


class Engine:
    """``run(argv) -> (code, stdout)`` over a dict of tag -> (id, labels); records the calls."""

    def __init__(self, images: dict[str, tuple[str, dict]]) -> None:
        self.images, self.calls = images, []

    def __call__(self, argv: list[str]) -> tuple[int, str]:
        self.calls.append(argv)
        if argv[1:3] == ["image", "inspect"]:
            found = self.images.get(argv[-1])
            if found is None:
                return 1, ""
            return 0, (found[0] if argv[4] == "{{.Id}}" else json.dumps(found[1]))
        if argv[1] == "tag":
            self.images[argv[3]] = self.images[argv[2]]
            return 0, ""
        return 1, ""


def test_content_tag_comes_from_the_labels():
    assert content_tag_of(Engine({"img": ("sha256:a", LABELS)}), "docker", "img") == f"edge-harness:l4t-r36-0.1.0-{KEY[:12]}"
    assert content_tag_of(Engine({"img": ("sha256:a", {})}), "docker", "img") is None  # not built by the harness
    assert content_tag_of(Engine({}), "docker", "img") is None


def test_device_with_the_content_tag_gets_the_profile_tag_and_nothing_is_shipped():
    tag = f"edge-harness:l4t-r36-0.1.0-{KEY[:12]}"
    here = Engine({"edge-harness:l4t-r36": ("sha256:here", LABELS)})
    device = Engine({tag: ("sha256:device", LABELS)})
    assert same_content_on_device(device, here, "docker", "docker", "edge-harness:l4t-r36") == "sha256:device"
    assert ["docker", "tag", tag, "edge-harness:l4t-r36"] in device.calls
    assert same_content_on_device(Engine({}), here, "docker", "docker", "edge-harness:l4t-r36") is None
