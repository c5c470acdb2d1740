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
    """Per-frame stage latencies of the timed frames (ms), when each frame started (perf_counter s) and its pass."""

    frame_ids: np.ndarray
    pre_ms: np.ndarray
    infer_ms: np.ndarray
    post_ms: np.ndarray
    start_s: np.ndarray
    pass_no: np.ndarray
    eval_frames: int
    window_s: float  # from the first timed frame's start to the last one's end

    @property
    def total_ms(self) -> np.ndarray:
        return self.pre_ms + self.infer_ms + self.post_ms

    def to_csv(self) -> str:
        lines = ["frame,pass,pre_ms,infer_ms,post_ms,total_ms"]
        for f, n, a, b, c, t in zip(self.frame_ids, self.pass_no, self.pre_ms, self.infer_ms, self.post_ms, self.total_ms):
            lines.append(f"{int(f)},{int(n)},{a:.4f},{b:.4f},{c:.4f},{t:.4f}")
        return "\n".join(lines) + "\n"


@dataclass
class CellMeasurement:
    timings: Timings
    detections: BoxTable
    quality: Quality | None
    wall_s: float


def run_frames(pipe: Pipeline, frames: list[np.ndarray], frame_ids: list[int], warmup: int,
               marker: Callable[[str], None] | None = None, min_frames: int = 0,
               min_duration_s: float = 0.0) -> tuple[Timings, BoxTable]:
    """Warm up on the first ``warmup`` frames, then time the rest, cycling them until the window is long enough.

    The timed loop runs over the evaluated frames (``frames[warmup:]``) again and again until at least
    ``min_frames`` frames and ``min_duration_s`` seconds are timed (and every evaluated frame once):
    a fast engine's window must be long enough for power sampling. Detections are kept from the first
    pass only (quality is scored once per frame); latency uses every timed frame.
    ``marker("timed_start")`` / ``marker("timed_end")`` bracket the timed loop (telemetry integrates
    energy over exactly that window).
    """
    for frame in frames[:warmup]:
        x, lb = pipe.pre(frame)
        pipe.post(pipe.infer(x), lb)
    evaluated = frames[warmup:]
    n_eval = len(evaluated)
    want = max(n_eval, min_frames)
    stamps = np.zeros((max(want, 64), 4), dtype=np.int64)
    outs: list = [None] * n_eval
    clock = time.perf_counter_ns
    min_ns = int(min_duration_s * 1e9)
    i = 0
    if marker:
        marker("timed_start")
    start = clock()
    while n_eval:
        if i == len(stamps):
            stamps = np.concatenate([stamps, np.zeros_like(stamps)])
        frame = evaluated[i % n_eval]
        t0 = clock()
        x, lb = pipe.pre(frame)
        t1 = clock()
        raw = pipe.infer(x)
        t2 = clock()
        out = pipe.post(raw, lb)
        t3 = clock()
        stamps[i] = (t0, t1, t2, t3)
        if i < n_eval:
            outs[i] = out
        i += 1
        if i >= want and t3 - start >= min_ns:
            break
    if marker:
        marker("timed_end")
    stamps = stamps[:i]
    d = np.diff(stamps, axis=1) / 1e6
    eval_ids = np.asarray(frame_ids[warmup:], dtype=np.int64)
    idx = np.arange(i)
    ids = eval_ids[idx % n_eval] if n_eval else eval_ids
    counts = [len(o[1]) for o in outs]
    det = BoxTable(
        np.repeat(eval_ids, counts),
        np.concatenate([o[0] for o in outs]) if n_eval else np.zeros((0, 4)),
        np.concatenate([o[1] for o in outs]) if n_eval else np.zeros(0),
    )
    window_s = (int(stamps[-1, 3]) - int(stamps[0, 0])) / 1e9 if i else 0.0
    return Timings(ids, d[:, 0], d[:, 1], d[:, 2], stamps[:, 0] / 1e9, idx // max(n_eval, 1), n_eval, window_s), det


def measure(pipe: Pipeline, frames, frame_ids, warmup: int, gt: GroundTruth | None, iou: float,
            marker: Callable[[str], None] | None = None, min_frames: int = 0, min_duration_s: float = 0.0) -> CellMeasurement:
    """Time the frames (see ``run_frames``) and score the first pass's detections (at the pipeline's conf) against ``gt``."""
    t0 = time.perf_counter()
    timings, det = run_frames(pipe, frames, frame_ids, warmup, marker, min_frames, min_duration_s)
    wall = time.perf_counter() - t0
    quality = None
    if gt is not None:
        quality = evaluate(gt.restrict(np.unique(timings.frame_ids)), det, iou_threshold=iou, conf_threshold=pipe.conf)
    return CellMeasurement(timings, det, quality, wall)


def detections_text(det: BoxTable) -> str:
    return format_det(det.frame, det.xyxy, det.score)
