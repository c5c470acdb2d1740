"""Leasing logic against an in-memory coordinator: the queue, a dead board held aside, outages, stale leases."""

import os

import pytest

from harness.errors import FarmError
from harness.farm.labgrid import identity
from harness.farm.lease import Lease, LeaseBook
from harness.farm.pool import GRACE_S, LabgridPool, Wanted
from harness.testing.fakes.labgrid import FakeClient, FakeClock, FakeCoordinator


@pytest.fixture
def farm(tmp_path):
    clock = FakeClock()
    coord = FakeCoordinator(identity(), clock)
    coord.add("nano1", 2201, board="orin-nano")
    coord.add("nano2", 2202, board="orin-nano")
    coord.add("nx1", 2203, board="orin-nx")
    slept = []

    def sleep(s):
        slept.append(s)
        clock.advance(s)

    pool = LabgridPool("fake:1", FakeClient(coord), LeaseBook(tmp_path / "book"), sleep=sleep, clock=clock)
    return coord, pool, slept


def ok(lease):
    return None


def test_a_free_board_with_the_tags_is_leased_recorded_and_released(farm):
    coord, pool, _ = farm
    said = []
    lease = pool.acquire(Wanted({"board": "orin-nx"}), 60, ok, said.append, "r1")
    assert (lease.place, lease.port, lease.tags) == ("nx1", 2203, {"board": "orin-nx"})
    assert coord.places["nx1"]["holder"] == identity()
    assert coord.queue == []  # the reservation is cancelled once the place is locked
    [rec] = pool.book.records("fake:1")
    assert rec["live"] and rec["run_id"] == "r1" and rec["pid"] == os.getpid()
    assert pool.release(lease, said.append)
    assert coord.places["nx1"]["holder"] is None and pool.book.records("fake:1") == []


def test_a_board_that_does_not_answer_is_held_aside_until_another_is_leased_then_given_back(farm):
    coord, pool, _ = farm
    said = []
    lease = pool.acquire(Wanted({"board": "orin-nano"}), 60, lambda l: "connection refused" if l.place == "nano1" else None,
                         said.append)
    assert lease.place == "nano2"
    assert coord.places["nano1"]["holder"] is None  # given back, not kept
    assert any("nano1" in s and "does not answer" in s for s in said)


def test_when_every_matching_board_is_dead_the_wait_ends_at_the_deadline_naming_them(farm):
    coord, pool, _ = farm
    with pytest.raises(FarmError, match=r"no board with board=orin-nano became free.*not answering: nano1, nano2"):
        pool.acquire(Wanted({"board": "orin-nano"}), 30, lambda l: "dead", lambda s: None)
    assert all(p["holder"] is None for p in coord.places.values())
    assert coord.queue == []


def test_a_held_board_is_waited_for_with_a_queue_line_then_taken_when_released(farm):
    coord, pool, _ = farm
    coord.places["nx1"]["holder"] = "lab/alice"
    said = []
    real_wait = coord.wait

    def wait(token, t):  # alice gives the board back after three slices
        if sum("waiting for" in s for s in said) >= 3:
            coord.places["nx1"]["holder"] = None
        return real_wait(token, t)

    coord.wait = wait
    lease = pool.acquire(Wanted({"board": "orin-nx"}), 600, ok, said.append)
    assert lease.place == "nx1"
    assert "waiting for board=orin-nx: position 1 of 1 (nx1: lab/alice)" in said


def test_a_coordinator_outage_is_retried_then_holders_get_a_grace_before_reserving_again(farm):
    coord, pool, slept = farm
    coord.places["nx1"]["holder"] = "lab/alice"
    said, real_wait = [], coord.wait

    def wait(token, t):
        if not said or "unreachable" not in " ".join(said):  # the coordinator restarts: reservations and locks forgotten
            coord.queue, coord.places["nx1"]["holder"] = [], None
            coord.down_calls = 4
            coord.on_back = lambda: coord.places["nx1"].update(holder="lab/alice")  # alice's keeper re-takes it
        return real_wait(token, t)

    coord.wait = wait
    with pytest.raises(FarmError, match="no board with board=orin-nx became free"):
        pool.acquire(Wanted({"board": "orin-nx"}), 120, ok, said.append)
    assert GRACE_S in slept
    assert any("unreachable" in s for s in said) and any("answers again" in s for s in said)
    assert coord.places["nx1"]["holder"] == "lab/alice"  # never taken from under alice


