"""Fake Jetson board trees laid out as the kernel lays them out, for the real jtop service and our sysfs readers.

``build(root, SHAPE)`` writes ``root/sys``, ``root/proc`` and ``root/etc`` so that both readers see one board:

- the real jetson-stats service (``harness.testing.real_jtop``, which serves ``/sys``, ``/proc/device-tree``,
  ``/proc/stat``, ``/proc/cpuinfo`` and ``/etc/nv_tegra_release`` from ``root``), and
- the harness's own backends (``HARNESS_SYSFS_ROOT=root``: ``sysfs_ina3221``, thermal zones, clocks).

Devices live under ``sys/devices/...`` and are reached through relative links, as on a board:
``sys/bus/i2c/devices/1-0040``, ``sys/bus/i2c/drivers/ina3221/1-0040``, ``sys/class/hwmon/hwmonN``,
``sys/class/thermal/thermal_zoneN`` (zones in ``sys/devices/virtual/thermal``), ``sys/class/devfreq/<gpu>``,
``proc/device-tree`` -> ``sys/firmware/devicetree/base``. Values are plain files: ``BoardTree.set_rail`` changes a
load while a reader runs. Units as sysfs has them: mV, mA, uW (INA238 ``power1_input``), millidegrees C, Hz, kHz.

The shapes are modelled on real boards (rail labels, zone names, L4T lines); the readings are round numbers chosen
so that a total can be worked out by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.sim.sysfs import _write, ina3221_channels, link, set_rail, thermal_zones

OFFLINE_MC = -256  # degC a powered-down Jetson sensor reads (-256000 in the file)
I2C_BUS = "sys/devices/platform/bus@0/c240000.i2c/i2c-1"  # where the power monitors sit (Orin: i2c-1)


@dataclass(frozen=True)
class Shape:
    """One board: identity files, power monitors, thermal zones, GPU and CPUs.

    ``ina3221``: one list of (label, mV, mA) per INA3221 (I2C 1-0040, 1-0041, ...). ``ina238_vin``: Thor's
    carrier-board INA238 as (mV, mA, uW), or None. ``temps_c``: zone type -> degC (``OFFLINE_MC`` = offline).
    """

    name: str
    model: str
    boardids: str  # /proc/device-tree/nvidia,boardids: "3767:0005" -> module p3767-0005
    compatible: tuple[str, ...]  # /proc/device-tree/compatible entries, the SoC last
    release: str  # /etc/nv_tegra_release first line
    ina3221: list[list[tuple[str, int, int]]]
    temps_c: dict[str, float]
    gpu_devfreq: str = "17000000.gpu"
    gpu_hz: int = 306000000
    cpus: int = 6
    cpu_part: tuple[str, str] = ("0x41", "0xd42")  # (implementer, part): Arm Cortex-A78AE (Orin)
    ina238_vin: tuple[int, int, int] | None = None
    notes: tuple[str, ...] = field(default=())


ORIN_NANO_JP6 = Shape(
    name="orin-nano-jp6", model="NVIDIA Jetson Orin Nano Developer Kit", boardids="3767:0005",
    compatible=("nvidia,p3768-0000+p3767-0005", "nvidia,p3767-0005", "nvidia,tegra234"),
    release="# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025",
    ina3221=[[("VDD_IN", 5000, 1200), ("VDD_CPU_GPU_CV", 5000, 400), ("VDD_SOC", 5000, 300)]],  # 6000, 2000, 1500 mW
    temps_c={"cpu-thermal": 48.5, "gpu-thermal": 47.0, "cv0-thermal": OFFLINE_MC, "soc0-thermal": 46.0,
             "tj-thermal": 49.0},
)

AGX_ORIN_JP6 = Shape(  # no input rail: the module total is the sum of the named rails
    name="agx-orin-jp6", model="NVIDIA Jetson AGX Orin Developer Kit", boardids="3701:0005",
    compatible=("nvidia,p3737-0000+p3701-0005", "nvidia,p3701-0005", "nvidia,tegra234"),
    release="# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025",
    ina3221=[[("VDD_GPU_SOC", 19864, 180), ("VDD_CPU_CV", 19864, 40), ("VIN_SYS_5V0", 4976, 810)],
             [("NC", 0, 0), ("NC", 0, 0), ("NC", 0, 0)]],  # 3575.52, 794.56, 4030.56 mW
    temps_c={"cpu-thermal": 52.0, "gpu-thermal": 50.5, "cv0-thermal": 49.0, "soc0-thermal": 51.0,
             "tj-thermal": 53.0, "cv2-thermal": OFFLINE_MC},
    cpus=12,
)

XAVIER_NX_JP5 = Shape(  # a PMIC-Die placeholder zone at 100 C, Carmel CPUs
    name="xavier-nx-jp5", model="NVIDIA Jetson Xavier NX Developer Kit", boardids="3668:0001",
    compatible=("nvidia,p3509-0000+p3668-0001", "nvidia,tegra194"),
    release="# R35 (release), REVISION: 5.0, GCID: 35550185, BOARD: t186ref, EABI: aarch64, DATE: Tue Feb 20 04:46:31 UTC 2024",
    ina3221=[[("VDD_IN", 5000, 1000), ("VDD_CPU_GPU_CV", 5000, 200), ("VDD_SOC", 5000, 300)]],  # 5000, 1000, 1500 mW
    temps_c={"AO-therm": 41.5, "CPU-therm": 44.0, "GPU-therm": 43.0, "PMIC-Die": 100.0, "Tdiode_tegra": 42.0,
             "CV-therm": OFFLINE_MC},
    gpu_devfreq="17000000.gv11b", cpu_part=("0x4e", "0x004"),
)

THOR_JP7 = Shape(  # the carrier board's INA238 measures the system input, rail VIN (power1_input in uW)
    name="thor-jp7", model="NVIDIA Jetson AGX Thor Developer Kit", boardids="3834:0008",
    compatible=("nvidia,p3971-0080+p3834-0008", "nvidia,p3834-0008", "nvidia,tegra264"),
    release="# R38 (release), REVISION: 2.0, GCID: 41844464, BOARD: generic, EABI: aarch64, DATE: Fri Aug 22 00:00:00 UTC 2025",
    ina3221=[[("VDD_GPU", 19968, 500), ("VDD_CPU_SOC_MSS", 19968, 250), ("VIN_SYS_5V0", 5000, 400)]],
    ina238_vin=(19968, 1500, 29952000),  # 19968 mV x 1500 mA = 29952000 uW = 29952 mW
    temps_c={"cpu-thermal": 55.0, "gpu-thermal": 54.0, "tj-thermal": 56.0, "cv0-thermal": OFFLINE_MC},
    cpus=14, cpu_part=("0x41", "0xd83"),  # Neoverse V3AE
    notes=("Thor-like: the GPU is modelled as a classic devfreq node (a real Thor has gpu-gpc-0 and NVML)",),
)

SHAPES = {s.name: s for s in (ORIN_NANO_JP6, AGX_ORIN_JP6, XAVIER_NX_JP5, THOR_JP7)}


@dataclass
class BoardTree:
    """A built tree: its root, its shape, and each rail's hwmon directory (to change a load while it is read)."""

    root: Path
    shape: Shape
    rail_dirs: dict[str, Path]
    ina238_dir: Path | None = None

    def set_rail(self, label: str, mv: int, ma: int) -> None:
        """Change one INA3221 rail's reading in place (readers holding the files open see it)."""
        set_rail(self.rail_dirs[label], label, mv, ma)

    def reset(self) -> None:
        """Every power reading back to the shape's (after a test changed a load)."""
        for rails in self.shape.ina3221:
            for label, mv, ma in rails:
                if label in self.rail_dirs:
                    self.set_rail(label, mv, ma)
        if self.shape.ina238_vin is not None:
            self.set_vin(*self.shape.ina238_vin)

    def set_vin(self, mv: int, ma: int, uw: int) -> None:
        """Change the INA238's input reading (Thor): bus mV, current mA, power uW."""
        if self.ina238_dir is None:
            raise KeyError(f"{self.shape.name} has no INA238")
        for name, value in (("in1_input", mv), ("curr1_input", ma), ("power1_input", uw)):
            _write(self.ina238_dir / name, value)


