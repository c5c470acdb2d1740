"""Run directories on disk, written atomically (temp file + rename).

    results/<run-id>/
        manifest.json      suite, profile, options, environment, cells and their state
        records.jsonl      one record per finished cell (ok | skipped | failed)
        summary.csv        records flattened, regenerated after every cell
        frames/<cell>.csv  raw per-frame latencies (pre, infer, post, total; ms)
        detections/<cell>.txt  the cell's detections in MOT det format
        logs/run.log       what the runner printed

A crash never leaves a half-written file: every write goes to a temp file in
the same directory and is renamed over the old one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from harness.errors import ResultsError
from harness.results.schema import SCHEMA_VERSION, SUMMARY_COLUMNS, flatten


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.write_manifest(manifest)
        atomic_write_text(self.records_path, "")

    def write_manifest(self, manifest: dict) -> None:
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, sort_keys=False) + "\n")

    def read_manifest(self) -> dict:
        try:
            m = json.loads(self.manifest_path.read_text())
        except (FileNotFoundError, NotADirectoryError):
            raise ResultsError(f"{self.root}: not a run directory (no manifest.json)", "pass a directory made by `harness run`") from None
        except OSError as e:
            raise ResultsError(f"{self.manifest_path}: cannot read ({e.strerror})", "check the path and permissions") from e
        except json.JSONDecodeError as e:
            raise ResultsError(f"{self.manifest_path}: corrupt JSON ({e})", "restore it or start a new run") from e
        if m.get("schema_version", 0) > SCHEMA_VERSION:
            raise ResultsError(
                f"{self.manifest_path}: schema version {m.get('schema_version')} is newer than this harness ({SCHEMA_VERSION})",
                "upgrade edge-harness",
            )
        return m

    def remove_stale_temp_files(self) -> int:
        """Delete temp files a killed writer left behind (their targets are intact)."""
        stale = list(self.root.rglob(".*.tmp"))
        for f in stale:
            f.unlink(missing_ok=True)
        return len(stale)

    def read_records(self) -> list[dict]:
        if not self.records_path.exists():
            return []
        out = []
        for no, line in enumerate(self.records_path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ResultsError(f"{self.records_path}:{no}: corrupt record ({e})", "delete that line and resume the run") from e
        return out

    def put_record(self, record: dict) -> list[dict]:
        """Add (or replace, by cell id) a record; rewrite records.jsonl and summary.csv."""
        records = [r for r in self.read_records() if r.get("cell_id") != record["cell_id"]]
        records.append(record)
        atomic_write_text(self.records_path, "".join(json.dumps(r, sort_keys=False) + "\n" for r in records))
        self.write_summary(records)
        return records

    def write_summary(self, records: list[dict]) -> None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS)
        w.writeheader()
        for r in records:
            w.writerow(flatten(r))
        atomic_write_text(self.root / "summary.csv", buf.getvalue())

    def write_cell_file(self, sub: str, cell_id: str, suffix: str, text: str) -> Path:
        path = self.root / sub / f"{cell_id}{suffix}"
        atomic_write_text(path, text)
        return path

    def log(self, line: str) -> None:
        (self.root / "logs").mkdir(parents=True, exist_ok=True)
        with open(self.root / "logs" / "run.log", "a") as f:
            f.write(line.rstrip("\n") + "\n")
