"""Following a deployed runner: poll and pull until the device says complete.

A runner that vanished is started again with ``--resume`` (after a reboot, when the boot id changed),
at most ``limits.max_runner_restarts`` times without a newly finished cell; then the run fails with
the end of the runner's log. A runner that stops in ``awaiting_mode`` gets its mode set (``remote/modes.py``
refuses a switch the plan cannot explain) and is started again; asking for the mode the board is already
in, after it was told that mode, is a restart like any other: a mode request never resets the budget, only
a finished cell does. Liveness is read before each pull, so a runner that exits between the two is never
taken for a crash (its last manifest is what the pull brings). A dropped link is reconnected (the
deployment's backoff); a board whose reconnects succeed but which sends nothing back for its reconnect
budget is given up on.
"""

from __future__ import annotations

import time

from harness.errors import BenchmarkError, LinkError
from harness.remote import lock
from harness.results.record import record_key
from harness.results.rows import at


def follow(d) -> None:
    """Poll until the device's manifest says complete; restart a vanished runner a bounded number of times."""
    plan = d.plan
    max_restarts = plan.profile.limits.max_runner_restarts
    restarts, progress_at_restart = 0, -1
    finished: set = set()  # (cell key, finished_at) of every record seen: its size only grows with finished work
    last_beat = last_ok = time.monotonic()
    while True:
        try:
            alive = d.alive()  # before the pull: a runner that was gone has left its last word in what is pulled
            manifest = d.pull()
            last_ok = time.monotonic()
            state = manifest.get("state")
            cells = manifest.get("cells", [])
            recs = d.store.read_records()
            finished.update((record_key(r), r.get("finished_at")) for r in recs)
            progress = len(finished)
            last = recs[-1] if recs else {}
            done = sum(c["state"] in ("ok", "skipped", "failed") for c in cells)
            d.progress("poll", {"done": done, "total": len(cells),
                                "current": next((c["cell_id"] for c in cells if c["state"] == "running"), None), "state": state,
                                "last_w": at(last, "power", "mean_w"), "last_temp_c": at(last, "power", "peak_temp_c")})
            if state == "complete":
                return
            if progress > progress_at_restart:
                restarts = 0  # it made progress since the last (re)start
            if state == "awaiting_mode" and not alive:  # the runner stopped at a mode boundary: not a crash
                wanted = manifest.get("wanted_mode")
                told = d.mode_told
                statement = d.set_mode(wanted, progress)
                if not statement["switched"] and told:  # it had that mode's statement already: nothing new to wait for
                    _spend(d, restarts, max_restarts, f"asked for power mode {wanted}, which the board is in,")
                    restarts += 1
                progress_at_restart = progress
                d.start(resume=True, awaited=True)
                continue
            if not alive:
                _spend(d, restarts, max_restarts, "stopped")
                if d.current_boot_id() != d.boot_id:
                    d.boot_id = d.current_boot_id()
                    d.progress("rebooted", {})
                restarts += 1
                progress_at_restart = progress
                d.start(resume=True)  # the runner resumes after the last finished cell
            if time.monotonic() - last_beat > 30:
                lock.heartbeat(d.conn, d.workdir, d.held)
                last_beat = time.monotonic()
            time.sleep(plan.poll_s)
        except LinkError as e:
            d.progress("link_lost", {"error": e.message})
            if time.monotonic() - last_ok > plan.reconnect_budget_s:  # reconnects succeed but nothing comes back
                raise LinkError(f"{e.message}; nothing came back for {time.monotonic() - last_ok:.0f} s",
                                f"check the device; `harness deploy --resume --run-id {plan.run_id}` later") from e
            took = d.reconnect()
            d.progress("reconnected", {"after_s": took})


def _spend(d, restarts: int, max_restarts: int, what: str) -> None:
    """One more restart without a finished cell, or BenchmarkError with the end of the runner's log."""
    if restarts >= max_restarts:
        raise BenchmarkError(
            f"{d.conn.where}: the runner {what} {restarts + 1} times without finishing a cell; "
            f"its log ends: {d.log_tail() or '(empty)'}",
            "fix what the log says (interpreter path, missing packages, disk), then "
            f"`harness deploy --resume --run-id {d.plan.run_id}` (limits.max_runner_restarts in the profile)")