def test_an_unreachable_coordinator_fails_the_acquire_at_its_deadline_with_one_clear_line(farm):
    coord, pool, _ = farm
    coord.down = True
    said = []
    with pytest.raises(FarmError, match=r"unreachable.*gave up reserving board=orin-nano"):
        pool.acquire(Wanted({"board": "orin-nano"}), 40, ok, said.append)
    assert sum("unreachable" in s for s in said) == 1  # told once, not every retry


def test_a_release_the_coordinator_cannot_take_is_recorded_and_done_by_the_next_start(farm):
    coord, pool, _ = farm
    lease = pool.acquire(Wanted({"board": "orin-nx"}), 60, ok, lambda s: None)
    coord.down = True
    said = []
    assert not pool.release(lease, said.append)
    assert "harness farm release nx1" in said[-1]
    [rec] = pool.book.records("fake:1")
    assert rec["release_pending"]
    coord.down = False
    pool.recover(lambda s: None, deadline=pool.clock() + 10)
    assert coord.places["nx1"]["holder"] is None and pool.book.records("fake:1") == []


def _dead_record(pool, lease, run_id):
    """A record as a harness killed with SIGKILL leaves it: its pid is gone."""
    pool.book.hold(lease, run_id)
    path = next(pool.book.root.glob("*.json"))
    path.write_text(path.read_text().replace(f'"pid": {os.getpid()}', '"pid": 999999999'))


def test_a_killed_harness_lease_is_released_by_the_next_start_and_adopted_by_its_own_resume(farm):
    coord, pool, _ = farm
    me = identity()
    coord.places["nano1"]["holder"] = me
    _dead_record(pool, Lease("labgrid", "nano1", "127.0.0.1", "root", 2201, {"board": "orin-nano"}, me, 1.0, "fake:1"), "old")
    said = []
    lease = pool.acquire(Wanted({"board": "orin-nano"}, place="nano1"), 60, ok, said.append, run_id="old")
    assert lease.place == "nano1" and any("took over nano1" in s for s in said)  # the resume keeps its board
    pool.release(lease, said.append)

    coord.places["nano1"]["holder"] = me
    _dead_record(pool, Lease("labgrid", "nano1", "127.0.0.1", "root", 2201, {"board": "orin-nano"}, me, 1.0, "fake:1"), "old")
    lease = pool.acquire(Wanted({"board": "orin-nx"}), 60, ok, said.append, run_id="another")
    assert coord.places["nano1"]["holder"] is None  # another run's start freed it
    assert any("releasing nano1" in s and "which stopped" in s for s in said)


def test_a_live_harness_of_the_same_user_keeps_its_board(farm):
    coord, pool, _ = farm
    first = pool.acquire(Wanted({"board": "orin-nx"}), 60, ok, lambda s: None, "a")
    with pytest.raises(FarmError, match="no board with board=orin-nx"):
        pool.acquire(Wanted({"board": "orin-nx"}), 20, ok, lambda s: None, "b")  # its record's process is alive
    assert coord.places["nx1"]["holder"] == identity() and pool.book.records("fake:1")[0]["run_id"] == "a"
    pool.release(first, lambda s: None)


def test_keep_re_takes_a_place_the_coordinator_forgot_and_reports_a_thief(farm):
    coord, pool, _ = farm
    lease = pool.acquire(Wanted({"board": "orin-nx"}), 60, ok, lambda s: None)
    coord.places["nx1"]["holder"], coord.places["nx1"]["exporter"] = None, False  # restarted; exporter not back yet
    said = []
    pool.keep(lease, said.append)
    assert coord.places["nx1"]["holder"] == identity() and "re-took nx1" in said[-1]
    coord.places["nx1"]["holder"] = "lab/bob"
    pool.keep(lease, said.append)
    assert "held by lab/bob" in said[-1]
    coord.down = True
    pool.keep(lease, said.append)  # a down coordinator: nothing raised, the run goes on


def test_tags_no_place_has_fail_at_once_naming_the_places_not_after_the_acquire_timeout(farm):
    _, pool, slept = farm
    with pytest.raises(FarmError) as e:
        pool.acquire(Wanted({"board": "orin-nanoo"}), 3600, ok, lambda s: None, "r1")
    assert "no place has board=orin-nanoo" in e.value.message and "nano1 board=orin-nano" in e.value.message
    assert "set-tags" in e.value.hint and sum(slept) == 0
