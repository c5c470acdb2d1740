"""timeouts.cell_s: the soft alarm interrupts Python, the hard watchdog catches what no signal reaches."""

import signal
import threading
import time

import pytest

from harness.measure.watchdog import CellTimeout, CellWatchdog


def test_the_soft_alarm_stops_a_cell_stuck_in_python():
    hard = []
    dog = CellWatchdog(0.3, lambda: hard.append(1), grace_s=5)
    t0 = time.monotonic()
    with pytest.raises(CellTimeout, match=r"ran past timeouts.cell_s \(0.3 s\)"), dog.watch():
        time.sleep(30)
    assert dog.fired and time.monotonic() - t0 < 2
    time.sleep(0.1)
    assert not hard  # the hard layer stood down once the cell returned
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no alarm left armed


def test_a_cell_that_returns_in_time_is_not_touched():
    dog = CellWatchdog(2.0, lambda: None, grace_s=1)
    with dog.watch():
        time.sleep(0.05)
    assert not dog.fired and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_hard_watchdog_fires_when_no_signal_gets_through():
    """Off the main thread no alarm can interrupt the cell (as in a native call that never returns): the hard layer acts."""
    fired, stuck = threading.Event(), threading.Event()
    dog = CellWatchdog(0.2, fired.set, grace_s=0.3)

    def cell():
        with dog.watch():
            stuck.wait(10)

    worker = threading.Thread(target=cell, daemon=True)
    t0 = time.monotonic()
    worker.start()
    assert fired.wait(5), "the hard watchdog did not fire"
    assert 0.45 <= time.monotonic() - t0 < 3 and dog.fired
    stuck.set()
    worker.join(5)
