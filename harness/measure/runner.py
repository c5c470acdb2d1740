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

from harness.environment import collect_environment
from harness.mot.files import GroundTruth, read_gt
from harness.mot.sequence import load_sequence
from harness.errors import DataError, HarnessError, ResultsError, StorageError, TelemetryError
from harness.cache import stage_reporter
from harness.fsutil import STORAGE_ERRNOS, storage_error
from harness.measure.threads import cell_threads
from harness.measure.watchdog import CellWatchdog
from harness.results.record import Latency, LatencyStats, Power, Record, record_key
from harness.results.refs import annotate_references
from harness.results.rerun import with_rerun_intervals
from harness.results.rows import at
from harness.results.stats import latency_uncertainty
from harness.results.store import RunStore
from harness.config.suite import Cell, cell_key
from harness.measure.events import CellDone, CellStarted, Handler as Progress, HostBusy, RunStarted, Stage, ignore
from harness.measure.plan import FrameCache, RunPlan, now as _now


class Runner:
    def __init__(self, store: RunStore, plan: RunPlan, progress: Progress | None = None) -> None:
        self.store = store
        self.plan = plan
        self.progress = progress or ignore
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
        from harness.measure.host import HostMonitor, Thresholds
        from harness.measure.power import PowerMeter

        self.power = PowerMeter(plan.profile)
        m = plan.profile.measure
        self.host = HostMonitor(Thresholds(m.max_other_cpu_share, m.max_steal_share))
        self.threads: dict | None = None
        self._calibration = None
        self._manifest: dict = {}
        self.modes = None
        if plan.suite.power_modes:
            from harness.measure.sweep import ModeKeeper

            pm = plan.profile.power_mode
            self.modes = ModeKeeper(store.root, plan.mode_control, pm.nvpmodel, pm.jetson_clocks)

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
        min_s, min_frames = self.plan.window
        return {
            "suite": s.name, "imgsz": s.imgsz, "conf": s.conf, "iou": s.iou, "nms_iou": s.nms_iou,
            "frames": s.frames, "warmup": s.warmup, "sequence": str(self.plan.sequence),
            "sequence_name": self.seq.name, "frame_first": ids[0], "frame_last": ids[-1],
            "timed_first": ids[s.warmup], "letterbox": "square", "weights_policy": s.weights,
            "min_duration_s": min_s, "min_frames": min_frames, "repeats": s.repeats,
        }

    def run(self) -> list[dict]:
        """Run every cell not yet recorded; returns all records of the run. What is alive at the start (torch, the
        decoded frames: millions of objects) is frozen out of the cyclic garbage collector, so the collection after
        each cell looks only at what the cell made (0.16 s -> 0 s a cell with a YOLOv8s loaded)."""
        gc.collect()
        gc.freeze()
        try:
            return self._run()
        finally:
            gc.unfreeze()

    def _run(self) -> list[dict]:
        manifest = self._manifest = self.store.read_manifest()
        self.store.remove_stale_temp_files()
        records = self.store.read_records()
        done = {record_key(r): r["status"] for r in records}
        timed_out = {record_key(r) for r in records if r.get("timed_out")}
        # The cells come from the suite (validated), never from the manifest's list: a manifest that names
        # other cells (edited, or pulled from a device) is refused rather than trusted with file names.
        cells = self.plan.suite.instances()
        listed = [cell_key(c["cell_id"], c.get("repeat", 1)) for c in manifest["cells"]]
        if sorted(listed) != sorted(c.key for c in cells):
            raise ResultsError(f"{self.store.manifest_path}: its cells do not match its suite's",
                               "the manifest was changed; start a new run")
        # A start after the host switched the power mode (``awaiting_mode``) continues the sweep: a cell that failed
        # earlier in it is not retried there (its mode is behind; asking for it again would send the host back, and
        # the host bounds its switches). ``--resume`` by a person retries failed cells, as in any run.
        settled = ("ok", "skipped", "failed") if manifest.get("state") == "awaiting_mode" else ("ok", "skipped")
        todo = [c for c in cells if done.get(c.key) not in settled and c.key not in timed_out]
        manifest["state"] = "running"
        manifest.pop("wanted_mode", None)
        try:  # from here an interrupt (Ctrl-C, SIGTERM) leaves the run marked interrupted, also while it starts
            if self.modes is not None:
                self.modes.start()
            manifest["telemetry"] = {"selected": self.power.backend, "probes": self.power.probe_summary()}
            if todo:
                self._check_host(manifest)
            self.store.write_manifest(manifest)
            self.progress(RunStarted(len(cells), len(todo), str(self.store.root)))
            for i, cell in enumerate(todo, start=1):
                if self.modes is not None and self.modes.hand_over(manifest, cell, self.store):
                    self.power.close()
                    return self.store.read_records()  # the host sets the mode and resumes this run
                self._set_state(manifest, cell.key, "running")
                self.progress(CellStarted(len(cells) - len(todo) + i, len(cells), cell))
                rec = self.run_cell(cell)
                self.store.put_record(rec)
                self._set_state(manifest, cell.key, rec["status"])
                self.progress(CellDone(rec))
        except (KeyboardInterrupt, StorageError) as e:
            self._close(manifest)
            for c in manifest["cells"]:
                if c["state"] == "running":
                    c["state"] = "pending"
            manifest["state"] = "interrupted"
            with contextlib.suppress(StorageError):  # on a full disk this may fail too; the records are intact
                self.store.write_manifest(manifest)
                self.store.log(f"{_now()} interrupted ({type(e).__name__}); resume with: harness run --resume {self.store.root}")
            raise
        self._close(manifest)
        records = with_rerun_intervals(self.store.read_records())  # the cell's repeats give every record its rerun interval
        self.store.put_records(annotate_references(records, self.plan.suite))
        manifest["state"] = "complete"
        manifest["finished_at"] = _now()
        self.store.write_manifest(manifest)
        return self.store.read_records()

    def _close(self, manifest: dict) -> None:
        self.power.close()
        if self.modes is not None:
            self.modes.restore_into(manifest, self.store)

    def _check_host(self, manifest: dict) -> None:
        """Threads applied and the host looked at before the first cell (``threads.start_of_run``)."""
        from harness.measure.threads import start_of_run

        s, m = self.plan.suite, self.plan.profile.measure
        self.threads, manifest["host_at_start"], warn = start_of_run(s.threads if s.threads is not None else m.threads,
                                                                     self.host.limits)
        if warn:
            self.progress(HostBusy(warn.get("contended_reason"), warn.get("threads_warning")))
            self.store.log(f"{_now()} host not quiet at start: {'; '.join(v for v in warn.values() if v)}")

    def _set_state(self, manifest: dict, key: str, state: str) -> None:
        for c in manifest["cells"]:
            if cell_key(c["cell_id"], c.get("repeat", 1)) == key:
                c["state"] = state
        self.store.write_manifest(manifest)

    def run_cell(self, cell: Cell) -> dict:
        """Measure one cell into a record (a plain dict); every outcome becomes ok / skipped / failed."""
        from harness.models.variants import CellSkipped, load_variant

        rec = Record.new(self.plan.run_id, self.plan.profile.name, cell.as_dict(), self.settings(), self.env,
                         self.plan.profile.simulated)
        rec.repeat, rec.started_at = cell.repeat, _now()
        rec.power = Power.none(f"cell did not run ({self.power.backend} selected)")
        t0 = time.perf_counter()
        suite, variant = self.plan.suite, None
        limits = self.plan.profile.timeouts
        watchdog = CellWatchdog(limits.cell_s, lambda: self._hard_timeout(rec, watchdog, t0), limits.cell_grace_s)
        try:
            with watchdog.watch(), stage_reporter(self._stage):
                if cell.power_mode and self.modes is not None:
                    self.modes.enter(cell.power_mode, self._stage, self.store)
                variant = load_variant(cell, suite.imgsz, self.plan.profile.compute, suite.weights, self.calibration,
                                       suite.finetune, suite.pruning)
                rec.model, rec.runtime, rec.build, rec.format_origin = (variant.facts, variant.runtime, variant.build,
                                                                        variant.origin)
                if not self.frames.decoded:
                    self._stage(f"decoding {len(self.frames.paths)} frames")
                frames = self.frames.get()
                if cell.power_mode and self.modes is not None:
                    rec.power_mode = self.modes.facts(cell.power_mode)  # verified, clocks read, just before timing
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
        rec.finished_at, rec.duration_s = _now(), round(time.perf_counter() - t0, 3)
        self.store.log(f"{rec.finished_at} {cell.key} {rec.status} {rec.reason or ''}".rstrip())
        return rec.to_dict()

    def _stage(self, text: str) -> None:
        self.progress(Stage(text))

    def _hard_timeout(self, rec: Record, watchdog: CellWatchdog, t0: float) -> None:
        """The cell is stuck where no signal reaches it: record it failed, then carry on in a fresh process."""
        rec.status, rec.reason, rec.timed_out = "failed", watchdog.reason() + " (hard: the process was restarted)", True
        rec.finished_at, rec.duration_s = _now(), round(time.perf_counter() - t0, 3)
        self.store.put_record(rec.to_dict())
        self._set_state(self._manifest, record_key(rec.to_dict()), "failed")
        self.store.log(f"{rec.finished_at} {record_key(rec.to_dict())} failed {rec.reason}")
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
        min_s, min_frames = self.plan.window
        pipe = Pipeline(variant.backend, variant.device, variant.fp16, s.imgsz, s.conf, s.nms_iou, variant.person_class)
        self._stage("cooling down / idle power" if self.power.active else "timing")
        cooldown = self.power.cooldown()
        self.power.begin()
        if self.power.active:
            self._stage(f"timing (at least {min_s:g} s)" if min_s else "timing")
        self.host.begin()
        try:
            m = measure(pipe, frames, list(self.frames.ids), s.warmup, self.gt, s.iou, self.power.mark, min_frames, min_s)
        finally:
            rec.host_state = state = self.host.end()  # the record validates it into its typed block; keep the dict
            trace, lost = self.power.end_or_error()
        rec.threads = cell_threads(self.threads, variant.build, rec.cell.format, state)
        t, total = m.timings, m.timings.total_ms
        rec.latency = Latency(total=LatencyStats.of(total), pre=LatencyStats.of(t.pre_ms),
                              infer=LatencyStats.of(t.infer_ms), post=LatencyStats.of(t.post_ms))
        rec.n_frames = rec.timed_frames = int(total.size)
        rec.eval_frames, rec.n_warmup = t.eval_frames, s.warmup
        rec.passes = round(total.size / t.eval_frames, 3) if t.eval_frames else None
        rec.fps = round(1000.0 / float(total.mean()), 3) if total.size else None
        rec.timed_wall_s, rec.window_s = round(m.wall_s, 4), round(t.window_s, 4)
        rec.quality = m.quality.as_dict() if m.quality else None
        tuning = getattr(rec.model, "finetune", None)
        if tuning is not None:  # before/after F1: the same cell without fine-tuning, when this run has it
            before = next((r for r in self.store.read_records() if r["cell_id"] == rec.cell_id.removesuffix("-ft")), None)
            tuning["f1_before"] = at(before, "quality", "f1")
            tuning["f1_after"] = rec.quality.f1 if rec.quality else None
        if m.quality is None:
            rec.quality_reason = f"{self.plan.sequence}: no gt/gt.txt, quality not measured"
        try:
            if lost is not None:
                raise lost
            rec.power = self.power.summarise(trace, t.start_s, rec.fps, cooldown)
        except TelemetryError as e:
            if self.plan.profile.telemetry.required:
                raise
            rec.power = self.power.failed(e, cooldown)
        rec.uncertainty = latency_uncertainty(total, rec.power)
        key = record_key(rec.to_dict())
        files = {
            "frames": self._cell_file("frames", key, ".csv", t.to_csv()),
            "detections": self._cell_file("detections", key, ".txt", detections_text(m.detections)),
        }
        if self.power.active and trace is not None:
            files["telemetry"] = self._cell_file("telemetry", key, ".csv", trace.to_csv())
        rec.files = files

    def _cell_file(self, sub: str, cell_id: str, suffix: str, text: str) -> str:
        return str(self.store.write_cell_file(sub, cell_id, suffix, text).relative_to(self.store.root))
