"""Energy and power over a window of a trace (mJ, W), and the window's other facts (peaks, throttling, rate)."""

from __future__ import annotations

import numpy as np

from harness.telemetry.trace import Sample, Trace
from harness.telemetry.zones import counted


def window_energy_mj(trace: Trace, t0: float, t1: float) -> float | None:
    """Energy (mJ) between perf_counter times t0 and t1.

    Counter backends: the counter interpolated at both edges, subtracted.
    Power backends: trapezoid over the samples inside the window plus the
    power interpolated at both edges. None when the samples do not cover
    the window (a sample at or before t0 and one at or after t1 are needed).
    """
    if t1 <= t0:
        raise ValueError(f"empty window [{t0}, {t1}]")
    t = trace.times()
    if t.size < 2 or t[0] > t0 or t[-1] < t1:
        return None
    counter = trace.counter()
    if counter is not None:
        e0, e1 = np.interp([t0, t1], t, counter)
        return float(e1 - e0)
    p = trace.power()
    ok = ~np.isnan(p)
    t, p = t[ok], p[ok]
    if t.size < 2 or t[0] > t0 or t[-1] < t1:
        return None
    inside = (t > t0) & (t < t1)
    tt = np.concatenate([[t0], t[inside], [t1]])
    pp = np.concatenate([[np.interp(t0, t, p)], p[inside], [np.interp(t1, t, p)]])
    return float(np.sum((pp[1:] + pp[:-1]) * 0.5 * np.diff(tt)))


def window_mean_w(trace: Trace, t0: float, t1: float) -> float | None:
    e = window_energy_mj(trace, t0, t1)
    return None if e is None else e / (t1 - t0) / 1000.0


def samples_in(trace: Trace, t0: float, t1: float) -> list[Sample]:
    return [s for s in trace.samples if t0 <= s.t_s <= t1]


def peak_temps_c(trace: Trace, t0: float, t1: float) -> dict[str, float]:
    """Highest reading per zone among samples in [t0, t1]."""
    out: dict[str, float] = {}
    for s in samples_in(trace, t0, t1):
        for k, v in s.temps_c.items():
            out[k] = max(v, out.get(k, v))
    return out


def throttle_delta(trace: Trace, t0: float, t1: float) -> int | None:
    inside = [s.throttle_events for s in samples_in(trace, t0, t1) if s.throttle_events is not None]
    return (inside[-1] - inside[0]) if len(inside) >= 2 else None


def mean_interval_ms(trace: Trace) -> float | None:
    t = trace.times()
    return float(np.diff(t).mean() * 1000) if t.size >= 2 else None


def measured_update_s(trace: Trace) -> float | None:
    """The sensor's real update period, seen in the trace: the median time between readings that changed.

    Polling faster than the sensor updates repeats the same value; only changes carry information.
    None when fewer than three changes were seen (a perfectly steady reading says nothing about its period).
    """
    values = trace.counter()
    if values is None:
        values = trace.power()
    t = trace.times()
    if t.size < 4:
        return None
    changed = np.flatnonzero(np.abs(np.diff(values)) > 1e-9) + 1
    if changed.size < 3:
        return None
    return float(np.median(np.diff(t[changed])))


def hottest_c(trace: Trace, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """(times, hottest zone) of the samples in [t0, t1] that have temperatures that count (``zones.counted``:
    never a PMIC placeholder or a faulty sensor)."""
    pts = [(s.t_s, max(c.values())) for s in samples_in(trace, t0, t1) if (c := counted(s.temps_c))]
    if not pts:
        return np.zeros(0), np.zeros(0)
    a = np.asarray(pts, dtype=np.float64)
    return a[:, 0], a[:, 1]


def temp_slope_c_per_min(trace: Trace, t0: float, t1: float) -> tuple[float | None, float | None]:
    """(hottest zone at the window's start, least-squares slope of the hottest zone over the window in C/min)."""
    t, c = hottest_c(trace, t0, t1)
    if t.size == 0:
        return None, None
    start = float(c[0])
    if t.size < 3 or t[-1] - t[0] <= 0:
        return start, None
    slope_per_s = float(np.polyfit(t - t[0], c, 1)[0])
    return start, slope_per_s * 60.0
