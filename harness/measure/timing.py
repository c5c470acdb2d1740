"""Measuring one cell: warm-up, timed frames with per-stage clocks, quality.

Frames arrive decoded. Each timed frame records pre / infer / post durations
(ns, ``time.perf_counter_ns``) with the device synchronised before every
clock read (the pipeline does that). Nothing else happens inside the timed
loop: detections are kept in preallocated lists and evaluated afterwards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from harness.mot.metrics import Quality, evaluate
from harness.mot.files import BoxTable, GroundTruth, format_det
from harness.measure.pipeline import Pipeline


@dataclass
class Timings:
    """Per-frame stage latencies of the timed frames (ms)."""

    frame_ids: np.ndarray
    pre_ms: np.ndarray
    infer_ms: np.ndarray
    post_ms: np.ndarray

    @property
    def total_ms(self) -> np.ndarray:
        return self.pre_ms + self.infer_ms + self.post_ms

    def to_csv(self) -> str:
        lines = ["frame,pre_ms,infer_ms,post_ms,total_ms"]
        for f, a, b, c, t in zip(self.frame_ids, self.pre_ms, self.infer_ms, self.post_ms, self.total_ms):
            lines.append(f"{int(f)},{a:.4f},{b:.4f},{c:.4f},{t:.4f}")
        return "\n".join(lines) + "\n"


@dataclass
class CellMeasurement:
    timings: Timings
    detections: BoxTable
    quality: Quality | None
    wall_s: float


def run_frames(pipe: Pipeline, frames: list[np.ndarray], frame_ids: list[int], warmup: int,
               marker: Callable[[str], None] | None = None) -> tuple[Timings, BoxTable]:
    """Warm up on the first ``warmup`` frames, then time the rest.

    ``marker("timed_start")`` / ``marker("timed_end")`` bracket the timed loop
    (telemetry integrates energy over exactly that window).
    """
    for frame in frames[:warmup]:
        x, lb = pipe.pre(frame)
        pipe.post(pipe.infer(x), lb)
    timed = frames[warmup:]
    n = len(timed)
    stamps = np.zeros((n, 4), dtype=np.int64)
    outs: list = [None] * n
    clock = time.perf_counter_ns
    if marker:
        marker("timed_start")
    for i, frame in enumerate(timed):
        t0 = clock()
        x, lb = pipe.pre(frame)
        t1 = clock()
        raw = pipe.infer(x)
        t2 = clock()
        outs[i] = pipe.post(raw, lb)
        t3 = clock()
        stamps[i] = (t0, t1, t2, t3)
    if marker:
        marker("timed_end")
    d = np.diff(stamps, axis=1) / 1e6
    ids = np.asarray(frame_ids[warmup:], dtype=np.int64)
    counts = [len(o[1]) for o in outs]
    det = BoxTable(
        np.repeat(ids, counts),
        np.concatenate([o[0] for o in outs]) if n else np.zeros((0, 4)),
        np.concatenate([o[1] for o in outs]) if n else np.zeros(0),
    )
    return Timings(ids, d[:, 0], d[:, 1], d[:, 2]), det


def measure(pipe: Pipeline, frames, frame_ids, warmup: int, gt: GroundTruth | None, iou: float,
            marker: Callable[[str], None] | None = None) -> CellMeasurement:
    """Time the frames and score the detections (kept at the pipeline's conf) against ``gt``."""
    t0 = time.perf_counter()
    timings, det = run_frames(pipe, frames, frame_ids, warmup, marker)
    wall = time.perf_counter() - t0
    quality = None
    if gt is not None:
        quality = evaluate(gt.restrict(timings.frame_ids), det, iou_threshold=iou, conf_threshold=pipe.conf)
    return CellMeasurement(timings, det, quality, wall)


def detections_text(det: BoxTable) -> str:
    return format_det(det.frame, det.xyxy, det.score)
