"""The content cache: artifacts keyed by the hash of their inputs, each built once, atomically.

ONNX exports and INT8 models (``onnx/``), pruned and fine-tuned weights, TensorRT engines, random-init
weights: every one is a ``ContentCache(kind).entry(...)``, so a cache hit, a build's time (``build_s``)
and its key are recorded the same way for all of them, and a killed build never leaves a file that a
later run would take for a result. Builds are single-flight across processes: a second process that wants the
entry a first is building waits for it (``.<name>.lock``, flock: released when the builder exits, however it
exits; the file is removed after the build) and takes the result, rather than building it twice at half the
speed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from contextvars import ContextVar

from harness.errors import StorageError
from harness.fsutil import STORAGE_FIXES, nearly_full, remove_orphan_temps, staged, storage_error, temp_name


# Who wants to hear about a build starting (the runner shows it as the cell's current stage).
_STAGE: ContextVar = ContextVar("harness_stage", default=None)
LABELS = {"onnx": "exporting ONNX", "pruned": "pruning", "finetuned": "fine-tuning", "engines": "building the TensorRT engine",
          "random-init": "building random-init weights", "reference": "building the reference detector"}


@contextlib.contextmanager
def stage_reporter(report) -> Iterator[None]:
    """Within this block, ``report(text)`` hears of every stage announced (cache builds, the runner's own)."""
    token = _STAGE.set(report)
    try:
        yield
    finally:
        _STAGE.reset(token)


def announce(text: str) -> None:
    report = _STAGE.get()
    if report is not None:
        report(text)


@contextlib.contextmanager
def single_flight(path: Path) -> Iterator[None]:
    """Hold the build lock of ``path`` (blocking; says so when another process holds it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            announce(f"waiting for another process to finish building {path.name}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        # removed while held: a waiter on it re-checks and finds the entry; a later process finds the entry first
        # (it is renamed into place before this). After a failed build two waiters may both build: still atomic.
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
        os.close(fd)


@contextlib.contextmanager
def scratch_dir(parent: Path) -> Iterator[Path]:
    """A working directory under ``parent`` that is always removed (its name says whose it is, for orphan cleanup)."""
    d = temp_name(Path(parent) / "work")
    try:
        d.mkdir(parents=True)
    except OSError as e:
        raise storage_error(e, d) from e
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@dataclass(frozen=True)
class CacheEntry:
    """One artifact in the content cache and how it was obtained."""

    path: Path
    key: str
    hit: bool
    build_s: float

    def facts(self) -> dict:
        """What a record says about it (one field name for every cache: ``build_s``, 0.0 on a hit)."""
        return {"cache_key": self.key, "cache_hit": self.hit, "build_s": self.build_s}


class ContentCache:
    """Artifacts keyed by the hash of their inputs, under ``<cache>/<kind>/``; one build per key, atomic.

    ``entry(name_for, parts, build)``: the key hashes ``parts`` (model hashes, versions, settings);
    ``name_for(key)`` is the file name; ``build(tmp)`` writes the artifact to ``tmp`` (a file, or a
    directory with ``directory=True``), which replaces the final path only when ``build`` returns.
    A failed or killed build leaves nothing behind that a later run would take for a result.
    """

    _swept: set[Path] = set()

    def __init__(self, kind: str) -> None:
        self.kind = kind

    @property
    def root(self) -> Path:
        from harness import paths

        return paths.cache_dir() / self.kind

    @staticmethod
    def key(*parts) -> str:
        import hashlib

        return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]

    def entry(self, name_for, parts: tuple, build, directory: bool = False, label: str | None = None) -> CacheEntry:
        key = self.key(*parts)
        return self.entry_at(self.root / name_for(key), key, build, directory, label)

    def entry_at(self, path: Path, key: str, build, directory: bool = False, label: str | None = None) -> CacheEntry:
        """``entry`` for a caller that names the file itself (a key computed elsewhere, e.g. TensorRT's)."""
        if path.exists():
            return CacheEntry(path, key, True, 0.0)
        try:
            with single_flight(path):
                if path.exists():  # built by the process this one waited for
                    return CacheEntry(path, key, True, 0.0)
                return self._build(path, key, build, directory, label)
        except OSError as e:
            raise storage_error(e, path) from e

    def _build(self, path: Path, key: str, build, directory: bool, label: str | None) -> CacheEntry:
        import time

        if self.root not in ContentCache._swept and self.root.is_dir():
            remove_orphan_temps(self.root)  # what killed builds left behind
            ContentCache._swept.add(self.root)
        announce(label or LABELS.get(self.kind, f"building {self.kind}"))
        t0 = time.perf_counter()
        try:
            with staged(path, directory=directory) as tmp:
                try:
                    build(tmp)
                except Exception as e:
                    if not isinstance(e, OSError) and nearly_full(path.parent):
                        # torch.save, exporters and trainers report a full disk in their own words
                        raise StorageError(f"{self.root}: no space left while building {path.name} "
                                           f"({type(e).__name__})", STORAGE_FIXES[errno.ENOSPC]) from e
                    raise
                if not tmp.exists() or (not directory and tmp.stat().st_size == 0):
                    from harness.errors import BenchmarkError

                    raise BenchmarkError(f"building {self.kind}/{path.name} produced nothing", "see logs/run.log")
        except OSError as e:
            raise storage_error(e, path) from e
        return CacheEntry(path, key, False, round(time.perf_counter() - t0, 3))
