"""How `harness compare` and `harness report` grow with the records of one run directory (up to 20 000).

One run directory per size (synthesised records: 40 cells per experiment, 3 models x 4 formats x 10 prune
ratios, intervals and power), written with one write each; the real console script is timed end to end
(process start included). Prints seconds per size and the growth factor per 4x records: ~4 is linear,
~16 quadratic. Absolute times drift on a shared machine; the growth factors hold.

    .venv/bin/python benchmarks/bench_results_scale.py [--sizes 1250,5000,20000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.config.suite import Cell
from harness.results.record import SCHEMA_VERSION
from harness.results.store import RunStore
from harness.testing.fakes.runs import record

FORMATS = [("pytorch", "fp32"), ("onnx", "fp32"), ("onnx", "int8"), ("tensorrt", "fp16")]


def synth_run(root: Path, n: int) -> Path:
    store = RunStore(root / f"big{n}")
    store.create({"schema_version": SCHEMA_VERSION, "run_id": f"big{n}", "state": "complete", "suite": {"name": "s"},
                  "profile": {"name": "orin-nano", "kind": "jetson"}, "environment": {}, "cells": []})
    recs = {}
    for i in range(n):
        fmt, prec = FORMATS[i % 4]
        cell = Cell(f"exp{i // 40:04d}", ["yolov8n", "yolov8s", "yolo11n"][i % 3], fmt, prec, (i // 12 % 10) / 20)
        recs[cell.cell_id] = record(f"big{n}", "orin-nano", cell, p50=5.0 + i % 97, f1=0.5 + (i % 11) / 100, ap50=0.6,
                                    mean_w=7.0, energy_mj=30.0 + i % 13, ci_pct=5)
    store.put_records(list(recs.values()))
    return store.root


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1250,5000,20000")
    args = ap.parse_args()
    harness = str(Path(sys.executable).parent / "harness")
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            run = synth_run(Path(tmp), n)
            got = len(RunStore(run).read_records())
            cmp_s = timed([harness, "compare", str(run)])
            rep_s = timed([harness, "report", str(run), "--out", str(Path(tmp) / f"report{n}")])
            rows.append((got, cmp_s, rep_s))
    print("records   compare s   report s   (process start included)")
    for i, (n, c, r) in enumerate(rows):
        grow = "" if i == 0 else (f"   x{rows[i][1] / rows[i - 1][1]:.1f} / x{rows[i][2] / rows[i - 1][2]:.1f} "
                                  f"for x{n / rows[i - 1][0]:.0f} records")
        print(f"{n:7d}   {c:9.1f}   {r:8.1f}{grow}")


if __name__ == "__main__":
    main()
