"""Build planning: where the image is built and the exact engine command (no engine needed)."""

from __future__ import annotations

import pytest

from harness.errors import ImageError
from harness.image import build as b
from harness.image.versions import KEY_LABEL
from harness.config.profiles import DeviceProfile, load_profile

SSH = {"host": "127.0.0.1", "user": "root"}


def test_native_cpu_build_is_local_with_podman_in_docker_format(monkeypatch):
    monkeypatch.setattr(b, "host_platform", lambda: "linux/amd64")
    prof = DeviceProfile(name="c", kind="desktop-cpu", runtime="podman", container={"image": "edge-harness:mine"})
    plan = b.plan_build(prof, {"BASE_IMAGE": "localhost/base"}, engine="podman", build_opts=["--isolation=chroot"])
    assert plan.where == "local" and plan.platform is None and plan.aliases == ["edge-harness:mine"]
    argv = b.build_argv(plan, "/ctx", "/ctx/Dockerfile.cpu")
    assert argv[:4] == ["podman", "build", "--format", "docker"]
    assert "BASE_IMAGE=localhost/base" in argv and f"{KEY_LABEL}={plan.key}" in argv
    assert argv[-5:] == ["-f", "/ctx/Dockerfile.cpu", "-t", plan.tag, "/ctx"] and "--isolation=chroot" in argv


def test_jetson_from_x86_without_qemu_builds_on_the_device(monkeypatch):
    monkeypatch.setattr(b, "host_platform", lambda: "linux/amd64")
    monkeypatch.setattr(b, "_binfmt_ready", lambda target: False)
    plan = b.plan_build(load_profile("orin-nano"))
    assert plan.where == "device" and plan.engine == "docker" and plan.flavor.name == "l4t-r36"
    assert plan.tag.startswith("edge-harness:l4t-r36-") and "edge-harness:l4t-r36" in plan.aliases


def test_jetson_cross_build_with_qemu_uses_buildx_or_podman_platform(monkeypatch):
    monkeypatch.setattr(b, "host_platform", lambda: "linux/amd64")
    monkeypatch.setattr(b, "_binfmt_ready", lambda target: True)
    plan = b.plan_build(load_profile("orin-nano"), engine="docker")
    assert plan.where == "local" and plan.platform == "linux/arm64"
    assert b.build_argv(plan, ".", "Dockerfile.l4t")[:6] == ["docker", "buildx", "build", "--load", "--platform", "linux/arm64"]
    plan.engine = "podman"
    assert b.build_argv(plan, ".", "Dockerfile.l4t")[:6] == ["podman", "build", "--format", "docker", "--platform", "linux/arm64"]


def test_cross_build_impossible_here_says_how_to_fix(monkeypatch):
    monkeypatch.setattr(b, "host_platform", lambda: "linux/amd64")
    monkeypatch.setattr(b, "_binfmt_ready", lambda target: False)
    prof = load_profile("orin-nano").model_copy(update={"connection": None})
    with pytest.raises(ImageError, match="qemu") as e:
        b.plan_build(prof)
    assert "--where device" in e.value.hint


def test_device_build_needs_a_connection_and_a_container_runtime():
    with pytest.raises(ImageError, match="no connection"):
        b.plan_build(DeviceProfile(name="c", kind="desktop-cpu", runtime="podman"), where="device")
    with pytest.raises(ImageError, match="runtime 'host'"):
        b.plan_build(DeviceProfile(name="c", kind="desktop-cpu", connection=SSH), where="device")
