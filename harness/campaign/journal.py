"""The campaign journal (SQLite, ``<out>/<campaign>/journal.sqlite``): what a host restart must not lose.

Tables: ``devices`` (state pending -> running -> done | quarantined | stopped | budget, consecutive
failures, the reason), ``runs`` (each run id, its repetition, state and attempts), ``cells`` (every
finished cell of every run) and ``events`` (preflight, shipped, started, reconnected, failed ...).
One connection per call and WAL, so worker threads and a ``campaign status`` reader never block each other.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from harness.errors import StorageError
from harness.fsutil import STORAGE_FIXES
from harness.results.record import record_key

SCHEMA = """
create table if not exists devices(device text primary key, state text, failures integer default 0,
                                   reason text, updated real);
create table if not exists runs(run_id text primary key, device text, rep integer, state text, attempts integer default 0,
                                updated real);
create table if not exists cells(run_id text, cell_id text, device text, status text, primary key(run_id, cell_id));
create table if not exists events(ts real, device text, event text, detail text);
"""


class Journal:
    """SQLite journal; one connection per call (threads), WAL for concurrent readers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        with self._file_errors(), self._db() as db:
            db.executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("pragma journal_mode=wal")
        return db

    @contextlib.contextmanager
    def _file_errors(self) -> Iterator[None]:
        """SQLite's words for a full disk, an unwritable directory or a corrupt file as a StorageError naming the
        journal (SQLite names no file); a constraint or SQL error is a bug and stays as it is."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            if type(e) not in (sqlite3.OperationalError, sqlite3.DatabaseError):
                raise
            fix = STORAGE_FIXES[errno.ENOSPC] if "full" in str(e) else \
                "check the campaign directory's permissions (or restore the journal), then resume"
            raise StorageError(f"{self.path}: {e}", fix) from e

    def exec(self, sql: str, *args) -> list[tuple]:
        with self._lock, self._file_errors(), self._db() as db:
            return db.execute(sql, args).fetchall()

    def event(self, device: str, event: str, detail: str = "") -> None:
        self.exec("insert into events values(?,?,?,?)", time.time(), device, event, detail)

    def set_device(self, device: str, state: str, reason: str | None = None, failures: int | None = None) -> None:
        self.exec("insert into devices(device, state, reason, updated) values(?,?,?,?) on conflict(device) do update set "
                  "state=excluded.state, reason=coalesce(excluded.reason, devices.reason), updated=excluded.updated",
                  device, state, reason, time.time())
        if failures is not None:
            self.exec("update devices set failures=? where device=?", failures, device)

    def device(self, device: str) -> dict:
        rows = self.exec("select state, failures, reason from devices where device=?", device)
        return dict(zip(("state", "failures", "reason"), rows[0])) if rows else {"state": "pending", "failures": 0, "reason": None}

    def run_state(self, run_id: str) -> str | None:
        rows = self.exec("select state from runs where run_id=?", run_id)
        return rows[0][0] if rows else None

    def set_run(self, run_id: str, device: str, rep: int, state: str) -> None:
        self.exec("insert into runs(run_id, device, rep, state, updated) values(?,?,?,?,?) on conflict(run_id) do update set "
                  "state=excluded.state, attempts=runs.attempts + (excluded.state='running'), updated=excluded.updated",
                  run_id, device, rep, state, time.time())

    def add_cells(self, run_id: str, device: str, records: list[dict]) -> None:
        for r in records:
            self.exec("insert or replace into cells values(?,?,?,?)", run_id, record_key(r), device, r["status"])

    def summary(self) -> list[dict]:
        rows = self.exec("select d.device, d.state, d.failures, d.reason, "
                         "(select count(*) from cells c where c.device=d.device), "
                         "(select count(*) from runs r where r.device=d.device and r.state='done') from devices d order by d.device")
        return [dict(zip(("device", "state", "failures", "reason", "cells", "runs_done"), r)) for r in rows]
