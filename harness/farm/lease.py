"""A board held from a pool (``Lease``) and this host's record of the leases it holds (``LeaseBook``).

Each lease a harness process takes is written to ``<state dir>/farm/<place>.json`` with the process's
pid and start time. A harness killed with SIGKILL cannot give its board back; the next start reads the
record, sees the process is gone and either adopts the board (it resumes that run) or releases it.
A record whose release could not reach the coordinator stays, marked, until a later start releases it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.fsutil import atomic_write_text, storage_error
from harness.paths import state_dir


@dataclass
class Lease:
    """A board leased from a pool: where to reach it and who holds it since when."""

    pool: str  # "labgrid" (or "ssh": a fixed host, nothing leased)
    place: str
    host: str
    user: str
    port: int
    tags: dict[str, str] = field(default_factory=dict)
    holder: str = ""  # the coordinator's host/user of the holder
    since: float = 0.0  # epoch s
    coordinator: str = ""
    token: str = ""  # the reservation the place was allocated through

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def where(self) -> str:
        return f"{self.place} ({self.user}@{self.host}:{self.port})"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22), None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 and fields[0] != "Z" else None


def alive(pid: int, started: str | None) -> bool:
    """Is the process that wrote a record still the same running process (not a reused pid)?"""
    now = _start_time(pid)
    return now is not None and (started is None or now == started)


class LeaseBook:
    """``<state dir>/farm/*.json``: one record per place this host holds, with the holding process."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else state_dir() / "farm"

    def _path(self, coordinator: str, place: str, holder: str) -> Path:
        """One file per coordinator, place and holder (two users of this host may hold the same place in turn)."""
        safe = lambda s: "".join(c if c.isalnum() or c in "-_." else "_" for c in s)  # noqa: E731
        return self.root / f"{safe(coordinator)}--{place}--{safe(holder)}.json"

    def hold(self, lease: Lease, run_id: str | None) -> None:
        rec = {"lease": lease.as_dict(), "run_id": run_id, "pid": os.getpid(), "started": _start_time(os.getpid()),
               "at": time.time(), "release_pending": False}
        path = self._path(lease.coordinator, lease.place, lease.holder)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, json.dumps(rec))
        except OSError as e:
            raise storage_error(e, path) from e

    def mark_release_pending(self, lease: Lease) -> None:
        path = self._path(lease.coordinator, lease.place, lease.holder)
        if self._read(path) is not None:
            rec = json.loads(path.read_text())
            rec["release_pending"] = True
            atomic_write_text(path, json.dumps(rec))

    def drop(self, lease: Lease) -> None:
        self._path(lease.coordinator, lease.place, lease.holder).unlink(missing_ok=True)

    def forget(self, coordinator: str, place: str) -> None:
        """Every record of ``place`` (``harness farm release``: the place is free, whoever held it)."""
        for rec in self.records(coordinator):
            if rec["lease"].place == place:
                self.drop(rec["lease"])

    @staticmethod
    def _read(path: Path) -> dict | None:
        try:
            rec = json.loads(path.read_text())
            lease = Lease(**rec["lease"])
            pid = int(rec["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return {**rec, "lease": lease, "pid": pid}

    def records(self, coordinator: str) -> list[dict]:
        """This host's records for ``coordinator``, each with ``lease`` (a Lease) and ``live`` (its process runs)."""
        if not self.root.is_dir():
            return []
        out = []
        prefix = self._path(coordinator, "x", "y").name[:-len("x--y.json")]
        for path in sorted(self.root.glob(f"{prefix}*.json")):
            rec = self._read(path)
            if rec is not None:
                rec["live"] = alive(rec["pid"], rec.get("started"))
                out.append(rec)
        return out
