"""Files the harness writes: atomic replacement, owned temp files, a per-directory lock, OS errors in words.

- ``atomic_write_text`` / ``staged``: readers see the old or the new file, never
  half of it; a failed or interrupted write leaves no temp file behind.
- Temp names carry their owner (``.<name>.tmp-<host>-<pid>-<rand>``) so a cleanup
  only ever removes temps of processes that are gone, never a live writer's.
- ``DirLock``: one writer per run directory (``harness run``/``--resume``,
  ``deploy``/``pull``); the second is refused with the holder's pid and host.
  It is an ``flock`` on ``<dir>/.lock``, so the kernel releases it when the
  holder dies (no stale lock after a crash or kill -9).
- ``storage_error``: an ``OSError`` (disk full, permission, is-a-directory) as
  a one-line ``StorageError`` that names the path and the fix.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

from harness.errors import StorageError

_HOST = socket.gethostname().replace("-", "_")
TEMP_MARK = ".tmp-"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def files_sha256(paths) -> str:
    """SHA-256 of the files' bytes one after the other (the content of a set of images, in order)."""
    import hashlib

    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def mib_from_env(var: str, default_mib: float, error: type) -> int:
    """Bytes from a size in MiB in the environment variable ``var`` (``default_mib`` when unset), 1 MiB to 1 TiB;
    ``error`` (a HarnessError class) naming the variable for anything else (NaN and inf included)."""
    raw = os.environ.get(var, "")
    try:
        mib = float(raw) if raw else float(default_mib)
    except ValueError:
        mib = float("nan")
    if not 1 <= mib <= 1 << 20:  # NaN fails too
        raise error(f"{var}={raw[:40]!r}: not a size in MiB between 1 and {1 << 20}",
                    f"set {var} to a number of MiB, or unset it (default {default_mib:g})")
    return int(mib * (1 << 20))


def read_bounded_text(path: Path, limit_bytes: int, error: type, what: str, fix: str, limit_fix: str) -> str:
    """A regular file of at most ``limit_bytes`` as UTF-8 text; ``error`` (a HarnessError class) names the file
    (and ``what`` it should have been, when given).

    A directory, device, FIFO or socket is refused unread (``/dev/zero`` is never read): the file is opened
    non-blocking (a FIFO without a writer cannot stall the open) and its descriptor's own type is checked, so a
    file swapped after a check is never read either; a file that grows past the limit while read is refused too.
    """
    import stat

    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise error(f"{path}: {what + ' ' if what else ''}file not found", fix) from None
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror})", fix) from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "is a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file (a device, FIFO or socket)"
            raise error(f"{path}: {kind}" + (f", not a {what} file" if what else ""), fix)
        if st.st_size > limit_bytes:
            raise error(f"{path}: {st.st_size / (1 << 20):.1f} MiB, over the {limit_bytes / (1 << 20):g} MiB limit", limit_fix)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read(limit_bytes + 1)
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror})", fix) from e
    finally:
        os.close(fd)
    if len(raw) > limit_bytes:
        raise error(f"{path}: grew past the {limit_bytes / (1 << 20):g} MiB limit while it was read", limit_fix)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text (byte {e.start}): a binary file?", fix) from None


def temp_name(target: Path) -> Path:
    """A sibling temp path of ``target`` that names its owner (host and pid) and keeps its suffix (tools that
    write by extension, such as ``torch.save`` or an exporter, see the same kind of name)."""
    return target.with_name(f".{target.stem}{TEMP_MARK}{_HOST}-{os.getpid()}-{secrets.token_hex(3)}{target.suffix}")


def _file_mode() -> int:
    """0666 minus the umask: results are readable by colleagues and web servers, as plain ``open`` makes them."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def staged(target: Path, directory: bool = False) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on success it replaces ``target``, on any failure it is removed.

    ``directory=True`` makes the temp a directory (a whole sequence, a training run).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise storage_error(e, target.parent) from e
    tmp = temp_name(target)
    if directory:
        tmp.mkdir()
    try:
        yield tmp
        if directory and target.is_dir():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (fsync before rename), mode 0644 under the usual umask."""
    path = Path(path)
    try:
        with staged(path) as tmp:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _file_mode())
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
    except OSError as e:
        raise storage_error(e, path) from e


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def _owner_alive(name: str) -> bool:
    """Whether the process named in a temp file's name still runs (temps of other hosts count as alive)."""
    try:
        host, pid, _ = name.rsplit(TEMP_MARK, 1)[1].rsplit("-", 2)
        pid_n = int(pid)
    except (ValueError, IndexError):
        return False  # an old-style temp (no owner in the name): nobody owns it any more
    if host != _HOST:
        return True
    if pid_n == os.getpid():
        return True
    try:
        os.kill(pid_n, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphan_temps(root: Path) -> int:
    """Delete temp files and directories under ``root`` whose writer is gone; returns how many."""
    gone = 0
    for p in list(Path(root).rglob(f".*{TEMP_MARK}*")) + list(Path(root).rglob(".*.tmp")):
        if p.exists() and not _owner_alive(p.name):
            _remove(p)
            gone += 1
    return gone


class DirLock:
    """An exclusive, non-blocking lock on a directory; ``with DirLock(d, 'harness run'):``."""

    def __init__(self, directory: Path, what: str) -> None:
        self.path = Path(directory) / ".lock"
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> DirLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise storage_error(e, self.path) from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StorageError(f"{self.path.parent}: in use by {holder}",
                               "wait for it to finish (or stop it); two writers would mix their measurements") from None
        try:  # the holder's name, for the next one refused (a full disk fails here first: ENOSPC names no file)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{self.what} (pid {os.getpid()} on {socket.gethostname()})".encode(), 0)
        except OSError as e:
            os.close(fd)
            raise storage_error(e, self.path) from e
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> DirLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)  # the filesystem, not the input, is the problem

STORAGE_FIXES = {
    errno.ENOSPC: "free space on that filesystem (or point --out / HARNESS_CACHE_DIR elsewhere), then resume",
    errno.EDQUOT: "free space within your quota (or point --out / HARNESS_CACHE_DIR elsewhere), then resume",
    errno.EACCES: "check the permissions of that path, or choose another --out / HARNESS_CACHE_DIR",
    errno.EPERM: "check the permissions of that path, or choose another --out / HARNESS_CACHE_DIR",
    errno.EROFS: "that filesystem is read-only: choose another --out / HARNESS_CACHE_DIR",
    errno.EISDIR: "pass a file, not a directory",
    errno.ENOTDIR: "a part of that path is a file, not a directory: check the path",
    errno.ENOENT: "check the path",
    errno.ENAMETOOLONG: "use a shorter path",
}


def nearly_full(directory: Path, min_free_bytes: int = 1 << 20) -> bool:
    try:
        st = os.statvfs(directory)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < min_free_bytes


def storage_error(e: OSError, path: Path | str | None = None) -> StorageError:
    """An OSError as a one-line StorageError naming the path and the fix (finished results are kept).

    Callers pass the path they were writing: a failed ``write`` (ENOSPC, EDQUOT) carries no file name.
    """
    where = path or e.filename
    what = e.strerror or type(e).__name__
    fix = STORAGE_FIXES.get(e.errno, "check the path, free space and permissions")
    if not where:
        return StorageError(f"{what} (the system did not say which file was being written)", fix)
    return StorageError(f"{where}: {what}", fix)
