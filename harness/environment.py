"""What the measurement ran on: host, board, software versions (for every record).

The one place that reads a Jetson's identity: the L4T release line
(``/etc/nv_tegra_release``), the board model, the nvpmodel query. The device
side (environment capture), image builds (``image.versions``) and the host's
preflight (facts gathered over SSH) all parse with the functions here.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

import harness
from harness import devtext


MAX_FACT_FILE_BYTES = 1 << 20  # 1 MiB: /proc/cpuinfo of a 256-core host is ~300 KiB, a release or model line < 1 KiB
_L4T = re.compile(r"#\s{0,8}R(\d{1,4})\b")  # bounded: "# R" + a million digits is not a release (int() would raise)
_REVISION = re.compile(r"REVISION:\s{0,8}([0-9][0-9.]{0,31})")


def _read(path: str) -> str | None:
    """A fact file's text (at most ``MAX_FACT_FILE_BYTES`` of a regular file; a FIFO is None, never a blocked read)."""
    text = devtext.read_small_or_none(path, MAX_FACT_FILE_BYTES)
    return (text.strip("\x00\n ") or None) if text is not None else None


MODEL_FILES = ("/proc/device-tree/model", "/tmp/nv_jetson_model")  # a container: the device's, copied in (jetson-containers)


def board_model() -> str | None:
    """The board's model line: the device tree on the board, the copy a container is given, else None."""
    for path in MODEL_FILES:
        if text := _read(path):
            return devtext.first_line(text)[:200] or None
    return None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    text = _read("/proc/cpuinfo") or ""
    for line in devtext.lines(text):
        if line.lower().startswith(("model name", "hardware")):
            return line.partition(":")[2].strip()[:200] or None
    return platform.processor() or None


@dataclass(frozen=True)
class L4TRelease:
    """An L4T release: ``major`` 36 = JetPack 6, 35 = JetPack 5; ``version`` like ``36.4.0``."""

    major: int
    revision: str | None

    @property
    def version(self) -> str:
        return f"{self.major}.{self.revision}" if self.revision else str(self.major)


def parse_l4t(release: str | None) -> L4TRelease | None:
    """``# R36 (release), REVISION: 4.0, GCID: ...`` -> L4TRelease(36, "4.0"); None for anything else (the first
    non-blank line is read, and only when it is shorter than ``devtext.MAX_LINE_CHARS``)."""
    first = devtext.first_line((release or "").lstrip())
    m = _L4T.match(first)
    if not m:
        return None
    rev = _REVISION.search(first)
    return L4TRelease(int(m.group(1)), rev.group(1).rstrip(".") if rev else None)


def l4t_version(release: str | None) -> str | None:
    """``36.4.0`` from a release line, None when it is not one."""
    rel = parse_l4t(release)
    return rel.version if rel else None


def parse_nvpmodel_query(text: str | None) -> str | None:
    """The mode name from ``nvpmodel -q`` output (``NV Power Mode: 15W``); modes are names, ids differ per board."""
    from harness.powermodes import parse_nvpmodel_query as name_and_id

    return name_and_id(text)[0]


def _nvpmodel_mode() -> str | None:
    """Current Jetson power mode by name, or None off a Jetson."""
    exe = shutil.which("nvpmodel")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "-q"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_nvpmodel_query(out)


def image_info() -> dict | None:
    """The versions file of the image this process runs in (``HARNESS_IMAGE_INFO``), or None outside one."""
    path = os.environ.get("HARNESS_IMAGE_INFO")
    if not path:
        return None
    text = devtext.read_small_or_none(path, MAX_FACT_FILE_BYTES)
    try:
        info = json.loads(text) if text is not None else None
    except (ValueError, RecursionError):
        return None
    return info if isinstance(info, dict) else None


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
        "board_model": board_model(),
        "l4t": l4t_version(release),
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
