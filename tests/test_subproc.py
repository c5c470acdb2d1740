"""Streaming a long command's output line by line, bounded in time."""

from __future__ import annotations

import time

from harness.subproc import stream


def test_lines_arrive_in_order_with_stderr_merged():
    seen: list[str] = []
    r = stream(["sh", "-c", "echo one; echo two >&2; echo three; exit 4"], seen.append)
    assert seen == ["one", "two", "three"] and r.exit_code == 4 and r.stdout == "one\ntwo\nthree\n" and not r.timed_out


def test_a_silent_hang_is_killed_with_its_children():
    t0 = time.perf_counter()
    r = stream(["sh", "-c", "echo start; sleep 30 & sleep 30"], None, timeout_s=0.5)
    assert r.timed_out and r.stdout == "start\n" and time.perf_counter() - t0 < 10
