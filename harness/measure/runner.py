"""Running a suite's cells on this machine into a run directory; resumable.

The runner is the same locally (``harness run``) and inside a device
container. Cells run in suite order; each finished cell (ok, skipped or
failed) is recorded atomically before the next starts, so an interrupted run
loses at most the cell in progress and ``resume`` continues with the rest.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from harness.platform import collect_environment
from harness.mot.files import GroundTruth, read_gt
from harness.mot.sequence import Sequence, decode_frames, load_sequence
from harness.errors import DataError, HarnessError, ResultsError, StorageError, TelemetryError
from harness.fsutil import STORAGE_ERRNOS, storage_error
from harness.measure.watchdog import CellWatchdog
from harness.config.profiles import DeviceProfile
from harness.results.record import SCHEMA_VERSION, Latency, LatencyStats, Power, Record
from harness.results.rows import at
from harness.results.store import RunStore
from harness.config.suite import Cell, Suite

Progress = Callable[[str, dict], None]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id(profile: str, suite: str) -> str:
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{profile}-{suite}"


@dataclass
class RunPlan:
    """Everything a run needs; stored in the manifest so a resume can rebuild it."""

    run_id: str
    suite: Suite
    profile: DeviceProfile
    sequence: Path

    def __post_init__(self) -> None:
        from harness.names import require_safe_name

        require_safe_name(self.run_id, "run id", ResultsError)

    def manifest(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "created_at": _now(),
            "state": "running",
            "suite": self.suite.model_dump(),
            "profile": self.profile.model_dump(),
            "sequence": str(self.sequence.resolve()),
            "environment": collect_environment(),
            "cells": [{**c.as_dict(), "state": "pending"} for c in self.suite.cells()],
        }

    @classmethod
    def from_manifest(cls, m: dict) -> RunPlan:
        try:
            return cls(m["run_id"], Suite.model_validate(m["suite"]), DeviceProfile.model_validate(m["profile"]),
                       Path(m["sequence"]))
        except (KeyError, ValueError) as e:
            raise ResultsError(f"manifest.json: incomplete or invalid ({e})", "start a new run") from e


class FrameCache:
    """Decodes the run's frame window once; a decode error is kept and re-raised per cell."""

    def __init__(self, seq: Sequence, n_frames: int) -> None:
        self.ids, self.paths = seq.window(n_frames)
        self._frames = None
        self._error: DataError | None = None

    def get(self):
        if self._error is not None:
            raise self._error
        if self._frames is None:
            try:
                self._frames = decode_frames(self.paths)
            except DataError as e:
                self._error = e
                raise
        return self._frames


