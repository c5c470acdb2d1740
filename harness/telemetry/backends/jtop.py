"""Jetson power through jetson-stats' jtop service (``from jtop import jtop``).

Reads each rail's instantaneous ``power`` field (mW, an int the service truncates) -- never ``avg``, a running
mean -- and the board's input rail, which the service takes out of ``rail`` and returns as ``tot`` with its
``name`` (``tot`` is the sum of the rails on a board without one). The service samples at its own period: the
first client's ``interval`` (>= 0.5 s), which a later client cannot change, so the trace records the service's
``interval`` as its update period, not the one asked for. A stall shows three ways, all errors here, never a
clean end: ``ok()`` returning False (nothing for 3 periods), a repeated reading (same ``uptime``: the service's
sampling process stopped while its socket still answers), or no answer at all (the client blocked on the socket).

Socket: ``HARNESS_JTOP_SOCKET`` (tests start the real service on a fake board, ``harness.testing.real_jtop``),
else ``/run/jtop.sock`` under ``HARNESS_SYSFS_ROOT`` (``/`` normally); the client is pointed at the same path
(``jtop.service.JTOP_PIPE``). The container needs ``-v /run/jtop.sock:/run/jtop.sock`` and a jetson-stats whose
major.minor matches the host's service.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

from harness.errors import TelemetryError
from harness.telemetry.sampler import SamplerBase
from harness.telemetry.rails import INPUT_RAILS, input_rail, total_of
from harness.telemetry.trace import Availability, Sample, Trace
from harness.telemetry.zones import clean_temps
from harness.telemetry.backends.sysfs import under_root

MIN_INTERVAL_S = 0.5
SOCKET_ENV = "HARNESS_JTOP_SOCKET"
DEFAULT_SOCKET = "/run/jtop.sock"
STALL_PERIODS = 3  # jetson-stats' own timeout (TIMEOUT_GAIN): no new reading for 3 periods is a stall


def socket_path() -> Path:
    """Where the jtop service listens: ``HARNESS_JTOP_SOCKET``, else ``/run/jtop.sock`` under ``HARNESS_SYSFS_ROOT``."""
    env = os.environ.get(SOCKET_ENV)
    return Path(env) if env else under_root(DEFAULT_SOCKET)


def _client(jtop_module, sock: Path, interval_s: float):
    """A jtop client for the service at ``sock``: jetson-stats' client connects to ``jtop.service.JTOP_PIPE``,
    read when the client is created."""
    service = getattr(jtop_module, "service", None)
    if service is not None and hasattr(service, "JTOP_PIPE"):
        service.JTOP_PIPE = str(sock)
    return jtop_module.jtop(interval=interval_s)


def _period(j, asked_s: float) -> float:
    """The service's sampling period (s): ``j.interval``, set by the first client, whatever this one asked."""
    value = _number(getattr(j, "interval", None))
    return value if value and value > 0 else asked_s


def _uptime_s(j) -> float | None:
    """The service's uptime stamp of the current reading (s): the same stamp twice is the same reading."""
    try:
        return j.uptime.total_seconds()
    except (AttributeError, KeyError, TypeError):
        return None


def _fix_for(error: BaseException | str) -> str:
    """What went wrong talking to the service and what to do, from the client's exception (or message)."""
    if isinstance(error, str):
        message = error
    else:
        message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    text = " ".join(message.split())
    low = text.lower()
    if "version" in low or "mismatch" in low:
        return (f"jtop client/service version mismatch ({text}); install the host's jetson-stats "
                "major.minor in the container (pip install 'jetson-stats==X.Y.*') or upgrade the host")
    if "permission" in low or "can't access" in low:
        return (f"jtop socket not accessible ({text}); add the user to the jtop group (the container: "
                "--group-add with the socket's group) or run as root")
    if isinstance(error, (EOFError, ConnectionError)) or "lost connection" in low:
        return (f"the jtop service went away while sampling ({text}); check `systemctl status jtop.service` "
                "and restart it (`sudo systemctl restart jtop.service`)")
    return f"jtop service not reachable ({text}); run `sudo systemctl restart jtop.service`"


