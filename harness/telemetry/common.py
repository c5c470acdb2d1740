"""Samples, traces, the Sampler protocol and the energy maths over a window.

Timestamps are ``time.perf_counter()`` seconds: the same monotonic clock the
runner's frame timers use, so a trace lines up with the timed window exactly.
Power is mW, energy mJ (mW x s), temperature degC.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from harness.errors import TelemetryError

OFFLINE_TEMP_C = -256.0  # Jetson sensors that are powered down read -256 degC


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
    interval_s: float | None = None

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


def clean_temps(temps: dict[str, float]) -> dict[str, float]:
    """Drop offline sensors (-256 degC) and impossible readings."""
    return {k: v for k, v in temps.items() if v is not None and v > OFFLINE_TEMP_C + 1 and v < 200}


def derive_power_from_counter(trace: Trace) -> Trace:
    """Per-sample power (mW) from energy-counter deltas, for idle/mean power and plots."""
    prev = None
    for s in trace.samples:
        if prev is not None and s.t_s > prev.t_s and s.energy_mj is not None and prev.energy_mj is not None:
            s.total_mw = (s.energy_mj - prev.energy_mj) / (s.t_s - prev.t_s)
        prev = s
    return trace


# --- window maths -------------------------------------------------------------------


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


# --- the Sampler protocol and a threaded base ---------------------------------------


class Sampler(Protocol):
    name: str

    def available(self) -> Availability: ...
    def start(self) -> None: ...
    def mark(self, label: str) -> None: ...
    def stop(self) -> Trace: ...


class NullSampler:
    """No telemetry: runs complete, power fields are null with this reason."""

    name = "none"
    scope = None

    def __init__(self, reason: str = "no telemetry backend selected") -> None:
        self.reason = reason
        self._trace = Trace("none", None)

    def available(self) -> Availability:
        return Availability(True, self.reason)

    def start(self) -> None:
        self._trace = Trace("none", None)

    def mark(self, label: str) -> None:
        self._trace.marks[label] = time.perf_counter()

    def stop(self) -> Trace:
        return self._trace


class SamplerBase:
    """What every backend shares: a cached, never-raising probe and marks on the trace.

    Subclasses set ``name`` and implement ``_probe() -> Availability``,
    ``start()`` (creating ``self._trace``) and ``stop() -> Trace``.
    """

    name = "base"
    scope: str | None = None

    def __init__(self) -> None:
        self._avail: Availability | None = None
        self._trace: Trace | None = None

    def available(self) -> Availability:
        if self._avail is None:
            try:
                self._avail = self._probe()
            except Exception as e:  # noqa: BLE001 - a probe must never raise
                self._avail = Availability(False, f"probe failed: {type(e).__name__}: {e}")
        return self._avail

    def _probe(self) -> Availability:  # pragma: no cover - overridden
        raise NotImplementedError

    def mark(self, label: str) -> None:
        if self._trace is None:
            raise TelemetryError(f"{self.name}: mark({label!r}) before start()", "call start() first")
        self._trace.marks[label] = time.perf_counter()


def _poll(read, interval_s: float, wait_for_stop) -> tuple[list[Sample], str | None]:
    """Call ``read`` every ``interval_s`` until ``wait_for_stop(timeout)`` is True."""
    samples: list[Sample] = []
    next_t = time.perf_counter() + interval_s
    while not wait_for_stop(max(0.0, next_t - time.perf_counter())):
        try:
            samples.append(read(time.perf_counter()))
        except Exception as e:  # noqa: BLE001 - reported by stop()
            return samples, f"{type(e).__name__}: {e}"
        next_t += interval_s
        if next_t < time.perf_counter():  # fell behind: do not burst
            next_t = time.perf_counter() + interval_s
    return samples, None


def _poll_child(module: str, cls_name: str, interval_ms: int, conn) -> None:
    """Body of the sampling process: probe once, then poll between 'start' and 'stop'."""
    import importlib

    sampler = getattr(importlib.import_module(module), cls_name)(interval_ms)
    sampler.isolate = False
    avail = sampler.available()
    conn.send(avail)
    if not avail.ok:
        return
    try:
        while (cmd := conn.recv()) != "exit":
            if cmd == "start":
                samples, err = _poll(sampler.read, sampler.interval_s, conn.poll)
                conn.recv()  # the 'stop' (already waiting when polling ended normally)
                conn.send((samples, err))
    except (EOFError, OSError):  # the measured process went away: nothing left to do
        return


class PollingSampler(SamplerBase):
    """Base for backends read by polling every interval.

    By default the polling runs in a separate process (``isolate``): it never
    takes the GIL from the process being measured. Timestamps stay comparable
    because ``perf_counter`` is CLOCK_MONOTONIC, shared by all processes on
    Linux. ``isolate = False`` polls from a thread instead (used where the
    backend is a test double living in this process).

    Subclasses set ``name``/``scope`` and implement ``_probe()`` (-> Availability)
    and ``read(t_s) -> Sample``.
    """

    name = "polling"
    isolate = True
    START_TIMEOUT_S = 60.0

    def __init__(self, interval_ms: int = 100) -> None:
        super().__init__()
        self.interval_s = interval_ms / 1000.0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._result: tuple[list[Sample], str | None] | None = None
        self._proc = None
        self._conn = None
        self._sampling = False

    def read(self, t_s: float) -> Sample:  # pragma: no cover - overridden
        raise NotImplementedError

    def start(self) -> None:
        if self._sampling:
            raise TelemetryError(f"{self.name}: start() called while sampling", "call stop() first")
        self._trace = Trace(self.name, self.scope, interval_s=self.interval_s)
        self._trace.samples.append(self.read(time.perf_counter()))  # open the window with a fresh sample
        if self.isolate:
            self._ensure_process()
            self._conn.send("start")
        else:
            self._stop.clear()
            self._result = None

            def run() -> None:
                self._result = _poll(self.read, self.interval_s, self._stop.wait)

            self._thread = threading.Thread(target=run, name=f"telemetry-{self.name}", daemon=True)
            self._thread.start()
        self._sampling = True

    def _ensure_process(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # never fork a process that runs torch threads
        self._conn, child = ctx.Pipe()
        cls = type(self)
        self._proc = ctx.Process(target=_poll_child, args=(cls.__module__, cls.__name__, round(self.interval_s * 1000), child),
                                 name=f"telemetry-{self.name}", daemon=True)
        self._proc.start()
        child.close()
        if not self._conn.poll(self.START_TIMEOUT_S):
            raise TelemetryError(f"{self.name}: sampling process did not start in {self.START_TIMEOUT_S:g} s", "check the host's load")
        avail = self._conn.recv()
        if not avail.ok:
            raise TelemetryError(f"{self.name}: not available in the sampling process: {avail.reason}")

    def stop(self) -> Trace:
        if not self._sampling or self._trace is None:
            raise TelemetryError(f"{self.name}: stop() before start()", "call start() first")
        self._sampling = False
        if self.isolate:
            self._conn.send("stop")
            if not self._conn.poll(self.START_TIMEOUT_S):
                raise TelemetryError(f"{self.name}: sampling process stopped answering", "run `harness telemetry probe`")
            samples, err = self._conn.recv()
        else:
            self._stop.set()
            self._thread.join()
            self._thread = None
            samples, err = self._result
        if err is not None:
            raise TelemetryError(f"{self.name}: sampling failed: {err}", "run `harness telemetry probe`")
        self._trace.samples += samples
        self._trace.samples.append(self.read(time.perf_counter()))  # close the window with a fresh sample
        return self._trace

    def close(self) -> None:
        """End the sampling process (it is a daemon: it also ends with this process)."""
        if self._proc is not None and self._proc.is_alive():
            self._conn.send("exit")
            self._proc.join(timeout=5)
        self._proc = None
