"""Run directories on disk, written atomically (temp file + rename).

    results/<run-id>/
        manifest.json      suite, profile, options, environment, cells and their state
        records.jsonl      one record per finished cell (ok | skipped | failed)
        summary.csv        records flattened (results.record.SUMMARY_COLUMNS), rewritten with the records
        frames/<cell>.csv  raw per-frame latencies (pre, infer, post, total; ms)
        detections/<cell>.txt  the cell's detections in MOT det format
        logs/run.log       what the runner printed

A crash never leaves a half-written file: every write goes to a temp file in
the same directory and is renamed over the old one (``harness.fsutil``). What is
read back is validated (``results.record``): a run directory is input too.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from harness.errors import ResultsError
from harness.fsutil import atomic_write_text, mib_from_env, read_bounded_text, remove_orphan_temps, storage_error
from harness.names import is_safe_name
from harness.results.record import SCHEMA_VERSION, check_manifest, check_record, record_key
from harness.results.rows import SUMMARY_COLUMNS, csv_value, flatten

__all__ = ["RunStore", "atomic_write_text"]

MAX_RESULTS_ENV = "HARNESS_MAX_RESULTS_MIB"
DEFAULT_MAX_RESULTS_MIB = 1024  # 20 000 records of a big suite are ~50 MiB


def max_results_bytes() -> int:
    """Largest manifest.json / records.jsonl read (``HARNESS_MAX_RESULTS_MIB``, default 1 GiB; 1 MiB to 1 TiB)."""
    return mib_from_env(MAX_RESULTS_ENV, DEFAULT_MAX_RESULTS_MIB, ResultsError)


class RunStore:
    """One run directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def records_path(self) -> Path:
        return self.root / "records.jsonl"

    def create(self, manifest: dict) -> None:
        if self.manifest_path.exists():
            raise ResultsError(f"{self.root}: a run already exists here", "use --resume to continue it or choose another --out")
        for sub in ("frames", "detections", "logs"):
            try:
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise storage_error(e, self.root / sub) from e
        self.write_manifest(manifest)
        atomic_write_text(self.records_path, "")

    def write_manifest(self, manifest: dict) -> None:
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, sort_keys=False) + "\n")

    def _read_text(self, path: Path) -> str:
        """A run file as text: a regular file (never a device, FIFO or socket, whatever a symlink says) within
        ``max_results_bytes``, UTF-8; ResultsError naming the file otherwise."""
        if not path.exists():
            raise ResultsError(f"{self.root}: not a run directory (no {path.name})", "pass a directory made by `harness run`")
        return read_bounded_text(path, max_results_bytes(), ResultsError, "run", "restore it from the run's source or "
                                 "start a new run", f"set {MAX_RESULTS_ENV} (MiB) to read a larger run")

    def read_manifest(self) -> dict:
        """The manifest, validated (ResultsError naming the field when it is not one)."""
        try:
            m = json.loads(self._read_text(self.manifest_path))
        except (ValueError, RecursionError) as e:  # ValueError: JSONDecodeError, or an int of 4 300+ digits
            raise ResultsError(f"{self.manifest_path}: corrupt JSON ({str(e)[:160]})", "restore it or start a new run") from None
        version = m.get("schema_version", 0) if isinstance(m, dict) else 0
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise ResultsError(
                f"{self.manifest_path}: schema version {version} is newer than this harness ({SCHEMA_VERSION})",
                "upgrade edge-harness",
            )
        try:
            return check_manifest(m)
        except ValueError as e:
            raise ResultsError(f"{self.manifest_path}: not a run manifest ({e})", "restore it or start a new run") from None

    def remove_stale_temp_files(self) -> int:
        """Delete temp files whose writer is gone (their targets are intact); a live writer's are kept."""
        return remove_orphan_temps(self.root)

    def read_records(self) -> list[dict]:
        """Every record, each validated (ResultsError naming the line and field otherwise)."""
        if not self.records_path.exists():
            return []
        out = []
        for no, line in enumerate(self._read_text(self.records_path).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError) as e:  # ValueError: JSONDecodeError, or an int of 4 300+ digits
                raise ResultsError(f"{self.records_path}:{no}: corrupt record ({str(e)[:160]})",
                                   "delete that line and resume the run") from None
            version = rec.get("schema_version", 0) if isinstance(rec, dict) else None
            if isinstance(version, int) and version > SCHEMA_VERSION:
                raise ResultsError(f"{self.records_path}:{no}: record {str(rec.get('cell_id'))[:80]} has schema version "
                                   f"{version}, this harness reads up to {SCHEMA_VERSION}", "upgrade edge-harness to read this run")
            if isinstance(version, int) and version < SCHEMA_VERSION:
                out.append(rec)  # an older schema: upgraded (and then checked) by results.load
                continue
            try:
                out.append(check_record(rec))
            except ValueError as e:
                raise ResultsError(f"{self.records_path}:{no}: not a run record ({e})", "delete that line and resume the run") from None
        return out

    def put_record(self, record: dict) -> list[dict]:
        """Add (or replace, by key: cell id and repeat) one record; rewrite records.jsonl and summary.csv."""
        return self.put_records([record])

    def put_records(self, new: list[dict]) -> list[dict]:
        """Add (or replace, by cell id) records in one rewrite of records.jsonl and summary.csv (linear in the run)."""
        if not new:
            return self.read_records()
        ids = {record_key(r) for r in new}
        records = [r for r in self.read_records() if record_key(r) not in ids]
        records.extend(new)
        atomic_write_text(self.records_path, "".join(json.dumps(r, sort_keys=False) + "\n" for r in records))
        self.write_summary(records)
        return records

    def write_summary(self, records: list[dict]) -> None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS)
        w.writeheader()
        for r in records:
            w.writerow({k: csv_value(v) for k, v in flatten(r).items()})
        atomic_write_text(self.root / "summary.csv", buf.getvalue())

    def write_cell_file(self, sub: str, cell_id: str, suffix: str, text: str) -> Path:
        if not is_safe_name(cell_id):
            raise ResultsError(f"cell id {cell_id[:80]!r} is not a safe file name", "check the suite's experiment and model names")
        path = self.root / sub / f"{cell_id}{suffix}"
        atomic_write_text(path, text)
        return path

    def log(self, line: str) -> None:
        try:
            (self.root / "logs").mkdir(parents=True, exist_ok=True)
            with open(self.root / "logs" / "run.log", "a") as f:
                f.write(line.rstrip("\n") + "\n")
        except OSError as e:
            raise storage_error(e, self.root / "logs" / "run.log") from e
