"""Reading sysfs: one root for tests (``HARNESS_SYSFS_ROOT``), thermal zones, CPU/GPU clocks."""

from __future__ import annotations

import os
from pathlib import Path

from harness import devtext
from harness.paths import sysfs_root
from harness.powermodes import is_gpu_devfreq
from harness.telemetry.zones import clean_temps


def sys_root() -> Path:
    """``/`` normally; ``HARNESS_SYSFS_ROOT`` points the backends at a fake tree (``paths.sysfs_root``)."""
    return sysfs_root()


def under_root(path: str) -> Path:
    return sys_root() / path.lstrip("/")


def read_text(path: Path) -> str:
    """A sysfs attribute's text, stripped: at most one page (``devtext.SMALL_FILE_BYTES``) of a regular file;
    OSError for anything else (a FIFO is refused without waiting for a writer)."""
    return devtext.read_small(path).strip()


_FDS: dict[Path, int] = {}


def read_float(path: Path) -> float:
    """A number from a sysfs attribute, re-read through a kept-open descriptor.

    ``pread`` at offset 0 on a held fd re-reads a sysfs attribute without an
    open/close per sample, which keeps a 20 Hz sampler's cost (and its time
    holding the GIL) small. A vanished file raises OSError as usual; only the
    first 64 bytes are read.
    """
    fd = _FDS.get(path)
    if fd is None:
        fd = _FDS[path] = devtext.open_regular(path)  # a FIFO or device is an OSError, never a blocked open
    try:
        return float(os.pread(fd, 64, 0))
    except OSError:
        _FDS.pop(path, None)
        os.close(fd)
        raise


class ThermalZones:
    """``/sys/class/thermal/thermal_zone*/{type,temp}`` (millidegrees), offline ones dropped."""

    def __init__(self) -> None:
        zones = sorted(under_root("/sys/class/thermal").glob("thermal_zone*"))
        self.zones: list[tuple[str, Path]] = []
        for z in zones:
            try:
                name = read_text(z / "type")
            except OSError:
                continue
            if (z / "temp").exists():
                self.zones.append((name, z / "temp"))

    def read(self) -> dict[str, float]:
        out = {}
        for name, path in self.zones:
            try:
                out[name] = read_float(path) / 1000.0
            except (OSError, ValueError):
                continue
        return clean_temps(out)


class Clocks:
    """GPU devfreq and CPU cpufreq current clocks (MHz) where readable."""

    def __init__(self) -> None:
        self.paths: dict[str, Path] = {}
        for dev in sorted(under_root("/sys/class/devfreq").glob("*")):
            cur = dev / "cur_freq"
            if cur.exists() and is_gpu_devfreq(dev.name):
                self.paths["gpu"] = cur  # Hz
        cpu0 = under_root("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
        if cpu0.exists():
            self.paths["cpu0"] = cpu0  # kHz

    def read(self) -> dict[str, float]:
        out = {}
        for name, path in self.paths.items():
            try:
                v = read_float(path)
            except (OSError, ValueError):
                continue
            out[name] = v / 1e6 if name == "gpu" else v / 1e3
        return out
