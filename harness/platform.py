"""What the measurement ran on: host, board, software versions (for every record)."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import harness
from harness.image.versions import image_info


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(errors="replace").strip("\x00\n ") or None
    except OSError:
        return None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    text = _read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.lower().startswith(("model name", "hardware")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or None


def _l4t(release: str | None) -> str | None:
    """``# R36 (release), REVISION: 4.0, ...`` -> ``36.4.0``."""
    if not release:
        return None
    first = release.splitlines()[0]
    try:
        major = first.split("R", 1)[1].split()[0]
        rev = first.split("REVISION:", 1)[1].split(",")[0].strip()
        return f"{major}.{rev}"
    except IndexError:
        return None


def _nvpmodel_mode() -> str | None:
    """Current Jetson power mode by name (``nvpmodel -q``: 'NV Power Mode: 15W'); ids differ per board."""
    exe = shutil.which("nvpmodel")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "-q"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if line.startswith("NV Power Mode:"):
            return line.split(":", 1)[1].strip() or None
    return None


@lru_cache(maxsize=1)
def collect_environment() -> dict:
    """Environment facts; cheap, never raises, cached per process."""
    import torch

    cuda = torch.cuda.is_available()
    ort_providers = None
    try:
        import onnxruntime

        ort_providers = onnxruntime.get_available_providers()
    except ImportError:
        pass
    trt = _version("tensorrt")
    release = _read("/etc/nv_tegra_release")
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "board_model": _read("/proc/device-tree/model"),
        "l4t": _l4t(release),
        "python": platform.python_version(),
        "harness": harness.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda_available": cuda,
        "cuda": torch.version.cuda if cuda else None,
        "gpu_name": torch.cuda.get_device_name(0) if cuda else None,
        "tensorrt": trt,
        "ultralytics": _version("ultralytics"),
        "onnxruntime": _version("onnxruntime") or _version("onnxruntime-gpu"),
        "onnxruntime_providers": ort_providers,
        "numpy": _version("numpy"),
        "opencv": _version("opencv-python") or _version("opencv-python-headless"),
        "nvpmodel": _nvpmodel_mode(),
        "jetson_clocks": None,
        "image": image_info(),  # the container image's own versions (label io.edge-harness.versions), None on a host
    }
