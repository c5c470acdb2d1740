"""A deploy inside a lease: the profile on the leased board, the lease given back on every way out."""

import pytest

from harness.config.profiles import DeviceProfile
from harness.errors import FarmError, ProfileError
from harness.farm.labgrid import identity
from harness.farm.lease import Lease, LeaseBook
from harness.farm.leased import coordinator_of, leased, on_board
from harness.farm.pool import LabgridPool
from harness.testing.fakes.labgrid import FakeClient, FakeClock, FakeCoordinator

POOLED = {"name": "lab-nano", "kind": "jetson", "connection": {"pool": "labgrid", "tags": {"board": "orin-nano"},
                                                               "key_file": "/k", "known_hosts": "/kh"}}


@pytest.fixture
def pool(tmp_path, monkeypatch):
    clock = FakeClock()
    coord = FakeCoordinator(identity(), clock)
    coord.add("nano1", 2201, board="orin-nano")
    p = LabgridPool("fake:1", FakeClient(coord), LeaseBook(tmp_path), sleep=clock.advance, clock=clock)
    monkeypatch.setattr("harness.farm.leased.ssh_answers", lambda prof, accept=False: lambda lease: None)
    return coord, p


def test_the_coordinator_comes_from_the_profile_or_lg_coordinator(monkeypatch):
    monkeypatch.delenv("LG_COORDINATOR", raising=False)
    prof = DeviceProfile.model_validate(POOLED)
    with pytest.raises(ProfileError, match="no coordinator") as e:
        coordinator_of(prof)
    assert "LG_COORDINATOR" in e.value.hint
    monkeypatch.setenv("LG_COORDINATOR", "lab:20408")
    assert coordinator_of(prof) == "lab:20408"
    monkeypatch.setenv("LG_COORDINATOR", "lab;reboot")
    with pytest.raises(ProfileError, match="not HOST:PORT"):
        coordinator_of(prof)


def test_a_fixed_host_profile_leases_nothing():
    prof = DeviceProfile.model_validate({"name": "n", "kind": "jetson", "connection": {"host": "nano.lab"}})
    with leased(prof, "r", print) as (got, lease):
        assert got is prof and lease is None


def test_the_body_gets_the_board_and_the_lease_is_given_back_on_success_error_and_ctrl_c(pool):
    coord, p = pool
    prof = DeviceProfile.model_validate(POOLED)
    with leased(prof, "r1", lambda s: None, pool=p) as (board, lease):
        assert (board.connection.host, board.connection.port, board.connection.pool) == ("127.0.0.1", 2201, "ssh")
        assert board.connection.key_file == "/k" and coord.places["nano1"]["holder"] == identity()
    assert coord.places["nano1"]["holder"] is None
    for boom in (FarmError("x"), KeyboardInterrupt()):
        with pytest.raises(type(boom)):
            with leased(prof, "r2", lambda s: None, pool=p):
                raise boom
        assert coord.places["nano1"]["holder"] is None and p.book.records("fake:1") == []


def test_a_pooled_profile_cannot_be_connected_to_without_a_lease():
    from harness.remote.connection import DeviceConnection

    with pytest.raises(ProfileError, match="leases its board from a pool"):
        DeviceConnection(DeviceProfile.model_validate(POOLED).connection)
    board = on_board(DeviceProfile.model_validate(POOLED), Lease("labgrid", "nano1", "10.0.0.5", "bench", 2222))
    assert (board.connection.host, board.connection.user, board.connection.port) == ("10.0.0.5", "bench", 2222)
