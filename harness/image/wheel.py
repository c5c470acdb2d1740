"""A wheel of the harness this process runs from: what images and device venvs install (``--no-deps``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import harness
from harness.errors import ImageError


def build_wheel(out: Path) -> Path:
    """Build ``edge_harness-<version>-*.whl`` from the source checkout into ``out``; returns its path."""
    src = Path(harness.__file__).resolve().parent.parent
    if not (src / "pyproject.toml").is_file():
        raise ImageError(f"{src}: not a source checkout, cannot build a harness wheel",
                         "install edge-harness on the device yourself and set host_runtime.venv: false")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
                       capture_output=True, text=True, timeout=600)
    wheels = sorted(out.glob("edge_harness-*.whl"))
    if r.returncode != 0 or not wheels:
        raise ImageError(f"building the harness wheel failed: {r.stderr.strip()[-300:]}", "check the source checkout")
    return wheels[-1]
