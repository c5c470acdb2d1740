"""The device lock: a lock file that is not one (a FIFO, a device) is refused at once, never read until a timeout."""

import os
import time

import pytest

from harness.errors import RemoteError
from harness.remote import lock
from tests.remote.test_sweep_bounds import LocalLink


def test_a_lock_taken_then_refused_to_another_run(tmp_path):
    link = LocalLink(tmp_path)
    held = lock.acquire(link, str(tmp_path / "w"), "run-a", "boot-1")
    assert held["run_id"] == "run-a"
    with pytest.raises(RemoteError, match="locked by .* for run run-a"):
        lock.acquire(link, str(tmp_path / "w"), "run-b", "boot-1")


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
        lock.acquire(LocalLink(tmp_path), str(work), "run-a", "boot-1")
    assert time.perf_counter() - t0 < 5
