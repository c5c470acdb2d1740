"""An image's own versions: L4T, CUDA, TensorRT, torch, ultralytics, onnxruntime, jetson-stats, ...

Run inside the image at build time (``python -m harness.image.versions --write
/opt/harness/image.json``); ``harness image build`` copies the JSON into the
``io.edge-harness.versions`` label, and every record a run in the image writes
carries it as ``environment.image`` (found through ``HARNESS_IMAGE_INFO``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from importlib import metadata
from pathlib import Path

from harness import devtext
from harness.environment import l4t_version

LABEL = "io.edge-harness.versions"
KEY_LABEL = "io.edge-harness.content-key"
DISTS = {
    "torch": ["torch"],
    "torchvision": ["torchvision"],
    "ultralytics": ["ultralytics"],
    "onnxruntime": ["onnxruntime-gpu", "onnxruntime"],
    "tensorrt": ["tensorrt", "tensorrt-cu13", "tensorrt-cu12"],
    "jetson_stats": ["jetson-stats"],
    "torch_pruning": ["torch-pruning"],
    "numpy": ["numpy"],
    "opencv": ["opencv-python", "opencv-python-headless"],
    "harness": ["edge-harness"],
}


def _dist_version(names: list[str]) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def _tensorrt_module() -> str | None:
    """JetPack's TensorRT is a system module (dist-packages), not always a pip distribution."""
    try:
        import tensorrt

        return getattr(tensorrt, "__version__", None)
    except Exception:  # noqa: BLE001 - absent or broken: not in this image
        return None


MAX_VERSION_FILE_BYTES = 1 << 20  # 1 MiB: nv_tegra_release is one line, CUDA's version.json a few KiB


def _l4t(root: Path) -> str | None:
    return l4t_version(devtext.read_small_or_none(root / "etc/nv_tegra_release", MAX_VERSION_FILE_BYTES))


def _cuda(root: Path) -> str | None:
    """The CUDA toolkit in the image (/usr/local/cuda/version.json), else the one torch was built with."""
    text = devtext.read_small_or_none(root / "usr/local/cuda/version.json", MAX_VERSION_FILE_BYTES)
    try:
        version = json.loads(text)["cuda"]["version"] if text is not None else None
    except (ValueError, RecursionError, KeyError, TypeError):
        version = None
    if isinstance(version, str) and 0 < len(version) <= 64:
        return version
    try:
        import torch

        return torch.version.cuda
    except Exception:  # noqa: BLE001
        return None


def collect(flavor: str, base: str, root: Path = Path("/")) -> dict:
    info = {"flavor": flavor, "base_image": base, "python": platform.python_version(), "machine": platform.machine(),
            "l4t": _l4t(root), "cuda": _cuda(root)}
    for key, names in DISTS.items():
        info[key] = _dist_version(names)
    info["tensorrt"] = info["tensorrt"] or _tensorrt_module()
    return info


def image_labels(run, engine: str, image: str) -> dict[str, str]:
    """The image's labels through ``run(argv) -> (code, stdout)``; empty when the image or its labels are absent."""
    code, out = run([engine, "image", "inspect", "--format", "{{json .Config.Labels}}", image])
    try:
        labels = json.loads(out) if code == 0 else None
    except (ValueError, RecursionError):
        return {}
    return labels if isinstance(labels, dict) else {}


def labelled_versions(labels: dict[str, str]) -> dict | None:
    """The ``io.edge-harness.versions`` label as data, None when absent or unreadable."""
    try:
        versions = json.loads(labels[LABEL])
    except (KeyError, TypeError, ValueError, RecursionError):
        return None
    return versions if isinstance(versions, dict) else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flavor", required=True)
    ap.add_argument("--base", default="")
    ap.add_argument("--write", type=Path, help="write the JSON here (else print it)")
    args = ap.parse_args(argv)
    text = json.dumps(collect(args.flavor, args.base), sort_keys=True)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
