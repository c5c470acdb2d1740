"""Jetson power monitors read straight from sysfs (10-20 Hz, no daemon): INA3221 rails, Thor's INA238 input.

Devices are found as jetson-stats finds them -- ``/sys/bus/i2c/devices/*/name`` naming the driver -- and
under ``/sys/bus/i2c/drivers/{ina3221,ina3221x,ina238}/*`` (the same devices, linked by driver).
JetPack 5/6 (hwmon): ``hwmon/hwmon*/`` with ``inN_label``, ``inN_input`` (mV) and ``currN_input`` (mA);
power = mV x mA / 1000. JetPack 4 (IIO): ``iio:device*/`` with ``rail_name_N`` and ``in_power{N}_input`` (mW).
Thor (JetPack 7): an INA238 on the carrier board measures the system input, rail ``VIN``: ``power1_input`` (uW),
else ``in1_input`` x ``curr1_input``. ``NC`` channels and the shunt-voltage sum channel (7) are skipped;
hwmonN / deviceN are globbed, never hard-coded. Total and scope: ``telemetry.rails`` (the input rail where the
board has one, else the sum of the named rails, and the scope names them).
"""

from __future__ import annotations

from pathlib import Path

from harness.telemetry.sampler import PollingSampler

from harness.telemetry.rails import scope_of, total_of
from harness.telemetry.trace import Availability, Sample
from harness.telemetry.backends.sysfs import Clocks, ThermalZones, read_float, read_text, under_root

def _skip(label: str) -> bool:
    """``NC`` (not connected; jetson-stats skips any label containing it) and the shunt-voltage sum channel."""
    return "NC" in label.strip().upper() or "sum of shunt" in label.lower()


def _label(path: Path) -> str | None:
    """A channel's label (bounded, ``sysfs.read_text``); None when it cannot be read or is not a regular file."""
    try:
        return read_text(path)
    except OSError:
        return None


DRIVERS = ("ina3221", "ina3221x", "ina238")
SUM_CHANNEL = "7"  # the INA3221 hwmon driver's "sum of shunt voltages" channel


def _monitors() -> dict[Path, str]:
    """Each power-monitor device directory (resolved, so a device seen under devices/ and drivers/ counts once)
    -> its driver: ``ina3221`` (hwmon or IIO) or ``ina238``."""
    found: dict[Path, str] = {}
    for dev in sorted(under_root("/sys/bus/i2c/devices").glob("*")):
        name = (_label(dev / "name") or "").lower()
        kind = "ina238" if "ina238" in name else "ina3221" if "ina3221" in name else None
        if kind:
            found.setdefault(dev.resolve(), kind)
    for driver in DRIVERS:
        for dev in sorted(under_root(f"/sys/bus/i2c/drivers/{driver}").glob("*")):
            if dev.is_dir():
                found.setdefault(dev.resolve(), "ina238" if driver == "ina238" else "ina3221")
    return found


def _ina3221_rails(dev: Path) -> dict[str, tuple[tuple[Path, ...], float]]:
    rails = {}
    for label in sorted(dev.glob("hwmon/hwmon*/in*_label")):
        n = label.name[2:-len("_label")]
        if n == SUM_CHANNEL or (name := _label(label)) is None or _skip(name):
            continue
        volt, curr = label.parent / f"in{n}_input", label.parent / f"curr{n}_input"
        if volt.exists() and curr.exists():
            rails[name] = ((volt, curr), 1e-3)  # mV x mA / 1000 = mW
    for rail in sorted(dev.glob("iio:device*/rail_name_*")):
        if (name := _label(rail)) is None or _skip(name):
            continue
        power = rail.parent / f"in_power{rail.name.rsplit('_', 1)[1]}_input"
        if power.exists():
            rails[name] = ((power,), 1.0)  # mW
    return rails


def _ina238_rails(dev: Path) -> dict[str, tuple[tuple[Path, ...], float]]:
    for hwmon in sorted(dev.glob("hwmon/hwmon*")):
        if (hwmon / "power1_input").exists():
            return {"VIN": ((hwmon / "power1_input",), 1e-3)}  # uW / 1000 = mW
        if (hwmon / "in1_input").exists() and (hwmon / "curr1_input").exists():
            return {"VIN": ((hwmon / "in1_input", hwmon / "curr1_input"), 1e-3)}
    return {}


def discover_rails() -> dict[str, tuple[tuple[Path, ...], float]]:
    """Rail name -> (files whose product is the reading, mW per unit of that product)."""
    rails: dict[str, tuple[tuple[Path, ...], float]] = {}
    for dev, kind in _monitors().items():
        for name, channel in (_ina238_rails(dev) if kind == "ina238" else _ina3221_rails(dev)).items():
            rails.setdefault(name, channel)
    return rails


def declared_update_s(rails: dict[str, tuple[tuple[Path, ...], float]]) -> float | None:
    """The slowest INA3221's ``update_interval`` (ms, hwmon): samples x channels x conversion times.

    Readings change no faster than this however often they are polled; None where the driver has no such file.
    """
    found = []
    for files, _ in rails.values():
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
        self.rails: dict[str, tuple[tuple[Path, ...], float]] = {}
        self.thermal: ThermalZones | None = None
        self.clocks: Clocks | None = None

    def _probe(self) -> Availability:
        self.rails = discover_rails()
        if not self.rails:
            return Availability(False, "no INA3221/INA238 rails under /sys/bus/i2c/ (not a Jetson, or sysfs not mounted in the container)")
        try:
            self.read_rails()
        except PermissionError as e:
            return Availability(False, f"INA3221 files not readable ({e.filename})")
        self.thermal, self.clocks = ThermalZones(), Clocks()
        self.scope = scope_of(self.rails)
        self.sensor_update_s = declared_update_s(self.rails)
        return Availability(True, f"{len(self.rails)} rails: {', '.join(self.rails)}")

    def read_rails(self) -> dict[str, float]:
        out = {}
        for name, (files, mw_per_unit) in self.rails.items():
            value = mw_per_unit
            for f in files:
                value *= read_float(f)
            out[name] = value
        return out

    def read(self, t_s: float) -> Sample:
        rails = self.read_rails()
        total, _ = total_of(rails)
        return Sample(t_s, total, rails, self.thermal.read() if self.thermal else {}, self.clocks.read() if self.clocks else {})
