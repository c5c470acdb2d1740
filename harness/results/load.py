"""Loading run directories for comparison: manifest + records, upgraded to the current schema.

Records from older harness versions are upgraded on read (``upgrade``); a
record from a newer schema than this harness knows fails with the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import ResultsError
from harness.results.record import upgrade
from harness.results.store import RunStore


@dataclass
class Run:
    root: Path
    manifest: dict
    records: list[dict]

    @property
    def run_id(self) -> str:
        return self.manifest.get("run_id", self.root.name)

    @property
    def simulated(self) -> bool:
        """Measured on a simulated board (``harness sim``): its profile or a record says so. Not a measurement."""
        prof = self.manifest.get("profile") or {}
        return prof.get("simulated") is True or any(r.get("simulated") is True for r in self.records)

    @property
    def device(self) -> str:
        prof = self.manifest.get("profile") or {}
        return prof.get("name") or (self.records[0].get("device_profile") if self.records else "?")


def load_run(path: str | Path) -> Run:
    store = RunStore(Path(path))
    manifest = store.read_manifest()
    records = [upgrade(r, store.records_path, manifest["run_id"]) for r in store.read_records()]
    return Run(store.root, manifest, records)


def runs_under(results_dir: Path) -> list[Path]:
    """The run directories under a results directory: ``<id>/`` and a campaign's ``<name>/runs/<id>/``."""
    found = [p.parent for pat in ("*/manifest.json", "*/runs/*/manifest.json") for p in Path(results_dir).glob(pat)]
    return sorted(p for p in found if not p.name.startswith("."))


def run_paths(paths) -> list[Path]:
    """What a person passes, as run directories: one path (str or Path) or several; a glob (``results/*-orin-*``);
    a results directory holding runs (every run under it). A glob that finds no run is an error naming it."""
    import glob

    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    out: list[Path] = []
    for item in items:
        text = str(item)
        pattern = any(c in text for c in "*?[")
        found = len(out)
        for m in map(Path, sorted(glob.glob(text)) if pattern else [text]):
            if (m / "manifest.json").is_file() or not m.is_dir():
                out.append(m)
            else:  # a results directory; a glob's other matches (the catalogue, a report) are passed over
                out.extend(runs_under(m) or ([] if pattern else [m]))
        if pattern and len(out) == found:
            raise ResultsError(f"{text}: no run directory matches", "check the pattern, or pass a results directory")
    return out


def _holds_nothing(path: Path) -> bool:
    """A directory without a manifest or a single record (a deploy that failed before its first cell, an empty
    directory): nothing to compare, and ``compare results/*`` should not stop on it."""
    store = RunStore(path)
    if not path.is_dir() or store.manifest_path.exists():
        return False
    return not (store.records_path.is_file() and store.records_path.stat().st_size > 0)


def load_runs(paths: list[Path], warn=None) -> list[Run]:
    """The runs at ``paths``; a directory that holds no record at all is passed over with a one-line warning
    (``warn``, default stderr)."""
    if not paths:
        raise ResultsError("no run directories given", "pass one or more results/<run-id> directories")
    empty = [Path(p) for p in paths if _holds_nothing(Path(p))]
    if empty and len(empty) == len(paths):
        raise ResultsError(f"{empty[0]}: not a run directory (no manifest.json, no records)"
                           + (f"; nor are the {len(empty) - 1} others" if len(empty) > 1 else ""),
                           "pass a directory made by `harness run` or `harness deploy`")
    for p in empty:
        (warn or _stderr)(f"{p}: no records (not a run, or a deploy that failed before its first cell): skipped")
    runs = [load_run(p) for p in paths if Path(p) not in empty]
    seen: dict[str, Path] = {}
    for run in runs:  # rows, baselines and report files are keyed by run id: two runs with one id would mix
        if run.run_id in seen:
            raise ResultsError(f"{run.root} and {seen[run.run_id]} have the same run id {run.run_id!r}",
                               "pass each run once (a copied run keeps its id: compare it with the other, not beside it)")
        seen[run.run_id] = run.root
    return runs


def _stderr(message: str) -> None:
    import sys

    from harness.errors import printable

    print(f"warning: {printable(message)}", file=sys.stderr)
