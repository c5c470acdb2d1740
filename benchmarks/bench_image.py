"""CPU image build with podman: cold (no layer cache) vs after a harness change (only the top layers rebuild).

Both builds use the same Dockerfile, lockfile and build args; the second one is
`harness image build --force`, which rebuilds from a fresh harness wheel exactly as
a source change does. Prints both wall times, the image size and the ratio. The
cold build re-installs torch (minutes) and needs ~7 GB of free disk for a while.

    .venv/bin/python benchmarks/bench_image.py
"""

from __future__ import annotations

import os
import time

from harness.image.build import build_local, plan_build
from harness.config.profiles import DeviceProfile
from harness.testing.infra import podman as pm
TORCH = {"TORCH_INDEX_URL": "https://pypi.org/simple", "TORCH_SPEC": "torch==2.14.1 torchvision==0.29.1"}


def main() -> None:
    reason = pm.podman_reason()
    if reason:
        raise SystemExit(f"cannot benchmark image builds here: {reason}")
    os.environ["CONTAINERS_CONF"] = str(pm.conf_path())
    prof = DeviceProfile(name="bench-cpu", kind="desktop-cpu", runtime="podman", container={"image": "edge-harness:cpu-bench"})
    args = {"BASE_IMAGE": pm.base_image(), **TORCH, **pm.pip_build_args()}
    opts = pm.build_opts(pip=True)

    t0 = time.perf_counter()
    cold = build_local(plan_build(prof, args, "local", "podman", build_opts=[*opts, "--no-cache"], force=True))
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm = build_local(plan_build(prof, args, "local", "podman", build_opts=opts, force=True))
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    hit = build_local(plan_build(prof, args, "local", "podman", build_opts=opts))
    hit_s = time.perf_counter() - t0
    assert hit.cache_hit
    print(f"image {cold.tag}: {(cold.size_bytes or 0) / 1e9:.2f} GB (torch {cold.versions['torch']}, "
          f"ultralytics {cold.versions['ultralytics']})")
    print(f"cold build (no layer cache):        {cold_s:7.1f} s")
    print(f"rebuild after a harness change:     {warm_s:7.1f} s   ({cold_s / warm_s:.1f}x faster than cold)")
    print(f"same content tag (cache hit):       {hit_s:7.1f} s   ({cold_s / hit_s:.0f}x faster than cold)")
    pm.podman("rmi", "edge-harness:cpu-bench", check=False)
    pm.podman("image", "prune", "-f", check=False)


if __name__ == "__main__":
    main()