class Runner:
    def __init__(self, store: RunStore, plan: RunPlan, progress: Progress | None = None) -> None:
        self.store = store
        self.plan = plan
        self.progress = progress or (lambda event, data: None)
        self.env = collect_environment()
        self.seq = load_sequence(plan.sequence)
        n_have = len(self.seq.frame_ids)
        if n_have < plan.suite.frames:
            raise DataError(
                f"{plan.sequence}: has {n_have} frames, the suite needs {plan.suite.frames}",
                f"pass --frames {n_have} or use a longer sequence",
            )
        self.gt: GroundTruth | None = read_gt(self.seq.gt_path) if self.seq.gt_path else None
        self.frames = FrameCache(self.seq, plan.suite.frames)
        from harness.measure.power import PowerMeter

        self.power = PowerMeter(plan.profile)
        self._calibration = None
        self._manifest: dict = {}

    def calibration(self):
        """The INT8 calibration set (built on first use; frames never overlap the evaluated ones)."""
        if self._calibration is None:
            from harness.models.calibration import calibration_set

            cal = self.plan.suite.calibration
            self._calibration = calibration_set(self.seq, self.plan.suite.frames, cal.frames, cal.sequence)
        return self._calibration

    def settings(self) -> dict:
        s = self.plan.suite
        ids = self.frames.ids
        return {
            "suite": s.name, "imgsz": s.imgsz, "conf": s.conf, "iou": s.iou, "nms_iou": s.nms_iou,
            "frames": s.frames, "warmup": s.warmup, "sequence": str(self.plan.sequence),
            "sequence_name": self.seq.name, "frame_first": ids[0], "frame_last": ids[-1],
            "timed_first": ids[s.warmup], "letterbox": "square", "weights_policy": s.weights,
        }

    def run(self) -> list[dict]:
        """Run every cell not yet recorded; returns all records of the run."""
        manifest = self._manifest = self.store.read_manifest()
        self.store.remove_stale_temp_files()
        done = {r["cell_id"]: r["status"] for r in self.store.read_records()}
        # The cells come from the suite (validated), never from the manifest's list: a manifest that names
        # other cells (edited, or pulled from a device) is refused rather than trusted with file names.
        cells = self.plan.suite.cells()
        listed = [c["cell_id"] for c in manifest["cells"]]
        if sorted(listed) != sorted(c.cell_id for c in cells):
            raise ResultsError(f"{self.store.manifest_path}: its cells do not match its suite's",
                               "the manifest was changed; start a new run")
        timed_out = {r["cell_id"] for r in self.store.read_records() if r.get("timed_out")}
        todo = [c for c in cells if done.get(c.cell_id) not in ("ok", "skipped") and c.cell_id not in timed_out]
        manifest["state"] = "running"
        manifest["telemetry"] = {"selected": self.power.backend, "probes": self.power.probe_summary()}
        self.store.write_manifest(manifest)
        self.progress("start", {"total": len(cells), "todo": len(todo), "run_dir": str(self.store.root)})
        try:
            for i, cell in enumerate(todo, start=1):
                self._set_state(manifest, cell.cell_id, "running")
                self.progress("cell_start", {"index": len(cells) - len(todo) + i, "total": len(cells), "cell": cell})
                rec = self.run_cell(cell)
                self.store.put_record(rec)
                self._set_state(manifest, cell.cell_id, rec["status"])
                self.progress("cell_done", {"record": rec})
        except (KeyboardInterrupt, StorageError) as e:
            self.power.close()
            for c in manifest["cells"]:
                if c["state"] == "running":
                    c["state"] = "pending"
            manifest["state"] = "interrupted"
            with contextlib.suppress(StorageError):  # on a full disk this may fail too; the records are intact
                self.store.write_manifest(manifest)
                self.store.log(f"{_now()} interrupted ({type(e).__name__}); resume with: harness run --resume {self.store.root}")
            raise
        self.power.close()
        manifest["state"] = "complete"
        manifest["finished_at"] = _now()
        self.store.write_manifest(manifest)
        return self.store.read_records()

    def _set_state(self, manifest: dict, cell_id: str, state: str) -> None:
        for c in manifest["cells"]:
            if c["cell_id"] == cell_id:
                c["state"] = state
        self.store.write_manifest(manifest)

    def run_cell(self, cell: Cell) -> dict:
        """Measure one cell into a record (a plain dict); every outcome becomes ok / skipped / failed."""
        from harness.models.variants import CellSkipped, load_variant

        rec = Record.new(self.plan.run_id, self.plan.profile.name, cell.as_dict(), self.settings(), self.env)
        rec.started_at = _now()
        rec.power = Power.none(f"cell did not run ({self.power.backend} selected)")
        t0 = time.perf_counter()
        suite = self.plan.suite
        variant = None
        limits = self.plan.profile.timeouts
        watchdog = CellWatchdog(limits.cell_s, lambda: self._hard_timeout(rec, watchdog, t0), limits.cell_grace_s)
        try:
            with watchdog.watch():
                variant = load_variant(cell, suite.imgsz, self.plan.profile.compute, suite.weights, self.calibration,
                                       suite.finetune)
                rec.model, rec.runtime, rec.build = variant.facts, variant.runtime, variant.build
                frames = self.frames.get()
                self._measure(rec, variant, frames)
            rec.status = "ok"
        except CellSkipped as e:
            rec.status, rec.reason = "skipped", e.message
        except StorageError:
            raise  # a full disk or an unwritable --out ends the run (resumable), it is not this cell's result
        except HarnessError as e:
            rec.status, rec.reason = "failed", str(e)
        except Exception as e:  # noqa: BLE001 - the boundary where third-party errors are translated
            if isinstance(e, OSError) and e.errno in STORAGE_ERRNOS:
                raise storage_error(e) from e
            # Third-party failures (torch, onnxruntime, ultralytics) end the cell, not the run.
            rec.status, rec.reason = "failed", f"{type(e).__name__}: {e}".splitlines()[0]
            self.store.log(f"{_now()} {cell.cell_id} failed:\n{traceback.format_exc()}")
        finally:
            del variant
            gc.collect()
        if watchdog.fired:  # whatever the timeout interrupted (and however it was reported), the cell timed out
            rec.status, rec.reason = "failed", watchdog.reason()
            rec.timed_out = True
        rec.finished_at = _now()
        rec.duration_s = round(time.perf_counter() - t0, 3)
        self.store.log(f"{rec.finished_at} {cell.cell_id} {rec.status} {rec.reason or ''}".rstrip())
        return rec.to_dict()

    def _hard_timeout(self, rec: Record, watchdog: CellWatchdog, t0: float) -> None:
        """The cell is stuck where no signal reaches it: record it failed, then carry on in a fresh process."""
        rec.status, rec.reason, rec.timed_out = "failed", watchdog.reason() + " (hard: the process was restarted)", True
        rec.finished_at, rec.duration_s = _now(), round(time.perf_counter() - t0, 3)
        self.store.put_record(rec.to_dict())
        self._set_state(self._manifest, rec.cell_id, "failed")
        self.store.log(f"{rec.finished_at} {rec.cell_id} failed {rec.reason}")
        self.restart()

    def restart(self) -> None:
        """Replace this process with ``harness run --resume <run dir>`` (same pid; the run lock is re-taken)."""
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "harness", "run", "--resume", str(self.store.root)])

    def _measure(self, rec: Record, variant, frames) -> None:
        from harness.measure.pipeline import Pipeline
        from harness.measure.timing import detections_text, measure

        s = self.plan.suite
        pipe = Pipeline(variant.backend, variant.device, variant.fp16, s.imgsz, s.conf, s.nms_iou, variant.person_class)
        cooldown = self.power.cooldown()
        self.power.begin()
        try:
            m = measure(pipe, frames, list(self.frames.ids), s.warmup, self.gt, s.iou, self.power.mark)
        finally:
            trace = self.power.end()
        total = m.timings.total_ms
        rec.latency = Latency(total=LatencyStats.of(total), pre=LatencyStats.of(m.timings.pre_ms),
                              infer=LatencyStats.of(m.timings.infer_ms), post=LatencyStats.of(m.timings.post_ms))
        rec.n_frames, rec.n_warmup = int(total.size), s.warmup
        rec.fps = round(1000.0 / float(total.mean()), 3) if total.size else None
        rec.timed_wall_s = round(m.wall_s, 4)
        rec.quality = m.quality.as_dict() if m.quality else None
        tuning = getattr(rec.model, "finetune", None)
        if tuning is not None:  # before/after F1: the same cell without fine-tuning, when this run has it
            before = next((r for r in self.store.read_records() if r["cell_id"] == rec.cell_id.removesuffix("-ft")), None)
            tuning["f1_before"] = at(before, "quality", "f1")
            tuning["f1_after"] = rec.quality.f1 if rec.quality else None
        if m.quality is None:
            rec.quality_reason = f"{self.plan.sequence}: no gt/gt.txt, quality not measured"
        try:
            rec.power = self.power.summarise(trace, int(total.size), rec.fps, cooldown)
        except TelemetryError as e:
            if self.plan.profile.telemetry.required:
                raise
            rec.power = Power.none(f"telemetry failed: {e}")
        files = {
            "frames": self._cell_file("frames", rec.cell_id, ".csv", m.timings.to_csv()),
            "detections": self._cell_file("detections", rec.cell_id, ".txt", detections_text(m.detections)),
        }
        if self.power.active:
            files["telemetry"] = self._cell_file("telemetry", rec.cell_id, ".csv", trace.to_csv())
        rec.files = files

    def _cell_file(self, sub: str, cell_id: str, suffix: str, text: str) -> str:
        return str(self.store.write_cell_file(sub, cell_id, suffix, text).relative_to(self.store.root))
