"""The catalogue's files: adding a run, rebuilding from the run directories, and DuckDB over them.

Layout: ``<results>/catalogue/device=<name>/year=<YYYY>/runs.parquet``. Writers hold ``catalogue/.lock``
(flock, blocking: adds are short) for the read-modify-rename of one partition; readers take no lock (a rename is
atomic: they see the old file or the new one). Only files named exactly ``runs.parquet`` are read, so a writer's
temp (``.runs.tmp-<host>-<pid>-....parquet``) left by a kill is never seen; ``index`` removes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from harness.catalogue.table import SCHEMA, conform, run_table, run_time
from harness.errors import ResultsError, StorageError
from harness.fsutil import remove_orphan_temps, staged, storage_error
from harness.results.load import Run, load_run, runs_under

CATALOGUE_DIR = "catalogue"
PART_FILE = "runs.parquet"
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
LOCK_WAIT_S = 120.0


def partition_name(device: str) -> str:
    """The directory name of a device's partition: its name when that is a safe file name, else a hash of it (a
    device name read from a run directory is untrusted; the rows keep the real name)."""
    if _SAFE.fullmatch(device or "") and device not in (".", ".."):
        return f"device={device}"
    return f"device=_{hashlib.sha256((device or '').encode()).hexdigest()[:16]}"


def run_dirs(results_dir: Path) -> list[Path]:
    """The run directories under ``results_dir``: ``<id>/`` and a campaign's ``<name>/runs/<id>/``."""
    return [p for p in runs_under(results_dir) if p.name != CATALOGUE_DIR]


@dataclass
class Indexed:
    runs: int = 0
    rows: int = 0
    temps_removed: int = 0
    skipped: list[str] = field(default_factory=list)  # "<dir>: why" for run directories that could not be read


class Catalogue:
    """The catalogue of the runs under one results directory."""

    def __init__(self, results_dir: Path) -> None:
        self.results_dir = Path(results_dir)
        self.root = self.results_dir / CATALOGUE_DIR

    def key(self, run_dir: Path) -> str:
        """A run's ``run_dir`` in the catalogue: its path under the results directory (``night6``,
        ``camp/runs/camp-orin-r1``), so a results directory moved or copied elsewhere keeps its catalogue."""
        return os.path.relpath(Path(run_dir).resolve(), self.results_dir.resolve())

    def files(self, device: str | None = None) -> list[Path]:
        part = partition_name(device) if device is not None else "device=*"
        return sorted(self.root.glob(f"{part}/year=*/{PART_FILE}"))

    def exists(self) -> bool:
        return bool(self.files())

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise storage_error(e, self.root) from e
        try:
            deadline = time.monotonic() + LOCK_WAIT_S
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StorageError(f"{self.root}: another harness has been writing it for {LOCK_WAIT_S:g} s",
                                           "wait for it, or stop it; then `harness results index` "
                                           f"{self.results_dir}") from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)

    def _part_path(self, run: Run) -> Path:
        return self.root / partition_name(run.device) / f"year={run_time(run).year}" / PART_FILE

    def _write(self, path: Path, table: pa.Table) -> None:
        if table.num_rows == 0:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return
        try:
            with staged(path) as tmp:
                pq.write_table(table, tmp, compression="zstd")
        except OSError as e:
            raise storage_error(e, path) from e

    def _merge(self, path: Path, run_dir: str, new: pa.Table) -> None:
        """Replace the rows of ``run_dir`` in the partition at ``path`` with ``new``."""
        keep = SCHEMA.empty_table()
        if path.is_file():
            old = conform(pq.read_table(path))
            keep = old.filter(pc.invert(pc.equal(old.column("run_dir"), run_dir)))
        self._write(path, pa.concat_tables([keep, new]))

    def add(self, run_dir: Path) -> int:
        """Add (or replace) one run's rows; returns how many. Idempotent: the run's earlier rows are replaced."""
        run = load_run(run_dir)
        return self.add_run(run)

    def add_run(self, run: Run) -> int:
        key = self.key(run.root)
        table = run_table(run, key)
        with self._locked():
            self._merge(self._part_path(run), key, table)
        return table.num_rows

    def index(self) -> Indexed:
        """Rebuild the catalogue from the run directories under the results directory: every partition is
        rewritten from them (one atomic rename each), partitions of runs that are gone are removed, and temps
        left by a killed writer are deleted. Readers see a readable catalogue throughout."""
        done = Indexed()
        parts: dict[Path, list[pa.Table]] = {}
        for d in run_dirs(self.results_dir):
            try:
                run = load_run(d)
                table = run_table(run, self.key(d))
            except (ResultsError, OSError, ValueError) as e:
                done.skipped.append(f"{d}: {getattr(e, 'message', e)}")
                continue
            parts.setdefault(self._part_path(run), []).append(table)
            done.runs += 1
            done.rows += table.num_rows
        with self._locked():
            for path, tables in parts.items():
                self._write(path, pa.concat_tables(tables))
            for stale in set(self.files()) - set(parts):
                stale.unlink()
            done.temps_removed = remove_orphan_temps(self.root)
        return done

    def connect(self, device: str | None = None):
        """A DuckDB connection with the view ``cells`` over the catalogue (empty, with every column, when there
        is nothing yet). ``device`` reads that device's partitions only."""
        import duckdb

        con = duckdb.connect()
        files = self.files(device)
        if files:
            listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
            con.execute(f"CREATE VIEW cells AS SELECT * FROM read_parquet([{listed}], union_by_name = true, "
                        "hive_partitioning = false)")
        else:
            con.register("_empty", SCHEMA.empty_table())
            con.execute("CREATE VIEW cells AS SELECT * FROM _empty")
        return con


def catalogue_for(run_dir: Path) -> Catalogue:
    """The catalogue a run belongs to: ``<results>/catalogue`` for ``<results>/<id>`` and for a campaign's
    ``<results>/<campaign>/runs/<id>``."""
    parent = Path(run_dir).resolve().parent
    return Catalogue(parent.parent.parent if parent.name == "runs" and (parent.parent / "campaign.yaml").is_file()
                     else parent)


def add_finished(run_dir: Path) -> tuple[int, str | None]:
    """Add a finished (or pulled) run to its catalogue: (rows, None), or (0, why) -- a run is never failed by its
    catalogue; ``harness results index`` catches up later."""
    try:
        return catalogue_for(run_dir).add(run_dir), None
    except (ResultsError, StorageError, OSError, ValueError, ImportError, pa.ArrowException) as e:
        return 0, f"not added to the results catalogue ({getattr(e, 'message', e)}): `harness results index` adds it"
