"""Jetson power through jetson-stats' jtop service (``from jtop import jtop``).

Reads each rail's instantaneous ``power`` field (mW) -- never ``avg``, which
is an exponential moving average -- and ``tot`` as the total when the board
has no input rail. The service samples at its own interval (>= 0.5 s, so this
backend is coarse); ``ok()`` returning False while sampling means the service
stalled and is an error, not a clean end. The container needs
``-v /run/jtop.sock:/run/jtop.sock`` and a jetson-stats whose major.minor
matches the host's service.
"""

from __future__ import annotations

import math
import threading
import time

from harness.errors import TelemetryError
from harness.telemetry.sampler import SamplerBase
from harness.telemetry.rails import INPUT_RAILS, input_rail, total_of
from harness.telemetry.trace import Availability, Sample, Trace
from harness.telemetry.zones import clean_temps
from harness.telemetry.backends.sysfs import under_root

MIN_INTERVAL_S = 0.5


def _fix_for(message: str) -> str:
    low = message.lower()
    if "version" in low or "mismatch" in low:
        return (f"jtop client/service version mismatch ({message.strip()}); install the host's jetson-stats "
                "major.minor in the container (pip install 'jetson-stats==X.Y.*') or upgrade the host")
    if "permission" in low:
        return f"jtop socket not accessible ({message.strip()}); add the user to the jtop group or run as root"
    return f"jtop service not reachable ({message.strip()}); run `sudo systemctl restart jtop.service`"


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


class JtopSampler(SamplerBase):
    name = "jtop"

    def __init__(self, interval_ms: int = 500) -> None:
        super().__init__()
        self.interval_s = max(MIN_INTERVAL_S, interval_ms / 1000)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._error: str | None = None

    def _probe(self) -> Availability:
        try:
            from jtop import jtop  # noqa: F401
        except ImportError:
            return Availability(False, "jetson-stats not installed (pip install jetson-stats)")
        sock = under_root("/run/jtop.sock")
        if not sock.exists():
            return Availability(False, "no /run/jtop.sock: jtop service inactive or socket not mounted "
                                       "(sudo systemctl restart jtop.service; docker run -v /run/jtop.sock:/run/jtop.sock)")
        return Availability(True, f"jtop service at {sock}")

    def start(self) -> None:
        from jtop import jtop

        self._trace = Trace(self.name, None, interval_s=self.interval_s, sensor_update_s=self.interval_s)  # jtop's own period
        self._stop.clear()
        self._error = None
        ready = threading.Event()

        def loop() -> None:
            try:
                with jtop(interval=self.interval_s) as j:
                    while not self._stop.is_set():
                        if not j.ok():
                            if not self._stop.is_set():
                                self._error = "jtop stopped delivering data (ok() returned False): the service stalled"
                            return
                        rails, total, scope = rails_from_power(j.power)
                        self.scope = self.scope or scope
                        self._trace.samples.append(Sample(time.perf_counter(), total, rails, temps_from(j.temperature)))
                        ready.set()  # start() returns once a first reading exists: a window opened now is covered
            except Exception as e:  # noqa: BLE001 - translated in stop()
                self._error = _fix_for(str(e))
            finally:
                ready.set()

        self._thread = threading.Thread(target=loop, name="telemetry-jtop", daemon=True)
        self._thread.start()
        ready.wait(timeout=max(10.0, 4 * self.interval_s))
        if self._error:
            raise TelemetryError(f"jtop: {self._error}")

    def stop(self) -> Trace:
        if self._thread is None or self._trace is None:
            raise TelemetryError("jtop: stop() before start()", "call start() first")
        self._stop.set()
        self._thread.join(timeout=self.interval_s * 4 + 5)
        self._thread = None
        if self._error:
            raise TelemetryError(f"jtop: {self._error}", "run `harness telemetry probe` on the device")
        self._trace.scope = self.scope
        return self._trace
