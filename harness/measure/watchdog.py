"""``timeouts.cell_s``: a cell that runs past it is stopped and recorded as failed; the suite goes on.

Two layers, because a hung cell may be stuck in Python or in native code:
- soft: at ``timeout_s`` a SIGALRM (main thread only) raises ``CellTimeout`` inside the cell, which
  ends like any failed cell;
- hard: ``grace_s`` later, if the cell still has not returned (a native call that never comes back,
  signals blocked), a watchdog thread calls ``on_hard_timeout`` -- the runner writes the failed
  record and re-executes itself with ``--resume`` in the same process (same pid, so a deploy keeps
  following it), and the resumed run goes on after that cell.
Timed-out cells carry ``timed_out: true`` and are not retried by ``--resume`` (they would hang again);
delete their record to try again.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

from harness.errors import BenchmarkError

GRACE_S = 30.0


class CellTimeout(BenchmarkError):
    """The cell ran past ``timeouts.cell_s``."""


class CellWatchdog:
    def __init__(self, timeout_s: float, on_hard_timeout: Callable[[], None], grace_s: float = GRACE_S) -> None:
        self.timeout_s, self.grace_s = timeout_s, grace_s
        self.on_hard_timeout = on_hard_timeout
        self.fired = False

    def reason(self) -> str:
        return f"ran past timeouts.cell_s ({self.timeout_s:g} s): stopped"

    @contextlib.contextmanager
    def watch(self) -> Iterator[CellWatchdog]:
        self.fired = False
        done = threading.Event()
        soft = threading.current_thread() is threading.main_thread()
        old = None
        if soft:
            def alarm(signum, frame):  # noqa: ARG001
                self.fired = True
                raise CellTimeout(self.reason(), "raise timeouts.cell_s in the profile if the cell needs longer")

            old = signal.signal(signal.SIGALRM, alarm)
            signal.setitimer(signal.ITIMER_REAL, self.timeout_s)

        def hard() -> None:
            if not done.wait(self.timeout_s + self.grace_s):
                self.fired = True
                # the thread that re-executes must not carry a blocked SIGALRM into the resumed run
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
                self.on_hard_timeout()

        watcher = threading.Thread(target=hard, name="cell-watchdog", daemon=True)
        watcher.start()
        try:
            yield self
        finally:
            done.set()
            if soft:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
