"""The Sampler protocol every backend implements, a null sampler, and the shared probing/polling bases.

Lifecycle: ``available()`` (cached, never raises) -> ``start()`` -> ``mark(label)``
... -> ``stop() -> Trace`` (repeatable) -> ``close()`` (ends a sampling process).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from harness.errors import TelemetryError
from harness.telemetry.trace import Availability, Sample, Trace


class Sampler(Protocol):
    name: str
    scope: str | None

    def available(self) -> Availability: ...
    def start(self) -> None: ...
    def mark(self, label: str) -> None: ...
    def stop(self) -> Trace: ...
    def close(self) -> None: ...


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

    def close(self) -> None:
        """Nothing to release."""


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

    def close(self) -> None:
        """Release what the backend holds (a connection, a process); the base holds nothing."""


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
    sensor_update_s: float | None = None  # set by a backend whose sensor declares its update period
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
        self._trace = Trace(self.name, self.scope, interval_s=self.interval_s, sensor_update_s=self.sensor_update_s)
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
