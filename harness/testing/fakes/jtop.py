"""A stand-in for jetson-stats' ``jtop`` module (``sys.modules['jtop'] = FakeJtopModule(...)``), in this process.

It behaves as the real client of jetson-stats 7.2 does against its service (checked against the real service on
fake boards in ``tests/telemetry/backends/test_real_jtop.py``):

- ``power``: the input rail (``VIN``, ``POM_5V_IN``, ``VDD_IN``, first found) is taken out of ``rail`` and returned
  as ``tot`` with its ``name``; without one ``tot`` is ``{'power': sum, 'avg': sum}`` of the rails. Each rail is
  ``{'volt', 'curr', 'power', 'online', 'avg'}`` with ``power`` an int (mW, truncated) and ``avg`` the service's
  running mean ``(power + previous avg) // 2``.
- ``temperature``: ``{name: {'temp': degC, 'online': bool}}``; an offline sensor reads -256.0 with online False.
- ``ok()`` returns the reading fetched on connecting at once, then blocks until the next one (one per service
  period); it returns False, for good, after 3 of the CLIENT's intervals without one (a stalled service -- or a
  service that samples slower than that); after a lost connection it raises the error the client thread stored
  (``ConnectionResetError``).
- ``interval`` is the service's period: the first client's, which a later client cannot change
  (``service_interval_s``); ``uptime`` stamps each reading (a repeated stamp is a repeated reading).
- Connecting raises ``JtopException`` when nothing exists at ``service.JTOP_PIPE`` (as the real client does),
  or ``connect_error`` when given (e.g. a version mismatch).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from types import SimpleNamespace

INPUT_RAILS = ("VIN", "POM_5V_IN", "VDD_IN")  # jetson-stats' order (jtop/core/power.py total_power)
STALL_PERIODS = 3  # the real client's TIMEOUT_GAIN
NOT_ACTIVE = "The jtop.service is not active. Please run:\nsudo jtop --install-service"


class JtopException(Exception):
    pass


class FakeJtopModule:
    """``jtop(interval=...)`` yielding one reading per service period from ``rails`` (name -> mW).

    ``set_rail`` changes a load between readings. Faults, counted in readings delivered: ``stall_after`` (the
    service stops: ok() goes False after 3 periods), ``repeat_after`` (its sampling stops while its socket answers:
    the same reading, same ``uptime``, every 3 periods), ``lose_after`` (the connection drops: ok() raises).
    """

    JtopException = JtopException

    def __init__(self, rails: dict[str, float], temps_c: dict[str, float] | None = None,
                 service_interval_s: float | None = None, stall_after: int | None = None,
                 repeat_after: int | None = None, lose_after: int | None = None, connect_error: str | None = None) -> None:
        self.rails = dict(rails)
        self.temps_c = {"cpu": 48.5, "cv0": -256.0} if temps_c is None else temps_c
        self.service_interval_s = service_interval_s
        self.stall_after, self.repeat_after, self.lose_after = stall_after, repeat_after, lose_after
        self.connect_error = connect_error
        self.intervals: list[float] = []  # what each client asked for
        self.service = SimpleNamespace(JTOP_PIPE="/run/jtop.sock")
        self.jtop = self._client_class()

    def set_rail(self, name: str, mw: float) -> None:
        self.rails[name] = mw

    def _client_class(self):
        module = self

        class jtop:  # noqa: N801 - mirrors the real class name
            def __init__(self, interval: float = 1.0) -> None:
                module.intervals.append(interval)
                self._interval = float(interval)
                self.interval = module.service_interval_s or self._interval
                self._reads, self._avg, self._stats = 0, {}, None
                self._fresh, self._running = False, True

            def __enter__(self):
                if not os.path.exists(module.service.JTOP_PIPE):
                    raise JtopException(NOT_ACTIVE)
                if module.connect_error:
                    raise JtopException(module.connect_error)
                self._read()  # the real client waits for a first reading before returning
                self._fresh = True
                return self

            def __exit__(self, *exc):
                return False

            def _read(self) -> None:
                self._reads += 1
                if module.repeat_after is not None and self._reads > module.repeat_after and self._stats:
                    return  # the service's sampling stopped: the same reading again
                self._stats = {"power": self._power(), "temperature": self._temperature(),
                               "uptime": time.monotonic()}

            def ok(self):
                if not self._running:
                    return False
                if self._fresh:
                    self._fresh = False
                    return True
                n = self._reads
                stalled = module.stall_after is not None and n >= module.stall_after
                if stalled or self.interval > STALL_PERIODS * self._interval:
                    time.sleep(STALL_PERIODS * self._interval)  # the real client waits its interval x 3, then gives up
                    self._running = False
                    return False
                if module.lose_after is not None and n >= module.lose_after:
                    time.sleep(self.interval)
                    raise ConnectionResetError(104, "Connection reset by peer")
                repeating = module.repeat_after is not None and n >= module.repeat_after
                time.sleep(STALL_PERIODS * self._interval if repeating else self.interval)
                self._read()
                return True

            def _power(self) -> dict:
                rails = {}
                for name, mw in module.rails.items():
                    power = int(mw)
                    avg = (power + self._avg[name]) // 2 if name in self._avg else power
                    self._avg[name] = avg
                    rails[name] = {"volt": 5000, "curr": int(mw / 5), "power": power, "online": True, "avg": avg}
                name = next((n for n in INPUT_RAILS if n in rails), None)
                if name:
                    return {"rail": {k: v for k, v in rails.items() if k != name}, "tot": {**rails[name], "name": name}}
                return {"rail": rails, "tot": {"power": sum(v["power"] for v in rails.values()),
                                               "avg": sum(v["avg"] for v in rails.values())}}

            def _temperature(self) -> dict:
                return {k: {"temp": float(c), "online": c != -256} for k, c in module.temps_c.items()}

            @property
            def power(self):
                return self._stats["power"]

            @property
            def temperature(self):
                return self._stats["temperature"]

            @property
            def uptime(self):
                return timedelta(seconds=self._stats["uptime"])

        return jtop
