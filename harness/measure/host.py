"""What else the machine did during a timed window: other processes' CPU, steal, load, clocks, memory pressure.

A latency measured while another process holds the cores is a measurement of that contention, not of the
model. ``HostMonitor`` brackets a timed window: ``/proc/stat`` (every CPU's jiffies, steal included: a VM's
neighbours) against this process's own CPU time (``/proc/self/stat``: all its threads, and children it
waited for) gives the CPU time *other* processes used, in cores; a light thread samples the load average,
the CPU clocks (cpufreq, where the kernel exposes it: on a Jetson the same sysfs the telemetry reads) and
memory (``MemAvailable``, PSI ``/proc/pressure/memory``) every ``SAMPLE_S``. The record's ``host_state``
block says what was seen and whether the cell is ``contended``: other processes used more than the
profile's ``measure.max_other_cpu_share`` of the CPUs this process may run on, or steal exceeded
``measure.max_steal_share``. ``quiet_check`` is the same look over a short idle interval, for ``harness
doctor`` and the start of a run (the ``pyperf system show`` idea). Everything here degrades to None where a
file is missing (containers, other kernels); nothing raises.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness.paths import sysfs_root

SAMPLE_S = 0.25
PROC = Path("/proc")


@dataclass(frozen=True)
class CpuTimes:
    """Jiffies summed over all CPUs (``/proc/stat``'s first line) and this process's own, at one instant."""

    busy: int  # user + nice + system + irq + softirq (guest time is inside user)
    idle: int  # idle + iowait
    iowait: int
    steal: int
    own: int  # this process: utime + stime + cutime + cstime
    at_s: float  # time.monotonic()


def parse_proc_stat(text: str) -> tuple[int, int, int, int] | None:
    """(busy, idle, iowait, steal) jiffies from ``/proc/stat``'s aggregate ``cpu`` line; None if unreadable."""
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            try:
                v = [int(x) for x in parts[1:9]] + [0] * max(0, 8 - len(parts[1:9]))
            except ValueError:
                return None
            user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
            return user + nice + system + irq + softirq, idle + iowait, iowait, steal
    return None


def parse_self_stat(text: str) -> int | None:
    """utime + stime + cutime + cstime (jiffies) from a ``/proc/<pid>/stat`` line (the name may hold spaces)."""
    try:
        fields = text[text.rindex(")") + 2:].split()
        return sum(int(fields[i]) for i in (11, 12, 13, 14))
    except (ValueError, IndexError):
        return None


def _read(path: Path) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read(65536)
    except OSError:
        return None


def cpu_times() -> CpuTimes | None:
    stat, own = _read(PROC / "stat"), _read(PROC / "self" / "stat")
    parsed = parse_proc_stat(stat or "")
    mine = parse_self_stat(own or "")
    if parsed is None or mine is None:
        return None
    return CpuTimes(*parsed, mine, time.monotonic())


def cpus_available() -> int:
    """CPUs this process may run on (affinity), else the online count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def load_1m() -> float | None:
    text = _read(PROC / "loadavg")
    try:
        return float(text.split()[0]) if text else None
    except (ValueError, IndexError):
        return None


def psi_some_avg10(kind: str) -> float | None:
    """``some avg10`` of ``/proc/pressure/<kind>`` (% of the last 10 s some task waited for it)."""
    text = _read(PROC / "pressure" / kind) or ""
    for line in text.splitlines():
        if line.startswith("some "):
            for part in line.split():
                if part.startswith("avg10="):
                    try:
                        return float(part[6:])
                    except ValueError:
                        return None
    return None


def mem_available_mb() -> float | None:
    for line in (_read(PROC / "meminfo") or "").splitlines():
        if line.startswith("MemAvailable:"):
            try:
                return round(int(line.split()[1]) / 1024, 1)
            except (ValueError, IndexError):
                return None
    return None


def cpu_freq_ratio() -> float | None:
    """Mean over CPUs of scaling_cur_freq / cpuinfo_max_freq (1.0 = every core at its top clock); None without cpufreq."""
    ratios = []
    for d in sorted((sysfs_root() / "devices/system/cpu").glob("cpu[0-9]*/cpufreq"))[:1024]:
        cur, top = _read(d / "scaling_cur_freq"), _read(d / "cpuinfo_max_freq")
        try:
            if cur and top and int(top) > 0:
                ratios.append(int(cur) / int(top))
        except ValueError:
            continue
    return round(sum(ratios) / len(ratios), 3) if ratios else None


def throttle_count() -> int | None:
    """Sum of x86 thermal throttle events (core + package) over CPUs; None where the kernel does not count them."""
    total, seen = 0, False
    for d in sorted((sysfs_root() / "devices/system/cpu").glob("cpu[0-9]*/thermal_throttle"))[:1024]:
        for name in ("core_throttle_count", "package_throttle_count"):
            text = _read(d / name)
            if text and text.strip().isdigit():
                total, seen = total + int(text), True
    return total if seen else None


@dataclass(frozen=True)
class Thresholds:
    """When a host counts as busy (the profile's ``measure.max_other_cpu_share`` / ``max_steal_share``)."""

    max_other_cpu_share: float = 0.10
    max_steal_share: float = 0.05

    def breached(self, other_share: float | None, steal_share: float | None) -> tuple[bool, bool]:
        """(other processes' CPU share over its limit, steal over its limit): the one rule for a window and for doctor."""
        return (other_share is not None and other_share > self.max_other_cpu_share,
                steal_share is not None and steal_share > self.max_steal_share)


def summarise(start: CpuTimes | None, end: CpuTimes | None, cpus: int, samples: list[dict],
              limits: Thresholds) -> dict:
    """The ``host_state`` block of one window from the two CPU snapshots and the thread's samples."""
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    block: dict = {"cpus": cpus, "cpus_online": os.cpu_count(), "sample_s": SAMPLE_S, "samples": len(samples),
                   "thresholds": {"max_other_cpu_share": limits.max_other_cpu_share,
                                  "max_steal_share": limits.max_steal_share}}
    reasons = []
    if start is not None and end is not None and end.at_s > start.at_s:
        window = end.at_s - start.at_s
        busy, idle = end.busy - start.busy, end.idle - start.idle
        steal, own = end.steal - start.steal, end.own - start.own
        total = max(busy + idle + steal, 1)
        other_cores = max(0.0, (busy - own) / hz / window)
        block.update(window_s=round(window, 3), own_cpu_cores=round(own / hz / window, 3),
                     other_cpu_cores=round(other_cores, 3), other_cpu_share=round(min(1.0, other_cores / max(cpus, 1)), 3),
                     free_cores=round(max(0.0, cpus - other_cores), 3),  # what other processes left this one
                     steal_share=round(steal / total, 4), iowait_share=round((end.iowait - start.iowait) / total, 4))
        over_share, over_steal = limits.breached(block["other_cpu_share"], block["steal_share"])
        if over_share:
            reasons.append(f"other processes used {other_cores:.2f} of {cpus} CPUs "
                           f"({block['other_cpu_share']:.0%} > {limits.max_other_cpu_share:.0%})")
        if over_steal:
            reasons.append(f"CPU steal {block['steal_share']:.0%} > {limits.max_steal_share:.0%} (VM neighbours)")
    else:
        block["unavailable"] = "no /proc/stat here: contention not measured"
    pick = lambda key, fn: fn(v for s in samples if (v := s.get(key)) is not None) if any(  # noqa: E731
        s.get(key) is not None for s in samples) else None
    block.update(load_1m_max=pick("load_1m", max), cpu_freq_min_ratio=pick("freq_ratio", min),
                 mem_available_min_mb=pick("mem_mb", min), mem_pressure_max=pick("mem_psi", max),
                 cpu_pressure_max=pick("cpu_psi", max))
    t0, t1 = (samples[0].get("throttle"), samples[-1].get("throttle")) if samples else (None, None)
    block["throttle_events"] = t1 - t0 if t0 is not None and t1 is not None else None
    block["contended"] = bool(reasons) if "unavailable" not in block else None
    block["contended_reason"] = "; ".join(reasons) or None
    return block


def _sample() -> dict:
    return {"load_1m": load_1m(), "freq_ratio": cpu_freq_ratio(), "mem_mb": mem_available_mb(),
            "mem_psi": psi_some_avg10("memory"), "cpu_psi": psi_some_avg10("cpu"), "throttle": throttle_count()}


class HostMonitor:
    """``begin()`` / ``end() -> host_state`` around a timed window; samples in a daemon thread meanwhile."""

    def __init__(self, limits: Thresholds | None = None) -> None:
        self.limits = limits or Thresholds()
        self._start: CpuTimes | None = None
        self._samples: list[dict] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def begin(self) -> None:
        self._samples = [_sample()]
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="host-monitor", daemon=True)
        self._thread.start()
        self._start = cpu_times()

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self._samples.append(_sample())

    def end(self) -> dict:
        stop = cpu_times()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._samples.append(_sample())
        return summarise(self._start, stop, cpus_available(), self._samples, self.limits)


def quiet_check(seconds: float = 1.0, limits: Thresholds | None = None) -> dict:
    """The ``host_state`` of ``seconds`` of this process doing nothing: is the machine quiet enough to measure?"""
    mon = HostMonitor(limits)
    mon.begin()
    time.sleep(seconds)
    return mon.end()


def quiet_verdict(other_share: float | None, steal_share: float | None, load_1m: float | None, cpus: int,
                  limits: Thresholds) -> tuple[bool | None, str]:
    """(quiet?, one line) for ``harness doctor``: other processes' CPU share and steal against the thresholds."""
    if other_share is None:
        return None, "could not read /proc/stat: contention is not measured here"
    busy = []
    over_share, over_steal = limits.breached(other_share, steal_share)
    if over_share:
        busy.append(f"other processes use {other_share:.0%} of {cpus} CPUs (> {limits.max_other_cpu_share:.0%})")
    if over_steal:
        busy.append(f"CPU steal {steal_share:.0%} (> {limits.max_steal_share:.0%}: VM neighbours)")
    load = f", load {load_1m:.2f}" if load_1m is not None else ""
    if busy:
        return False, "; ".join(busy) + f"{load}: cells measured now will be marked contended (stop the other work first)"
    return True, f"quiet: other processes {other_share:.0%} of {cpus} CPUs{load}"


def share_between(first: str, second: str) -> tuple[float | None, float | None]:
    """(busy share of all CPUs, steal share) between two ``/proc/stat`` texts read a moment apart by an idle
    reader: what other processes used."""
    a, b = parse_proc_stat(first), parse_proc_stat(second)
    if a is None or b is None:
        return None, None
    busy, idle, steal = b[0] - a[0], b[1] - a[1], b[3] - a[3]
    total = busy + idle + steal
    if total <= 0:
        return None, None
    return round(max(0.0, busy) / total, 3), round(max(0, steal) / total, 4)
