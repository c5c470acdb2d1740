"""Dockerfile.l4t exercised for real on this x86 machine: the JetPack 6 args with a substitute base and wheels.

Not a Jetson image (no L4T, CUDA or TensorRT here): the Debian test base stands in for
l4t-jetpack, the CPU torch 2.13 wheel and torchvision 0.28 for NVIDIA's wheels, and
cuSPARSELt/onnxruntime-gpu are left out. What it checks is the Dockerfile's own logic:
the apt step, a venv with --system-site-packages, the wheels installed from TORCH_WHL /
TORCHVISION_WHL and kept (the lockfile must not swap them for PyPI's), jetson-stats at
JETSON_STATS_VERSION, the harness, the versions file and label. Marked ``container``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.config.profiles import DeviceProfile
from harness.testing.infra import podman as pm
pytestmark = [pytest.mark.container, pytest.mark.slow]

TORCH_WHL = Path("/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")
TORCHVISION_WHL = Path("/opt/pypi-more/files/torchvision-0.28.0-cp311-cp311-manylinux_2_28_x86_64.whl")


@pytest.fixture(scope="module")
def l4t_image(podman_env):
    if not (TORCH_WHL.is_file() and TORCHVISION_WHL.is_file()):
        pytest.skip(f"the stand-in wheels are not on this machine ({TORCH_WHL.name}, {TORCHVISION_WHL.name})")
    from harness.image.build import build_local, plan_build

    prof = DeviceProfile.model_validate({"name": "l4t-stand-in", "kind": "jetson", "runtime": "podman",
                                         "expect": {"l4t_major": 36}, "container": {"image": "edge-harness:l4t-stand-in"}})
    # SYSTEM_PACKAGES: Debian's name of OpenBLAS (Ubuntu 20.04/22.04's is libopenblas-base)
    args = {"BASE_IMAGE": pm.base_image(), "CUSPARSELT_PACKAGES": "", "CUDA_APT_REPO": "", "ORT_WHL": "",
            "SYSTEM_PACKAGES": "libopenblas0",
            "TORCH_WHL": str(TORCH_WHL), "TORCHVISION_WHL": str(TORCHVISION_WHL), **pm.pip_build_args()}
    plan = plan_build(prof, args, "local", "podman", build_opts=[*pm.build_opts(pip=True), f"-v={TORCH_WHL.parent}:{TORCH_WHL.parent}:ro"],
                      platform="linux/amd64")
    assert plan.platform is None and plan.flavor.name == "l4t-r36"  # native here: no cross-build
    result = build_local(plan)
    pm.drop_older_tags("localhost/edge-harness:l4t-r36-", {plan.tag})
    print(f"\nL4T stand-in image {result.tag}: {'cache hit' if result.cache_hit else f'built in {result.seconds:.0f} s'}, "
          f"{(result.size_bytes or 0) / 1e9:.2f} GB")
    return result


def test_l4t_dockerfile_keeps_the_given_wheels_and_pins_jetson_stats(l4t_image):
    v = l4t_image.versions
    assert v["flavor"] == "l4t-r36" and v["torch"] == "2.13.0+cpu" and v["torchvision"] == "0.28.0"  # not swapped by pip
    assert v["jetson_stats"] == "4.3.2" and v["numpy"] == "1.26.4"  # l4t-r36.args and requirements/l4t-r36.txt
    labels = json.loads(pm.podman("image", "inspect", "--format", "{{json .Config.Labels}}", l4t_image.tag).stdout)
    assert json.loads(labels["io.edge-harness.versions"]) == v and labels["io.edge-harness.flavor"] == "l4t-r36"


def test_l4t_venv_sees_the_system_site_packages_and_runs_the_harness(l4t_image):
    r = pm.podman("run", "--rm", "--network=none", "--entrypoint", "python", l4t_image.tag, "-c",
                  "import sys, harness, jtop; print(sys.flags.no_site, any('dist-packages' in p for p in sys.path))")
    assert r.stdout.split() == ["0", "True"]  # JetPack's TensorRT lives in /usr/lib/python3*/dist-packages
    assert pm.podman("run", "--rm", "--network=none", l4t_image.tag, "--help").stdout.count("harness") >= 1
