"""Fake sysfs trees for Jetson INA3221 (JetPack 4/5/6 layouts), RAPL and thermal zones.

Point the backends at one with ``HARNESS_SYSFS_ROOT=<root>``. Values are plain
files, so a test can change them while a sampler runs.
"""

from __future__ import annotations

import os
from pathlib import Path

# Real rail layouts (labels as the boards report them).
# (label, mV, mA) per channel, one list per INA3221 device.
ORIN_NANO_RAILS = [[("VDD_IN", 5000, 1000), ("VDD_CPU_GPU_CV", 5000, 200), ("VDD_SOC", 5000, 300)]]
AGX_ORIN_RAILS = [  # no VDD_IN; NC channels on the second device
    [("VDD_GPU_SOC", 19864, 180), ("VDD_CPU_CV", 19864, 40), ("VIN_SYS_5V0", 4976, 810)],
    [("NC", 0, 0), ("VDDQ_VDD2_1V8AO", 4976, 60), ("NC", 0, 0)],
]


def _write(path: Path, value) -> None:
    """Write like the kernel shows a sysfs attribute: never empty while a sampler reads it.

    An existing file is overwritten in place (same inode, so readers holding it
    open see the change) and never truncated first: a shorter value is padded
    with spaces, which number parsing ignores.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = f"{value}\n"
    if not path.exists():
        path.write_text(data)
        return
    with open(path, "r+") as f:
        old = len(f.read())
        if len(data) < old:
            data = data[:-1].ljust(old - 1) + "\n"
        f.seek(0)
        f.write(data)


def ina3221_hwmon(root: Path, devices: list[list[tuple[str, float, float]]], hwmon_start: int = 3,
                  update_interval_ms: int | None = None) -> list[Path]:
    """JetPack 5/6 layout: one hwmon dir per device; channel 4 is the shunt-voltage sum.

    ``update_interval_ms`` writes the driver's ``update_interval`` (how often the chip converts).
    """
    dirs = []
    for i, rails in enumerate(devices):
        d = root / f"sys/bus/i2c/drivers/ina3221/1-004{i}/hwmon/hwmon{hwmon_start + i}"
        ina3221_channels(d, rails, update_interval_ms)
        dirs.append(d)
    return dirs


def ina3221_channels(hwmon_dir: Path, rails: list[tuple[str, float, float]], update_interval_ms: int | None = None) -> Path:
    """One INA3221's hwmon attributes: ``inN_label``, ``inN_input`` (mV), ``currN_input`` (mA) per channel, and the
    driver's "sum of shunt voltages" channel 7 (``in7_label``/``in7_input``, ``curr4_input``) that readers skip."""
    if update_interval_ms is not None:
        _write(hwmon_dir / "update_interval", update_interval_ms)
    for n, (label, mv, ma) in enumerate(rails, start=1):
        _write(hwmon_dir / f"in{n}_label", label)
        _write(hwmon_dir / f"in{n}_input", mv)
        _write(hwmon_dir / f"curr{n}_input", ma)
    _write(hwmon_dir / "in7_label", "sum of shunt voltages")
    _write(hwmon_dir / "in7_input", 40)
    _write(hwmon_dir / "curr4_input", 1200)
    return hwmon_dir


def link(path: Path, target: Path) -> Path:
    """A relative symlink at ``path`` to ``target``, both inside one tree, as sysfs links its devices: the tree
    can be moved, or served under another root, and its links still land inside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(os.path.relpath(target, path.parent))
    return path


def set_value(path: Path, value) -> None:
    """Change one attribute of a fake tree while samplers may be reading it."""
    _write(path, value)


def set_rail(hwmon_dir: Path, label: str, mv: float, ma: float) -> None:
    for lab in hwmon_dir.glob("in*_label"):
        if lab.read_text().strip() == label:
            n = lab.name[2:-6]
            _write(hwmon_dir / f"in{n}_input", mv)
            _write(hwmon_dir / f"curr{n}_input", ma)
            return
    raise KeyError(label)


def ina3221_iio(root: Path, rails_mw: dict[str, float]) -> Path:
    """JetPack 4 (Nano, TX2) IIO layout with ``rail_name_N`` / ``in_power{N}_input`` (mW)."""
    d = root / "sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0"
    for n, (label, mw) in enumerate(rails_mw.items()):
        _write(d / f"rail_name_{n}", label)
        _write(d / f"in_power{n}_input", mw)
    return d


def thermal_zones(root: Path, temps_c: dict[str, float], kernel_layout: bool = False) -> list[Path]:
    """``thermal_zoneN/{type,temp}`` in millidegrees (use -256 for an offline sensor).

    ``kernel_layout``: the zones live in ``sys/devices/virtual/thermal`` (where jetson-stats reads them) and
    ``sys/class/thermal/thermal_zoneN`` are relative links to them, as on a board.
    """
    out = []
    for i, (name, c) in enumerate(temps_c.items()):
        z = root / ("sys/devices/virtual/thermal" if kernel_layout else "sys/class/thermal") / f"thermal_zone{i}"
        _write(z / "type", name)
        _write(z / "temp", int(c * 1000))
        if kernel_layout:
            link(root / f"sys/class/thermal/thermal_zone{i}", z)
        out.append(z)
    return out


def set_temp(root: Path, name: str, c: float) -> None:
    for z in (root / "sys/class/thermal").glob("thermal_zone*"):
        if (z / "type").read_text().strip() == name:
            _write(z / "temp", int(c * 1000))
            return
    raise KeyError(name)


def rapl(root: Path, energy_uj: float = 0, max_range_uj: float = 262143328850, packages: int = 1) -> list[Path]:
    """``/sys/class/powercap/intel-rapl:N`` package domains (plus a core sub-domain)."""
    out = []
    for p in range(packages):
        d = root / f"sys/class/powercap/intel-rapl:{p}"
        _write(d / "name", f"package-{p}")
        _write(d / "energy_uj", int(energy_uj))
        _write(d / "max_energy_range_uj", int(max_range_uj))
        sub = root / f"sys/class/powercap/intel-rapl:{p}:0"
        _write(sub / "name", "core")
        _write(sub / "energy_uj", 0)
        out.append(d)
    return out