def _device_tree(root: Path, shape: Shape) -> None:
    """``sys/firmware/devicetree/base`` (NUL-terminated strings, as the kernel shows them), linked from
    ``proc/device-tree``."""
    base = root / "sys/firmware/devicetree/base"
    base.mkdir(parents=True, exist_ok=True)
    (base / "model").write_bytes(shape.model.encode() + b"\0")
    (base / "nvidia,boardids").write_bytes(shape.boardids.encode() + b"\0")
    (base / "compatible").write_bytes(b"".join(c.encode() + b"\0" for c in shape.compatible))
    (base / "serial-number").write_bytes(b"1423822000000\0")
    link(root / "proc/device-tree", base)


def _i2c_device(root: Path, addr: str, name: str, driver: str | None) -> Path:
    """A device dir under ``I2C_BUS`` with its ``name``, linked from ``sys/bus/i2c/devices`` (and its driver)."""
    dev = root / I2C_BUS / addr
    _write(dev / "name", name)
    link(root / "sys/bus/i2c/devices" / addr, dev)
    if driver:
        drv = root / "sys/bus/i2c/drivers" / driver
        for attr in ("bind", "unbind", "uevent"):
            if not (drv / attr).exists():
                _write(drv / attr, "")
        link(drv / addr, dev)
    return dev


