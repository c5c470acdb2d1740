"""Jetson INA3221 power monitors read straight from sysfs (10-20 Hz, no daemon).

JetPack 5/6 (hwmon): ``/sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon*/`` with
``inN_label``, ``inN_input`` (mV) and ``currN_input`` (mA); power = mV x mA / 1000.
JetPack 4 (IIO): ``/sys/bus/i2c/drivers/ina3221x/*/iio:device*/`` with
``rail_name_N`` and ``in_power{N}_input`` (mW). ``NC`` channels and the
shunt-voltage sum channel are skipped; hwmonN / deviceN are globbed, never
hard-coded. Total: ``VDD_IN`` or ``POM_5V_IN`` where the board has it (scope
``module_input``), else the sum of the named rails (``module_rail_sum``, AGX
Orin / AGX Xavier).
"""

from __future__ import annotations

from pathlib import Path

from harness.telemetry.sampler import PollingSampler

from harness.telemetry.trace import Availability, Sample
from harness.telemetry.backends.sysfs import Clocks, ThermalZones, read_float, read_text, under_root

INPUT_RAILS = ("VDD_IN", "POM_5V_IN")


def _skip(label: str) -> bool:
    return label.strip().upper() == "NC" or "sum of shunt" in label.lower()


def _label(path: Path) -> str | None:
    """A channel's label (bounded, ``sysfs.read_text``); None when it cannot be read or is not a regular file."""
    try:
        return read_text(path)
    except OSError:
        return None


def discover_rails() -> dict[str, tuple[Path, ...]]:
    """Rail name -> files to read: (mV, mA) on hwmon, (mW,) on IIO."""
    rails: dict[str, tuple[Path, ...]] = {}
    for label in sorted(under_root("/sys/bus/i2c/drivers/ina3221").glob("*/hwmon/hwmon*/in*_label")):
        if (name := _label(label)) is None:
            continue
        n = label.name[2:-len("_label")]
        volt, curr = label.parent / f"in{n}_input", label.parent / f"curr{n}_input"
        if not _skip(name) and volt.exists() and curr.exists():
            rails[name] = (volt, curr)
    for rail in sorted(under_root("/sys/bus/i2c/drivers/ina3221x").glob("*/iio:device*/rail_name_*")):
        if (name := _label(rail)) is None:
            continue
        n = rail.name.rsplit("_", 1)[1]
        power = rail.parent / f"in_power{n}_input"
        if not _skip(name) and power.exists():
            rails[name] = (power,)
    return rails


def total_of(rails_mw: dict[str, float]) -> tuple[float | None, str | None]:
    """Module total and its scope; never adds sub-rails to an input rail."""
    for name in INPUT_RAILS:
        if name in rails_mw:
            return rails_mw[name], "module_input"
    if rails_mw:
        return sum(rails_mw.values()), "module_rail_sum"
    return None, None


def declared_update_s(rails: dict[str, tuple[Path, ...]]) -> float | None:
    """The slowest INA3221's ``update_interval`` (ms, hwmon): samples x channels x conversion times.

    Readings change no faster than this however often they are polled; None where the driver has no such file.
    """
    found = []
    for files in rails.values():
        f = files[0].parent / "update_interval"
        try:
            found.append(read_float(f) / 1000.0)
        except (OSError, ValueError):
            continue
    return max(found) if found else None


class SysfsIna3221Sampler(PollingSampler):
    name = "sysfs_ina3221"

    def __init__(self, interval_ms: int = 50) -> None:
        super().__init__(interval_ms)
        self.rails: dict[str, tuple[Path, ...]] = {}
        self.thermal: ThermalZones | None = None
        self.clocks: Clocks | None = None

    def _probe(self) -> Availability:
        self.rails = discover_rails()
        if not self.rails:
            return Availability(False, "no INA3221 rails under /sys/bus/i2c/drivers/ina3221*/ (not a Jetson, or sysfs not mounted in the container)")
        try:
            self.read_rails()
        except PermissionError as e:
            return Availability(False, f"INA3221 files not readable ({e.filename})")
        self.thermal, self.clocks = ThermalZones(), Clocks()
        _, self.scope = total_of({k: 0.0 for k in self.rails})
        self.sensor_update_s = declared_update_s(self.rails)
        return Availability(True, f"{len(self.rails)} rails: {', '.join(self.rails)}")

    def read_rails(self) -> dict[str, float]:
        out = {}
        for name, files in self.rails.items():
            if len(files) == 2:
                out[name] = read_float(files[0]) * read_float(files[1]) / 1000.0
            else:
                out[name] = read_float(files[0])
        return out

    def read(self, t_s: float) -> Sample:
        rails = self.read_rails()
        total, _ = total_of(rails)
        return Sample(t_s, total, rails, self.thermal.read() if self.thermal else {}, self.clocks.read() if self.clocks else {})
