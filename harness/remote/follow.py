"""Following a deployed runner: what each poll saw, and whether another restart is within budget.

Pure bookkeeping, no I/O: ``Deployment.follow`` polls (liveness first, then the pull, so a runner that exits
between the two is never taken for a crash: its last manifest is what the pull brings), hands what it got to
``Follower.observe`` and acts on the ``Observed``. A runner that vanished is started again with ``--resume``
(after a reboot, when the boot id changed), at most ``limits.max_runner_restarts`` times without a newly finished
cell; then the run fails with the end of the runner's log. A runner that stops in ``awaiting_mode`` gets its mode
set (``remote/modes.py`` refuses a switch the plan cannot explain) and is started again; asking for the mode the
board is already in, after it was told that mode, is a restart like any other: a mode request never resets the
budget, only a finished cell does.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.remote.events import Poll
from harness.results.record import record_key
from harness.results.rows import at


@dataclass(frozen=True)
class Observed:
    """What one poll saw: the device's manifest state, its cells, the last finished record's power and heat."""

    alive: bool
    state: str | None
    done: int
    total: int
    current: str | None  # the cell running now
    wanted_mode: object  # what an ``awaiting_mode`` runner asks for (untrusted: HostModes checks it)
    finished: int  # records seen finished so far (only grows)
    last_w: float | None
    last_temp_c: float | None

    @property
    def complete(self) -> bool:
        return self.state == "complete"

    @property
    def awaiting_mode(self) -> bool:
        return self.state == "awaiting_mode" and not self.alive  # stopped at a mode boundary: not a crash

    @property
    def gone(self) -> bool:
        return not self.alive and not self.complete and not self.awaiting_mode

    def as_event(self) -> Poll:
        return Poll(self.done, self.total, self.current, self.state, self.last_w, self.last_temp_c)


class Follower:
    """The restart budget of one follow: restarts since the last newly finished cell."""

    def __init__(self, max_restarts: int) -> None:
        self.max_restarts = max_restarts
        self.restarts = 0
        self.finished_at_restart = -1
        self.seen: set = set()  # (cell key, finished_at) of every record seen: its size only grows with finished work

    def observe(self, alive: bool, manifest: dict, records: list[dict]) -> Observed:
        self.seen.update((record_key(r), r.get("finished_at")) for r in records)
        if len(self.seen) > self.finished_at_restart:
            self.restarts = 0  # it made progress since the last (re)start
        cells = manifest.get("cells", [])
        last = records[-1] if records else {}
        return Observed(alive, manifest.get("state"), sum(c["state"] in ("ok", "skipped", "failed") for c in cells),
                        len(cells), next((c["cell_id"] for c in cells if c["state"] == "running"), None),
                        manifest.get("wanted_mode"), len(self.seen), at(last, "power", "mean_w"),
                        at(last, "power", "peak_temp_c"))

    def restart(self, counts: bool = True) -> bool:
        """The runner is started again (``counts``: it spends the budget); False when the budget is spent."""
        if counts:
            if self.restarts >= self.max_restarts:
                return False
            self.restarts += 1
        self.finished_at_restart = len(self.seen)
        return True
