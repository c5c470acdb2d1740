"""Lockfiles from the installed environment."""

from __future__ import annotations

from harness.image.flavors import docker_dir
from harness.image.lock import PROVIDED, lock_text, runtime_closure


def test_closure_holds_the_runtime_dependencies_with_their_installed_versions():
    from importlib import metadata

    closure = runtime_closure()
    for name in ("ultralytics", "pydantic", "typer", "fabric", "paramiko", "numpy"):
        assert closure[name] == metadata.version(name)
    assert "edge-harness" not in closure and "pytest" not in closure  # not the root, no dev extras


def test_lock_text_leaves_out_what_each_image_brings_itself():
    text = lock_text({"torch": "2", "nvidia-cublas": "1", "nvidia-ml-py": "13", "onnxruntime": "1", "numpy": "2"}, "hdr")
    assert text.splitlines() == ["# hdr", "numpy==2", "nvidia-ml-py==13"]
    assert PROVIDED.match("tensorrt-cu13") and not PROVIDED.match("nvidia-ml-py")


def test_checked_in_cpu_lock_pins_every_runtime_dependency():
    pinned = {line.split("==")[0] for line in (docker_dir() / "requirements/cpu.lock").read_text().splitlines()
              if line and not line.startswith("#")}
    wanted = {n for n in runtime_closure() if not PROVIDED.match(n)}
    assert not wanted - pinned, f"run `harness image lock`: missing {sorted(wanted - pinned)}"
