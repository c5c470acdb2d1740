"""x86 CPU package energy from RAPL (``/sys/class/powercap/intel-rapl:N/energy_uj``).

The counter (uJ) wraps at ``max_energy_range_uj``; each read is unwrapped
against the previous one, so the trace carries a monotonic cumulative mJ
counter and window energy is a counter delta. Scope ``cpu_package`` (all
packages summed). Unreadable without permission -> unavailable, with the fix.
"""

from __future__ import annotations

from pathlib import Path

from harness.telemetry.sampler import PollingSampler

from harness.telemetry.trace import Availability, Sample, derive_power_from_counter
from harness.telemetry.backends.sysfs import ThermalZones, read_float, read_text, under_root


class RaplCounter:
    """One package domain's counter, unwrapped (uJ)."""

    def __init__(self, path: Path, max_range_uj: float) -> None:
        self.path = path
        self.max_range_uj = max_range_uj
        self.last_raw: float | None = None
        self.total_uj = 0.0

    def read(self) -> float:
        raw = read_float(self.path)
        if self.last_raw is not None:
            delta = raw - self.last_raw
            if delta < 0:  # wrapped past max_energy_range_uj
                delta += self.max_range_uj
            self.total_uj += delta
        self.last_raw = raw
        return self.total_uj


class RaplSampler(PollingSampler):
    name = "rapl"
    scope = "cpu_package"

    def __init__(self, interval_ms: int = 50) -> None:
        super().__init__(interval_ms)
        self.counters: list[RaplCounter] = []
        self.thermal: ThermalZones | None = None

    def _probe(self) -> Availability:
        base = under_root("/sys/class/powercap")
        if not base.is_dir():
            return Availability(False, "no /sys/class/powercap (RAPL not exposed: not an x86 host, or hidden in this container/VM)")
        domains = []
        for d in sorted(base.glob("intel-rapl:*")):
            if d.name.count(":") != 1:  # sub-domains (core, uncore, dram) are inside the package
                continue
            try:
                name = read_text(d / "name")
            except OSError:
                continue
            if name.startswith("package"):
                domains.append(d)
        if not domains:
            return Availability(False, f"{base}: no package-* RAPL domain")
        counters = []
        for d in domains:
            try:
                counters.append(RaplCounter(d / "energy_uj", read_float(d / "max_energy_range_uj")))
                counters[-1].read()
            except PermissionError:
                return Availability(False, f"{d / 'energy_uj'} is not readable (root only since Linux 5.10); "
                                           f"run as root or `sudo chmod o+r {d}/energy_uj`")
            except (OSError, ValueError) as e:
                return Availability(False, f"{d}: cannot read RAPL counter ({e})")
        self.counters = counters
        self.thermal = ThermalZones()
        return Availability(True, f"{len(counters)} package domain(s)")

    def read(self, t_s: float) -> Sample:
        total_uj = sum(c.read() for c in self.counters)
        return Sample(t_s, None, {}, self.thermal.read() if self.thermal else {}, {}, energy_mj=total_uj / 1000.0)

    def stop(self):
        return derive_power_from_counter(super().stop())
