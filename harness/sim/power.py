"""The simulated board's power: rails that follow the load of the board's processes and the power mode.

Model (per tick): ``P = P_idle + u * max(0.5, budget_W - P_idle)`` for the module, where ``u`` (0..1) is the share of
this machine's CPUs the board's processes used over the last ``window`` ticks and ``budget_W`` the power mode's
budget (``SimKind.budget_w``): more load gives more power, a lower mode less. The input rail (``VDD_IN`` where the
board has one) carries the whole of it; the sub-rails share 85 % of the dynamic part (CPU/GPU rails more than the
rest), and a board without an input rail (AGX Orin) shares all of it, so its rail sum is the module total.
Currents are written in mA at the shape's voltages, as the INA3221 driver shows them.

The board's processes are the daemon's descendants: it is a child subreaper (``prctl``), so the runner a deploy
detaches with ``setsid nohup`` stays in its tree. Their CPU time is ``utime + stime`` of every live descendant plus
``cutime + cstime`` (the reaped ones), read from ``/proc/<pid>/stat`` and ``/proc/<pid>/task/*/children``.
"""

from __future__ import annotations

import os
import time
from collections import deque
from pathlib import Path

from harness.sim.board_tree import Shape
from harness.telemetry.rails import input_rail

SUB_RAIL_SHARE = 0.85  # of the dynamic power, what the sub-rails of a board with an input rail see (the rest: losses)
MIN_DYNAMIC_W = 0.5
TICK_HZ = os.sysconf("SC_CLK_TCK")


def module_power_w(idle_w: float, budget_w: float, util: float) -> float:
    """The module's power (W) at CPU share ``util`` (clamped to 0..1) under a mode of ``budget_w``."""
    u = min(1.0, max(0.0, util))
    return idle_w + u * max(MIN_DYNAMIC_W, budget_w - idle_w)


def _named(shape: Shape) -> list[tuple[str, int, int]]:
    return [r for rails in shape.ina3221 for r in rails if r[0] != "NC"]


def idle_w(shape: Shape) -> float:
    """The shape's own readings as the idle module power (W): its input rail, else the sum of its rails."""
    rails = {label: mv * ma / 1e6 for label, mv, ma in _named(shape)}
    rail = input_rail(rails)
    return rails[rail] if rail else sum(rails.values())


def rail_readings(shape: Shape, budget_w: float, util: float) -> dict[str, tuple[int, int]]:
    """label -> (mV, mA) for every named rail of ``shape`` at CPU share ``util`` under a ``budget_w`` mode."""
    named = _named(shape)
    base = idle_w(shape)
    dynamic_w = module_power_w(base, budget_w, util) - base
    rail = input_rail([label for label, _, _ in named])
    subs = [r for r in named if r[0] != rail]
    weights = {label: (1.0 if ("CPU" in label or "GPU" in label) else 0.4) for label, _, _ in subs}
    total_weight = sum(weights.values()) or 1.0
    share = SUB_RAIL_SHARE if rail else 1.0
    out = {}
    for label, mv, ma in named:
        w = dynamic_w if label == rail else dynamic_w * share * weights[label] / total_weight
        out[label] = (mv, round(ma + (w * 1e6 / mv if mv else 0)))
    return out


def _stat_times(pid: int, own: bool) -> float:
    """CPU seconds of ``pid`` (utime + stime, when ``own``) and of its reaped children (cutime + cstime)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rfind(")") + 2:].split()  # after the command name, which may hold spaces and parentheses
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return ((utime + stime if own else 0) + cutime + cstime) / TICK_HZ


def _children(pid: int) -> list[int]:
    """The children of every thread of ``pid`` ([] once it is gone)."""
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        try:
            out += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except (OSError, ValueError):
            continue
    return out


def tree_cpu_s(root_pid: int) -> float:
    """CPU seconds used by ``root_pid``'s descendants, living and reaped (not by ``root_pid`` itself)."""
    total, seen, stack = _stat_times(root_pid, own=False), {root_pid}, _children(root_pid)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _stat_times(pid, own=True)
        stack += _children(pid)
    return total


class BoardLoad:
    """The share of this machine's CPUs the board's processes used over the last ``window`` samples (0..1)."""

    def __init__(self, root_pid: int, window: int = 5, cpus: int | None = None) -> None:
        self.root_pid = root_pid
        self.cpus = cpus or len(os.sched_getaffinity(0))
        self.samples: deque[tuple[float, float]] = deque(maxlen=window + 1)
        self.peak_cpu_s = 0.0

    def sample(self) -> float:
        # a process's time moves to its parent's cutime only once it is reaped: never let the total step back
        self.peak_cpu_s = max(self.peak_cpu_s, tree_cpu_s(self.root_pid))
        self.samples.append((time.monotonic(), self.peak_cpu_s))
        (t0, c0), (t1, c1) = self.samples[0], self.samples[-1]
        return 0.0 if t1 <= t0 else min(1.0, max(0.0, (c1 - c0) / ((t1 - t0) * self.cpus)))
