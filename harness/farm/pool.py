"""Leasing a board from a labgrid coordinator: queue, lock, check, keep, give back (docs/farm.md).

``acquire`` reserves by tags (the coordinator's queue is fair: first come, first served), locks the
place it is allocated, reads its SSH address and asks ``answers`` whether the board is there; a board
that does not answer is held aside (so the queue does not hand it back) and another is taken, and
every board held aside is given back before ``acquire`` returns. A coordinator that does not answer
is retried with back-off until the deadline; once it is back, waiters give holders ``GRACE_S`` to
re-take their boards (a restarted coordinator forgets every lock) before they reserve again.
``release`` retries a while, then leaves a record that the next start releases (``recover``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from harness.errors import FarmError
from harness.farm.labgrid import CoordinatorDown, LabgridClient, identity
from harness.farm.lease import Lease, LeaseBook

GRACE_S = 15.0  # after a coordinator outage, waiters let holders re-take their boards first
WAIT_SLICE_S = 10.0  # one `labgrid-client wait` call; a queue line is printed between calls
RELEASE_BUDGET_S = 60.0
Say = Callable[[str], None]


@dataclass
class Wanted:
    """What a board must be: its tags, and (a resumed run) the place it ran on."""

    tags: dict[str, str]
    place: str | None = None

    @property
    def filters(self) -> dict[str, str]:
        return {**self.tags, **({"name": self.place} if self.place else {})}

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.filters.items()))

    def matches(self, place) -> bool:
        """``place`` (a coordinator's place) has every tag, and is the place asked for when one is."""
        return all(place.tags.get(k) == v for k, v in self.tags.items()) and self.place in (None, place.name)


class LabgridPool:
    def __init__(self, coordinator: str, client: LabgridClient | None = None, book: LeaseBook | None = None,
                 sleep=time.sleep, clock=time.monotonic) -> None:
        self.coordinator = coordinator
        self.client = client or LabgridClient(coordinator)
        self.book = book or LeaseBook()
        self.sleep, self.clock = sleep, clock
        self.me = identity()

    # --- the coordinator, retried ------------------------------------------------------
    def _until_up(self, call, deadline: float, say: Say, what: str):
        """``call()``, retried with back-off while the coordinator is down; FarmError past ``deadline``."""
        delay, told, outage = 1.0, False, False
        while True:
            try:
                result = call()
            except CoordinatorDown as e:
                outage = True
                left = deadline - self.clock()
                if left <= 0:
                    raise FarmError(f"{e.message}; gave up {what}", e.hint) from None
                if not told:
                    say(f"{e.message}; {what}: retrying every ≤15 s for {left:.0f} s more")
                    told = True
                self.sleep(min(delay, max(left, 0.1)))
                delay = min(delay * 2, 15.0)
                continue
            if outage:
                say(f"coordinator {self.coordinator} answers again")
            return result, outage

    # --- acquire ---------------------------------------------------------------------
    def acquire(self, wanted: Wanted, timeout_s: float, answers: Callable[[Lease], str | None], say: Say,
                run_id: str | None = None) -> Lease:
        deadline = self.clock() + timeout_s
        self.recover(say, deadline, keep=run_id)
        adopted = self._adopt(wanted, run_id, answers, say, deadline)
        if adopted is not None:
            return adopted
        aside: list[Lease] = []
        try:
            while True:
                lease = self._one(wanted, deadline, say, aside)
                if lease is None:
                    continue
                why = answers(lease)
                if why is None:
                    self.book.hold(lease, run_id)
                    say(f"leased {lease.where} from {self.coordinator}")
                    return lease
                if wanted.place:
                    self.release(lease, say)
                    raise FarmError(f"{lease.where}, the board run {run_id} ran on, does not answer: {why}",
                                    "bring the board back, or deploy the run again under a new --run-id")
                say(f"{lease.where} does not answer ({why}): held aside, taking another board")
                aside.append(lease)
        finally:
            for lease in aside:
                self.release(lease, say)

    def _one(self, wanted: Wanted, deadline: float, say: Say, aside: list[Lease]) -> Lease | None:
        """One reservation through to a locked place (None: start over, e.g. after an outage)."""
        places, _ = self._until_up(self.client.places, deadline, say, f"reserving {wanted.describe()}")
        if not any(wanted.matches(p) for p in places):
            known = "; ".join(f"{p.name} " + (",".join(f"{k}={v}" for k, v in p.tags.items()) or "(no tags)")
                              for p in places[:12]) or "none"
            raise FarmError(f"{self.coordinator}: no place has {wanted.describe()} (places: {known})",
                            "fix connection.tags in the profile, or tag a place: "
                            "`labgrid-client -p PLACE set-tags board=orin-nano` (docs/farm.md)")
        token, _ = self._until_up(lambda: self.client.reserve(wanted.filters), deadline, say, f"reserving {wanted.describe()}")
        try:
            while True:
                if self.clock() > deadline:
                    raise FarmError(self._timeout_line(wanted, aside), "`harness farm status` shows who holds the boards; "
                                    "raise connection.acquire_timeout_s to wait longer")
                if self.client.wait(token, min(WAIT_SLICE_S, max(deadline - self.clock(), 1.0))):
                    break
                say(self.queue_line(wanted, token))
            mine = next((r for r in self.client.reservations() if r.token == token), None)
            if mine is None or mine.state != "allocated" or mine.place is None:
                return None  # expired or cancelled under us: reserve again
            try:
                self.client.lock(mine.place)
            except CoordinatorDown:
                raise
            except FarmError as e:
                say(f"{mine.place}: cannot lock it ({e.message}); waiting")
                self.sleep(2.0)
                return None
            since = time.time()
            try:
                host, user, port = self.client.network_service(mine.place)
            except FarmError as e:
                lease = Lease("labgrid", mine.place, "0.0.0.0", "root", 22, wanted.tags, self.me, since, self.coordinator)
                say(f"{e.message}: held aside, taking another board")
                aside.append(lease)
                return None
            tags = next((p.tags for p in self.client.places() if p.name == mine.place), wanted.tags)
            return Lease("labgrid", mine.place, host, user, port, tags, self.me, since, self.coordinator, token)
        except CoordinatorDown as e:
            say(f"{e.message}; the reservation is lost with it")
            self._until_up(self.client.reservations, deadline, say, "waiting for the coordinator")
            say(f"waiting {GRACE_S:.0f} s so that holders re-take their boards, then reserving again")
            self.sleep(GRACE_S)
            return None
        finally:
            try:
                self.client.cancel(token)  # a locked place stays locked; its reservation is not needed any more
            except FarmError:
                pass

    def _adopt(self, wanted: Wanted, run_id: str | None, answers, say: Say, deadline: float) -> Lease | None:
        """A resumed run whose harness was killed: its board is still locked by us, take it over as it is."""
        if not run_id or not wanted.place:
            return None
        for rec in self.book.records(self.coordinator):
            lease = rec["lease"]
            if rec["live"] or rec.get("run_id") != run_id or lease.place != wanted.place or lease.holder != self.me:
                continue
            places, _ = self._until_up(self.client.places, deadline, say, "reading the places")
            if any(p.name == lease.place and p.holder == self.me for p in places) and answers(lease) is None:
                self.book.hold(lease, run_id)
                say(f"took over {lease.where}, still leased to run {run_id} by a harness that stopped")
                return lease
        return None

    def queue_line(self, wanted: Wanted, token: str) -> str:
        try:
            res, places = self.client.reservations(), self.client.places()
        except FarmError:
            return f"waiting for a board with {wanted.describe()}"
        waiting = [r for r in res if r.state == "waiting"]
        pos = next((i + 1 for i, r in enumerate(waiting) if r.token == token), None)
        match = [p for p in places if wanted.matches(p)]
        held = ", ".join(f"{p.name}: {p.holder or 'free'}" for p in match) or "no such place"
        return f"waiting for {wanted.describe()}: {'position ' + str(pos) + ' of ' + str(len(waiting)) if pos else 'queued'} ({held})"

    def _timeout_line(self, wanted: Wanted, aside: list[Lease]) -> str:
        dead = f"; not answering: {', '.join(a.place for a in aside)}" if aside else ""
        return f"no board with {wanted.describe()} became free on {self.coordinator} in time{dead}"

    # --- keep and give back -------------------------------------------------------------
    def keep(self, lease: Lease, say: Say) -> None:
        """Still ours? A restarted coordinator forgets its locks: lock the place again (its exporter may not be back)."""
        try:
            place = next((p for p in self.client.places() if p.name == lease.place), None)
            if place is None or place.holder == self.me:
                return
            if place.holder is None:
                self.client.lock(lease.place, unmatched=True)
                say(f"re-took {lease.place} after the coordinator forgot it")
            else:
                say(f"{lease.place} is now held by {place.holder}; this run keeps the board's own lock (lock.json)")
        except FarmError:
            pass  # the coordinator is down: the run goes on, the next check retries

    def release(self, lease: Lease, say: Say, kick: bool = False) -> bool:
        """Unlock the place (retried while the coordinator is down, ``RELEASE_BUDGET_S``); False: left for later."""
        deadline = self.clock() + RELEASE_BUDGET_S
        try:
            self._until_up(lambda: self._unlock(lease.place, kick), deadline, say, f"releasing {lease.place}")
        except FarmError as e:
            self.book.mark_release_pending(lease)
            say(f"{lease.place} not released ({e.message}): the next harness start releases it, or "
                f"`harness farm release {lease.place}`")
            return False
        self.book.drop(lease)
        return True

    def _unlock(self, place: str, kick: bool) -> None:
        try:
            self.client.unlock(place, kick)
        except CoordinatorDown:
            raise
        except FarmError as e:
            if "not acquired" not in e.message and "different user" not in e.message:
                raise

    def recover(self, say: Say, deadline: float, keep: str | None = None) -> list[str]:
        """Give back what harness processes of this user on this host held when they died (SIGKILL, power loss), and
        releases that could not reach the coordinator; the run ``keep`` resumes its board instead."""
        freed = []
        for rec in self.book.records(self.coordinator):
            lease = rec["lease"]
            pending = rec.get("release_pending")
            if lease.holder != self.me or (not pending and (rec["live"] or (keep and rec.get("run_id") == keep))):
                continue  # someone else's, a running harness's, or the run being resumed (it adopts its board)
            why = "its release did not reach the coordinator" if pending else "which stopped"
            say(f"releasing {lease.place}: leased by harness pid {rec['pid']} (run {rec.get('run_id')}); {why}")
            if self.release(lease, say):
                freed.append(lease.place)
        return freed
