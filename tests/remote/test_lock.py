"""The device lock: a lock file that is not one (a FIFO, a device) is refused at once, never read until a timeout."""

import json
import os
import time

import pytest

from harness.errors import LinkError, RemoteError
from harness.remote import lock
from harness.testing.fakes.connection import FakeConnection


def test_a_lock_taken_then_refused_to_another_run(tmp_path):
    link = FakeConnection(tmp_path)
    held = lock.acquire(link, str(tmp_path / "w"), "run-a", "boot-1")
    assert held["run_id"] == "run-a"
    with pytest.raises(RemoteError, match="locked by .* for run run-a"):
        lock.acquire(link, str(tmp_path / "w"), "run-b", "boot-1")
    # the same run takes its own lock again (a resumed deploy); the lock names the new holder and what it took over
    again = lock.acquire(link, str(tmp_path / "w"), "run-a", "boot-1")
    assert again["took_over"]["run_id"] == "run-a"


def test_a_lock_from_before_a_reboot_or_without_heartbeat_is_stale_and_taken_over(tmp_path):
    """What a real deploy used to prove over sshd with a whole run (test_deploy keeps the refusal end to end)."""
    link = FakeConnection(tmp_path)
    work = tmp_path / "w"
    work.mkdir()
    (work / "lock.json").write_text(json.dumps({"owner": "alice@lab-host", "run_id": "other", "boot_id": "old-boot",
                                                "heartbeat": time.time()}))
    held = lock.acquire(link, str(work), "mine", "boot-now")
    assert held["run_id"] == "mine" and held["took_over"]["owner"] == "alice@lab-host"
    assert json.loads((work / "lock.json").read_text())["run_id"] == "mine"
    (work / "lock.json").write_text(json.dumps({"owner": "bob@lab", "run_id": "old", "boot_id": "boot-now",
                                                "heartbeat": time.time() - lock.STALE_S - 1}))
    assert lock.acquire(link, str(work), "mine2", "boot-now")["took_over"]["owner"] == "bob@lab"
    lock.release(link, str(work))
    assert not (work / "lock.json").exists()


def test_a_dropped_link_is_a_link_error_not_a_lock_refusal(tmp_path):
    link = FakeConnection(tmp_path)
    link.drop()
    with pytest.raises(LinkError):
        lock.acquire(link, str(tmp_path / "w"), "run-a", "boot-1")


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_lock_file_that_is_a_fifo_or_a_device_is_refused_without_blocking(tmp_path, kind):
    work = tmp_path / "w"
    work.mkdir()
    if kind == "fifo":
        os.mkfifo(work / "lock.json")  # `cat` would wait for a writer until the command timed out
    else:
        (work / "lock.json").symlink_to("/dev/zero")  # `cat` would never end
    t0 = time.perf_counter()
    with pytest.raises(RemoteError, match=r"lock.json exists but is not a harness lock"):
        lock.acquire(FakeConnection(tmp_path), str(work), "run-a", "boot-1")
    assert time.perf_counter() - t0 < 5