def _number(value) -> float | None:
    """A finite int or float from the service (never a string, a bool or a container); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:  # an int past a float's range
        return None
    return value if math.isfinite(value) else None


def rails_from_power(power: dict) -> tuple[dict[str, float], float | None, str | None]:
    """jtop's ``power`` dict -> (rails mW, total mW, scope), from instantaneous fields only (a value that is not
    a finite number is left out).

    The service takes the board's input rail (``VIN``, ``POM_5V_IN``, ``VDD_IN``) out of ``rail`` and returns it
    as ``tot`` with its ``name``; without one, ``tot`` is the sum of the rails. Either way the rails here include
    the input rail, so the scope (``telemetry.rails.scope_of``) names what the total is, as the sysfs backend's does.
    """
    rails = {str(name): mw for name, v in (power.get("rail") or {}).items()
             if isinstance(v, dict) and "NC" not in str(name).upper() and (mw := _number(v.get("power"))) is not None}
    tot = power.get("tot") if isinstance(power.get("tot"), dict) else {}
    tot_mw = _number(tot.get("power"))
    name = tot.get("name")
    if isinstance(name, str) and name in INPUT_RAILS and tot_mw is not None:
        rails[name] = tot_mw
    total, scope = total_of(rails)
    if input_rail(rails) is None and tot_mw is not None:
        total = tot_mw  # the service's own sum (it also counts power_supply monitors this backend names in rails)
    return rails, total, scope


def temps_from(temperature: dict) -> dict[str, float]:
    out = {}
    for name, v in (temperature or {}).items():
        if isinstance(v, dict):
            if v.get("online", True) and (c := _number(v.get("temp"))) is not None:
                out[name] = c
        elif (c := _number(v)) is not None:
            out[name] = c
    return clean_temps(out)


class _Session:
    """One start() .. stop(): the trace its client thread fills, when stop() asked for the end, what went wrong.

    A thread left blocked on a stalled service keeps its own session, never the next one's trace.
    """

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.ready = threading.Event()  # set at the first reading, or when the thread ends
        self.stop_at: float | None = None  # perf_counter time of the stop() call
        self.error: str | None = None
        self.period_s: float | None = None  # the service's sampling period


class JtopSampler(SamplerBase):
    """Records every reading the jtop service publishes (one per service period) from a client thread."""

    name = "jtop"
    START_TIMEOUT_S = 10.0  # connecting plus the first reading; a service that does not answer is an error

    def __init__(self, interval_ms: int = 500) -> None:
        super().__init__()
        self.interval_s = max(MIN_INTERVAL_S, interval_ms / 1000)
        self.service_interval_s: float | None = None  # the period the service actually samples at (s)
        self._thread: threading.Thread | None = None
        self._session: _Session | None = None

    def _probe(self) -> Availability:
        try:
            import jtop  # noqa: F401
        except ImportError:
            return Availability(False, "jetson-stats not installed (pip install jetson-stats)")
        sock = socket_path()
        if not sock.exists():
            return Availability(False, f"no {sock}: jtop service inactive or socket not mounted "
                                       "(sudo systemctl restart jtop.service; docker run -v /run/jtop.sock:/run/jtop.sock)")
        return Availability(True, f"jtop service at {sock}")

    def start(self) -> None:
        import jtop

        if self._thread is not None:
            raise TelemetryError("jtop: start() called while sampling", "call stop() first")
        sock = socket_path()
        self._trace = Trace(self.name, None, interval_s=self.interval_s, sensor_update_s=self.interval_s)
        session = self._session = _Session(self._trace)
        thread = threading.Thread(target=self._run, args=(session, jtop, sock), name="telemetry-jtop", daemon=True)
        thread.start()
        if not session.ready.wait(timeout=self.START_TIMEOUT_S):
            session.stop_at = 0.0  # should the service ever answer, the thread ends at its first reading
            raise TelemetryError(f"jtop: no reading from the service at {sock} within {self.START_TIMEOUT_S:g} s "
                                 "(the service is stalled)", "run `sudo systemctl restart jtop.service`")
        if session.error:
            raise TelemetryError(f"jtop: {session.error}")
        self._thread = thread

    def _run(self, session: _Session, jtop_module, sock: Path) -> None:
        """The client thread: connect, then record each new reading until one taken after stop() was called.

        A service already sampling slower than asked (another client came first) keeps its period; the client gives
        up (ok() False) after 3 of its OWN intervals, so it is reopened with the service's period.
        """
        try:
            interval = self.interval_s
            with _client(jtop_module, sock, interval) as j:
                period = _period(j, interval)
                if period <= interval:
                    return self._sample(j, session, period)
            with _client(jtop_module, sock, period) as j:
                self._sample(j, session, _period(j, period))
        except Exception as e:  # noqa: BLE001 - translated in start()/stop()
            session.error = _fix_for(e)
        finally:
            session.ready.set()

    def _sample(self, j, session: _Session, period: float) -> None:
        session.period_s = self.service_interval_s = session.trace.interval_s = session.trace.sensor_update_s = period
        last_stamp, last_new = None, time.perf_counter()
        while True:
            if not j.ok():
                session.error = (f"jtop stopped delivering data (ok() returned False: no reading for {STALL_PERIODS} "
                                 f"periods of {period:g} s): the service stalled")
                return
            now = time.perf_counter()
            stamp = _uptime_s(j)
            if stamp is not None and stamp == last_stamp:  # the socket answers, the service did not sample
                if now - last_new > STALL_PERIODS * period:
                    session.error = (f"jtop repeated its last reading for {now - last_new:.1f} s: the service's "
                                     "sampling stalled")
                    return
                continue
            last_stamp, last_new = stamp, now
            rails, total, scope = rails_from_power(j.power)
            self.scope = self.scope or scope
            session.trace.samples.append(Sample(now, total, rails, temps_from(j.temperature)))
            session.ready.set()  # start() returns once a first reading exists: a window opened now is covered
            if session.stop_at is not None and now >= session.stop_at:
                return  # a reading taken after stop() was called closes the window

    def stop(self) -> Trace:
        """End sampling at the first reading after this call (a window marked before it is covered)."""
        if self._thread is None or self._session is None:
            raise TelemetryError("jtop: stop() before start()", "call start() first")
        session, thread, self._thread = self._session, self._thread, None
        wait_s = (STALL_PERIODS + 1) * (session.period_s or self.interval_s) + 2.0
        session.stop_at = time.perf_counter()
        thread.join(timeout=wait_s)
        if thread.is_alive():
            raise TelemetryError(f"jtop: the service stopped answering (no reply within {wait_s:g} s)",
                                 "run `sudo systemctl restart jtop.service`, then `harness telemetry probe` on the device")
        if session.error:
            raise TelemetryError(f"jtop: {session.error}", "run `harness telemetry probe` on the device")
        session.trace.scope = self.scope
        return session.trace
