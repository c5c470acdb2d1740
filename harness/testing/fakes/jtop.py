"""A stand-in for jetson-stats' ``jtop`` module (``sys.modules['jtop'] = FakeJtopModule(...)``)."""

from __future__ import annotations

import time


class JtopException(Exception):
    pass


class FakeJtopModule:
    """``jtop(interval=...)`` yields readings every interval; ``stall_after`` makes ok() go False."""

    JtopException = JtopException

    def __init__(self, rails: dict[str, float], tot_mw: float | None = None, avg_offset_mw: float = 777.0,
                 stall_after: int | None = None, connect_error: str | None = None) -> None:
        self.rails, self.tot_mw, self.avg_offset_mw = rails, tot_mw, avg_offset_mw
        self.stall_after, self.connect_error = stall_after, connect_error
        self.intervals: list[float] = []
        module = self

        class jtop:  # noqa: N801 - mirrors the real class name
            def __init__(self, interval: float = 1.0) -> None:
                module.intervals.append(interval)
                self.interval = interval
                self.reads = 0

            def __enter__(self):
                if module.connect_error:
                    raise JtopException(module.connect_error)
                return self

            def __exit__(self, *exc):
                return False

            def ok(self):
                time.sleep(self.interval)
                self.reads += 1
                return module.stall_after is None or self.reads <= module.stall_after

            @property
            def power(self):
                rail = {k: {"volt": 5000, "curr": v / 5, "power": v, "avg": v + module.avg_offset_mw}
                        for k, v in module.rails.items()}
                out = {"rail": rail}
                if module.tot_mw is not None:
                    out["tot"] = {"power": module.tot_mw, "avg": module.tot_mw + module.avg_offset_mw}
                return out

            @property
            def temperature(self):
                return {"cpu": {"temp": 48.5, "online": True}, "cv0": {"temp": -256, "online": False}}

        self.jtop = jtop