def _hwmon(root: Path, dev: Path, n: int, name: str) -> Path:
    """``<dev>/hwmon/hwmonN`` with its ``name``, linked from ``sys/class/hwmon/hwmonN``."""
    d = dev / "hwmon" / f"hwmon{n}"
    _write(d / "name", name)
    link(root / "sys/class/hwmon" / f"hwmon{n}", d)
    return d


def _power_monitors(root: Path, shape: Shape) -> tuple[dict[str, Path], Path | None]:
    rail_dirs: dict[str, Path] = {}
    n = 1
    for i, rails in enumerate(shape.ina3221):
        dev = _i2c_device(root, f"1-004{i}", "ina3221", "ina3221")
        d = ina3221_channels(_hwmon(root, dev, n, "ina3221"), rails, update_interval_ms=12)
        rail_dirs.update({label: d for label, _, _ in rails if label != "NC"})
        n += 1
    vin = None
    if shape.ina238_vin is not None:
        dev = _i2c_device(root, "2-0044", "ina238", "ina238")
        vin = _hwmon(root, dev, n, "ina238")
        mv, ma, uw = shape.ina238_vin
        for name, value in (("in1_input", mv), ("curr1_input", ma), ("power1_input", uw)):
            _write(vin / name, value)
    _i2c_device(root, "1-0050", "24c02", None)  # the module EEPROM: on the bus, not a power monitor
    return rail_dirs, vin


def _gpu(root: Path, shape: Shape) -> None:
    """The GPU's platform device (``load`` in per mille) with its devfreq node (``cur_freq`` in Hz)."""
    dev = root / "sys/devices/platform/bus@0" / shape.gpu_devfreq
    _write(dev / "load", 0)
    _write(dev / "railgate_enable", 1)
    node = root / "sys/firmware/devicetree/base/bus@0" / f"gpu@{shape.gpu_devfreq.split('.')[0]}"
    _write(node / "name", "gpu")
    link(dev / "of_node", node)
    freq = dev / "devfreq" / shape.gpu_devfreq
    for name, value in (("cur_freq", shape.gpu_hz), ("min_freq", 306000000), ("max_freq", 918000000),
                        ("governor", "nvhost_podgov"), ("available_governors", "nvhost_podgov performance")):
        _write(freq / name, value)
    link(freq / "device", dev)
    link(root / "sys/class/devfreq" / shape.gpu_devfreq, freq)


def _cpus(root: Path, shape: Shape) -> None:
    """``sys/devices/system/cpu/cpuN/cpufreq`` (kHz), ``/proc/cpuinfo`` (aarch64) and ``/proc/stat``."""
    cpu = root / "sys/devices/system/cpu"
    _write(cpu / "online", f"0-{shape.cpus - 1}")
    implementer, part = shape.cpu_part
    info, stat = [], [f"cpu  {100 * shape.cpus} 0 {50 * shape.cpus} {1000 * shape.cpus} 0 0 0 0 0 0"]
    for n in range(shape.cpus):
        freq = cpu / f"cpu{n}/cpufreq"
        for name, value in (("scaling_governor", "schedutil"), ("scaling_min_freq", 115200),
                            ("scaling_max_freq", 1728000), ("scaling_cur_freq", 1510400), ("cpuinfo_min_freq", 115200),
                            ("cpuinfo_max_freq", 1728000), ("cpuinfo_cur_freq", 1510400)):
            _write(freq / name, value)
        if n:
            _write(cpu / f"cpu{n}/online", 1)
        info.append(f"processor\t: {n}\nBogoMIPS\t: 62.50\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 "
                    f"atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: {implementer}\n"
                    f"CPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: {part}\nCPU revision\t: 1\n")
        stat.append(f"cpu{n} 100 0 50 1000 0 0 0 0 0 0")
    _write(root / "proc/cpuinfo", "\n".join(info))
    _write(root / "proc/stat", "\n".join(stat + ["intr 0", "ctxt 0", "btime 1700000000", "processes 1"]))


def build(root: Path, shape: Shape | str) -> BoardTree:
    """Write ``shape`` (a ``Shape`` or a name in ``SHAPES``) under ``root``; the tree it made."""
    shape = SHAPES[shape] if isinstance(shape, str) else shape
    root.mkdir(parents=True, exist_ok=True)
    _write(root / "etc/nv_tegra_release", shape.release)
    _device_tree(root, shape)
    rail_dirs, vin = _power_monitors(root, shape)
    thermal_zones(root, shape.temps_c, kernel_layout=True)
    _gpu(root, shape)
    _cpus(root, shape)
    return BoardTree(root, shape, rail_dirs, vin)
