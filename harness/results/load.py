"""Loading run directories for comparison: manifest + records, upgraded to the current schema.

Records from older harness versions are upgraded on read (``upgrade``); a
record from a newer schema than this harness knows fails with the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import ResultsError
from harness.results.record import check_record
from harness.results.schema import SCHEMA_VERSION
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
    def device(self) -> str:
        prof = self.manifest.get("profile") or {}
        return prof.get("name") or (self.records[0].get("device_profile") if self.records else "?")


def upgrade(record: dict, source: Path, run_id: str | None = None) -> dict:
    """Bring a record to SCHEMA_VERSION (v0 = pre-release records without a version)."""
    version = record.get("schema_version", 0)
    if version > SCHEMA_VERSION:
        raise ResultsError(f"{source}: record {record.get('cell_id')} has schema version {version}, this harness reads up to "
                           f"{SCHEMA_VERSION}", "upgrade edge-harness to compare this run")
    if version == 0:
        # v0 kept power as flat fields and latency as {mean_ms, std_ms} only.
        rec = dict(record)
        if run_id is not None:
            rec.setdefault("run_id", run_id)  # v0 records did not repeat their run's id
        if "power" not in rec:
            rec["power"] = {"backend": rec.pop("power_backend", "none"), "mean_w": rec.pop("mean_w", None),
                            "energy_per_frame_mj": rec.pop("energy_per_frame_mj", None), "reason": "upgraded from schema v0"}
        lat = rec.get("latency") or {}
        if lat and "total" not in lat:
            rec["latency"] = {"total": lat}
        rec["schema_version"] = SCHEMA_VERSION
        try:
            return check_record(rec)
        except ValueError as e:
            raise ResultsError(f"{source}: record {str(rec.get('cell_id'))[:80]} (schema v0) is not a run record after "
                               f"upgrading ({e})", "delete that line") from None
    return record


def load_run(path: str | Path) -> Run:
    store = RunStore(Path(path))
    manifest = store.read_manifest()
    records = [upgrade(r, store.records_path, manifest["run_id"]) for r in store.read_records()]
    return Run(store.root, manifest, records)


def load_runs(paths: list[Path]) -> list[Run]:
    if not paths:
        raise ResultsError("no run directories given", "pass one or more results/<run-id> directories")
    return [load_run(p) for p in paths]
