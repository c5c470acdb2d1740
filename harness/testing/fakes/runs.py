"""Hand-made run directories with known numbers (tests, the report scale benchmark)."""

from __future__ import annotations

from pathlib import Path

from harness.results.record import SCHEMA_VERSION, Latency, LatencyStats, ModelFacts, Power, Quality, Record
from harness.results.store import RunStore
from harness.config.suite import Cell


def record(run_id: str, device: str, cell: Cell, *, p50: float | None = None, p99: float | None = None,
           f1: float | None = None, ap50: float | None = None, mean_w: float | None = None,
           energy_mj: float | None = None, params: int = 3_157_200, status: str = "ok", reason: str | None = None,
           imgsz: int = 640, frames: int = 200, provenance: str = "pretrained", peak_c: float | None = None,
           throttled: bool | None = None, idle_w: float | None = None) -> dict:
    """A record with these numbers, built as the runner builds one (``Record``); returned as its plain dict."""
    env = {"hostname": f"{device}-host", "torch": "2.x"}
    rec = Record.new(run_id, device, cell.as_dict(), {"imgsz": imgsz, "frames": frames, "warmup": 10, "conf": 0.25,
                                                      "iou": 0.5, "sequence_name": "MOT17-02-SDP"}, env)
    rec.status, rec.reason = status, reason
    if status != "ok":
        rec.power = Power.none(reason or status)
        return rec.to_dict()
    rec.model = ModelFacts(params=params, weights_provenance=provenance, artifact_bytes=params * 2)
    rec.latency = Latency(total=LatencyStats(mean_ms=p50, p50_ms=p50, p99_ms=p99 or p50))
    rec.fps = 1000.0 / p50 if p50 else None
    rec.n_frames = frames - 10
    rec.quality = Quality(f1=f1, ap50=ap50)
    rec.power = Power(backend="fake", scope="module_input", mean_w=mean_w, idle_w=idle_w, energy_per_frame_mj=energy_mj,
                      dynamic_energy_per_frame_mj=(energy_mj - idle_w * p50) if (energy_mj and idle_w) else None,
                      fps_per_w=(rec.fps / mean_w) if (rec.fps and mean_w) else None, peak_temp_c=peak_c,
                      throttled=throttled)
    return rec.to_dict()


def make_run(root: Path, run_id: str, device: str, records: list[dict], suite_name: str = "seed", imgsz: int = 640,
             frames: int = 200) -> Path:
    store = RunStore(root / run_id)
    store.create({"schema_version": SCHEMA_VERSION, "run_id": run_id, "state": "complete",
                  "suite": {"name": suite_name, "imgsz": imgsz, "frames": frames, "warmup": 10},
                  "profile": {"name": device}, "sequence": "/data/MOT17-02-SDP",
                  "environment": {"hostname": f"{device}-host", "board_model": device}, "cells": []})
    for r in records:
        store.put_record(r)
    return store.root
