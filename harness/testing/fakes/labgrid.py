"""An in-process stand-in for ``farm.labgrid.LabgridClient``: a coordinator's places, queue and locks in memory,
with the real client's failure modes (``down`` -> CoordinatorDown, a busy place -> FarmError). Logic tests only;
the wiring is tested against a real coordinator (``testing/infra/labgrid.py``)."""

from __future__ import annotations

import itertools

from harness.errors import FarmError
from harness.farm.labgrid import CoordinatorDown, Place, Reservation


class FakeCoordinator:
    def __init__(self, me: str, clock) -> None:
        self.me, self.clock = me, clock
        self.places: dict[str, dict] = {}
        self.queue: list[Reservation] = []
        self.down = False
        self.down_calls = 0  # the next N calls fail as if the coordinator were down; then ``on_back()``
        self.on_back = None
        self.calls: list[str] = []
        self._tokens = (f"TOKEN{i:04d}" for i in itertools.count())

    def add(self, name: str, port: int, holder: str | None = None, exporter: bool = True, **tags: str) -> None:
        self.places[name] = {"tags": tags, "holder": holder, "port": port, "exporter": exporter}

    def _up(self, what: str) -> None:
        self.calls.append(what)
        if self.down_calls:
            self.down_calls -= 1
            if not self.down_calls and self.on_back:
                self.on_back()
            raise CoordinatorDown("coordinator fake is unreachable (Connection refused)", "start it")
        if self.down:
            raise CoordinatorDown("coordinator fake is unreachable (Connection refused)", "start it")

    def _schedule(self) -> None:
        taken = {r.place for r in self.queue if r.place}
        for r in self.queue:
            if r.state != "waiting":
                continue
            for name, p in self.places.items():
                tags = {**p["tags"], "name": name}
                if p["holder"] is None and name not in taken and all(tags.get(k) == v for k, v in r.filters.items()):
                    r.state, r.place = "allocated", name
                    taken.add(name)
                    break

    # --- the client's interface ----------------------------------------------------------
    def places_(self) -> list[Place]:
        self._up("places")
        return [Place(n, dict(p["tags"]), p["holder"], "2026-12-04 09:00:00.0", None, int(p["holder"] is not None and p["exporter"]))
                for n, p in self.places.items()]

    def reservations(self) -> list[Reservation]:
        self._up("reservations")
        return list(self.queue)

    def network_service(self, place: str) -> tuple[str, str, int]:
        self._up("show")
        if not self.places[place]["exporter"]:
            raise FarmError(f"place {place} has no NetworkService (its exporter is offline, or it exports none)")
        return "127.0.0.1", "root", self.places[place]["port"]

    def reserve(self, tags: dict[str, str]) -> str:
        self._up("reserve")
        r = Reservation(next(self._tokens), self.me, "waiting", dict(tags))
        self.queue.append(r)
        self._schedule()
        return r.token

    def wait(self, token: str, timeout_s: float) -> bool:
        self._up("wait")
        self._schedule()
        r = next(r for r in self.queue if r.token == token)
        if r.state == "waiting":
            self.clock.advance(timeout_s)
            return False
        return True

    def lock(self, place: str, unmatched: bool = False) -> None:
        self._up(f"lock {place}")
        p = self.places[place]
        if p["holder"] is not None:
            raise FarmError(f"Place {place} is already acquired by {p['holder']}")
        if not p["exporter"] and not unmatched:
            raise FarmError(f"Match exp/{place}/* has no matching remote resource")
        p["holder"] = self.me

    def unlock(self, place: str, kick: bool = False) -> None:
        self._up(f"unlock {place}")
        p = self.places[place]
        if p["holder"] is None:
            raise FarmError(f"place {place} is not acquired")
        if p["holder"] != self.me and not kick:
            raise FarmError(f"place {place} is acquired by a different user ({p['holder']}), use --kick if you are sure")
        p["holder"] = None

    def cancel(self, token: str) -> None:
        self._up("cancel")
        self.queue = [r for r in self.queue if r.token != token]


class FakeClient:
    """``LabgridClient``'s methods over a ``FakeCoordinator``."""

    def __init__(self, coord: FakeCoordinator) -> None:
        self.c = coord
        self.coordinator = "fake:1"

    def places(self):
        return self.c.places_()

    def __getattr__(self, name):
        return getattr(self.c, name)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s
