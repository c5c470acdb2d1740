"""Samples and traces: what a sampler records (timestamps are ``time.perf_counter()`` seconds).

The runner's frame timers use the same monotonic clock, so a trace lines up
with the timed window exactly. Power is mW, energy mJ (mW x s), temperature degC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np



@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""


@dataclass
class Sample:
    t_s: float
    total_mw: float | None = None
    rails_mw: dict[str, float] = field(default_factory=dict)
    temps_c: dict[str, float] = field(default_factory=dict)
    clocks_mhz: dict[str, float] = field(default_factory=dict)
    energy_mj: float | None = None  # cumulative, unwrapped counter (backends that have one)
    throttle_events: int | None = None  # cumulative throttle counter, where the backend has one


@dataclass
class Trace:
    """Samples of one sampling session plus named marks (perf_counter seconds)."""

    backend: str
    scope: str | None
    samples: list[Sample] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)
    interval_s: float | None = None  # how often the sampler polled
    sensor_update_s: float | None = None  # how often the sensor itself updates, when it says so

    def times(self) -> np.ndarray:
        return np.array([s.t_s for s in self.samples], dtype=np.float64)

    def power(self) -> np.ndarray:
        return np.array([np.nan if s.total_mw is None else s.total_mw for s in self.samples], dtype=np.float64)

    def counter(self) -> np.ndarray | None:
        if not self.samples or any(s.energy_mj is None for s in self.samples):
            return None
        return np.array([s.energy_mj for s in self.samples], dtype=np.float64)

    def to_csv(self) -> str:
        rails = sorted({k for s in self.samples for k in s.rails_mw})
        temps = sorted({k for s in self.samples for k in s.temps_c})
        clocks = sorted({k for s in self.samples for k in s.clocks_mhz})
        head = ["t_s", "total_mw", "energy_mj", "throttle_events"] + [f"rail_{r}_mw" for r in rails] \
            + [f"temp_{t}_c" for t in temps] + [f"clock_{c}_mhz" for c in clocks]
        lines = [",".join(head)]
        for s in self.samples:
            row = [f"{s.t_s:.6f}", _fmt(s.total_mw), _fmt(s.energy_mj), _fmt(s.throttle_events)]
            row += [_fmt(s.rails_mw.get(r)) for r in rails] + [_fmt(s.temps_c.get(t)) for t in temps]
            row += [_fmt(s.clocks_mhz.get(c)) for c in clocks]
            lines.append(",".join(row))
        lines += [f"# mark {k} {v:.6f}" for k, v in self.marks.items()]
        return "\n".join(lines) + "\n"


def _fmt(v) -> str:
    return "" if v is None else f"{v:g}"


def derive_power_from_counter(trace: Trace) -> Trace:
    """Per-sample power (mW) from energy-counter deltas, for idle/mean power and plots."""
    prev = None
    for s in trace.samples:
        if prev is not None and s.t_s > prev.t_s and s.energy_mj is not None and prev.energy_mj is not None:
            s.total_mw = (s.energy_mj - prev.energy_mj) / (s.t_s - prev.t_s)
        prev = s
    return trace
