"""Atomic writes, owned temp files, the per-directory lock, OS errors in words, the content cache."""

import errno
import os
import subprocess
import sys

import pytest

from harness.errors import StorageError
from harness.fsutil import DirLock, atomic_write_text, remove_orphan_temps, staged, storage_error, temp_name


def test_staged_replaces_on_success_and_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.pt"
    with staged(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".pt" and str(os.getpid()) in tmp.name
        tmp.write_text("new")
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError), staged(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["out.pt"]
    with pytest.raises(KeyboardInterrupt), staged(tmp_path / "seq", directory=True) as d:
        (d / "img1").mkdir()
        raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ["out.pt"]


def test_results_files_are_readable_by_others(tmp_path):
    atomic_write_text(tmp_path / "summary.csv", "a,b\n")
    assert (tmp_path / "summary.csv").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_only_temps_of_gone_processes_are_removed(tmp_path):
    mine = temp_name(tmp_path / "records.jsonl")
    mine.write_text("being written by this process")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = tmp_path / mine.name.replace(f"-{os.getpid()}-", f"-{dead.stdout.strip()}-")
    gone.write_text("left by a killed writer")
    old_style = tmp_path / ".manifest.json.k3j2.tmp"
    old_style.write_text("from an older harness")
    assert remove_orphan_temps(tmp_path) == 2
    assert mine.exists() and not gone.exists() and not old_style.exists()


def test_a_second_writer_is_refused_with_the_holder_and_a_dead_holder_frees_the_lock(tmp_path):
    with DirLock(tmp_path, "harness run"):
        with pytest.raises(StorageError, match=rf"in use by harness run \(pid {os.getpid()} on "):
            DirLock(tmp_path, "harness run").acquire()
    DirLock(tmp_path, "again").acquire().release()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from harness.fsutil import DirLock; DirLock(sys.argv[1], 'other').acquire(); "
        "print('held', flush=True); time.sleep(60)"), str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(StorageError, match=f"pid {holder.pid}"):
        DirLock(tmp_path, "me").acquire()
    holder.kill()
    holder.wait()
    DirLock(tmp_path, "me").acquire().release()  # the kernel dropped the dead holder's lock


@pytest.mark.parametrize("code, fix", [(errno.ENOSPC, "free space"), (errno.EACCES, "permissions"),
                                       (errno.EISDIR, "not a directory"), (errno.EROFS, "read-only")])
def test_os_errors_become_one_line_with_the_path_and_fix(code, fix):
    e = storage_error(OSError(code, os.strerror(code), "/data/results/x.csv"))
    assert e.message == f"/data/results/x.csv: {os.strerror(code)}" and fix in e.hint


@pytest.fixture
def full_tmpfs(tmpfs):
    """The small tmpfs (``tests/conftest.py``) with no space left."""
    mnt = tmpfs
    try:
        with open(mnt / "filler", "wb") as f:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
    except OSError:
        pass
    return mnt


def test_an_os_error_without_a_file_name_never_reads_question_mark():
    e = storage_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))  # what a failed write() raises
    assert not e.message.startswith("?") and "No space left on device" in e.message and "free space" in e.hint
    assert "did not say which file" in e.message


def test_the_lock_on_a_full_disk_names_its_path(tmp_path, monkeypatch):
    def full(*_):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # no file name, as the kernel reports a write

    monkeypatch.setattr(os, "pwrite", full)
    with pytest.raises(StorageError) as e:
        DirLock(tmp_path / "run", "harness run").acquire()
    assert e.value.message == f"{tmp_path / 'run' / '.lock'}: No space left on device" and "free space" in e.value.hint


def test_a_full_output_directory_names_the_file_being_written(full_tmpfs):
    """The attack pass saw `error: ?: No space left on device` from `harness run --out <full disk>`."""
    with pytest.raises(StorageError) as e:
        DirLock(full_tmpfs / "run", "harness run").acquire()
    assert e.value.message == f"{full_tmpfs / 'run' / '.lock'}: No space left on device"
    with pytest.raises(StorageError) as e:
        atomic_write_text(full_tmpfs / "run" / "manifest.json", "{}" * 10000)
    assert e.value.message == f"{full_tmpfs / 'run' / 'manifest.json'}: No space left on device"
    assert sorted(p.name for p in (full_tmpfs / "run").iterdir()) == [".lock"]  # no temp file left behind
