"""Nights of hand-made runs with known changes (the regressions tests, the catalogue benchmark's shape)."""

from __future__ import annotations

from pathlib import Path

from harness.config.suite import Cell
from harness.testing.fakes.runs import make_run, record

CELLS = {"fp32": Cell("quantization", "yolov8n", "pytorch", "fp32"), "onnx": Cell("quantization", "yolov8n", "onnx", "fp16"),
         "trt16": Cell("quantization", "yolov8n", "tensorrt", "fp16"), "int8": Cell("quantization", "yolov8n", "tensorrt", "int8")}
BASE = {"fp32": (45.0, 0.62, 360.0), "onnx": (20.0, 0.62, 150.0), "trt16": (6.5, 0.62, 46.8), "int8": (3.5, 0.616, 23.8)}
WOBBLE = (1.0, 1.006, 0.994, 1.003, 0.997)  # night-to-night: well inside a 3 % rerun interval


def night(root: Path, n: int, device: str = "orin-nano", scale: dict | None = None, f1: dict | None = None,
          failed: tuple[str, ...] = (), env: dict | None = None, run_id: str | None = None) -> Path:
    """Night ``n`` (1-based, 2026-11-0n 02:00 UTC): the four cells with 3 % intervals, ``scale`` multiplying a
    cell's p50, ``f1`` replacing its F1, ``failed`` cells failing."""
    recs, rid = [], run_id or f"night{n}"
    for key, cell in CELLS.items():
        p50, f, e = BASE[key]
        p50 *= WOBBLE[(n - 1) % len(WOBBLE)] * (scale or {}).get(key, 1.0)
        if key in failed:
            recs.append(record(rid, device, cell, status="failed", reason="engine build ran out of memory"))
            continue
        recs.append(record(rid, device, cell, p50=p50, f1=(f1 or {}).get(key, f), mean_w=e / p50,
                           energy_mj=e * WOBBLE[(n - 1) % len(WOBBLE)], idle_w=4.5, ci_pct=3,
                           environment={"l4t": "36.4.3", "tensorrt": "10.3.0", "nvpmodel": "15W", **(env or {})}))
    return make_run(root, rid, device, recs, created_at=f"2026-11-{n:02d}T02:00:00+00:00")
