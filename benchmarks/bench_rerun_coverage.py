"""Do the intervals cover a rerun? Separate runs of a few quick-suite cells, quiet and beside CPU hogs.

For each condition (quiet; a hog of one core; a hog of two cores, each a plain busy-loop process this script
starts and stops), ``--runs`` separate ``harness run`` processes measure the same cells with the quick suite's
settings (imgsz 320, 30 frames, 5 warm-up, a 1 s window) and ``--repeats`` interleaved repeats. Then, for every
ordered pair of runs (i, j) of a condition and every cell, does run j land inside run i's interval?

- new: run i's rerun interval (``uncertainty.latency_p50_ms``, kind rerun) against run j's geometric mean of
  its repeats (what run j's table shows); and the same from the first 3 repeats only (is 3 enough?);
- old, one window: run i's within-window block bootstrap of its first repeat (what a suite without repeats showed
  as the 95 % interval before) against run j's first-repeat p50;
- old, t over repeats: Student's t interval of the mean of run i's repeats (the previous aggregate) against run
  j's mean of repeats.

Printed per condition: the share of pairs covered by each (all pairs; ``alike``: pairs whose two runs were both
contended or both not), the median relative half-width of each interval, and the share of cells marked
contended. ``--reanalyse DIR`` recomputes the table from kept run directories with this harness's method. The cells are yolov8n PyTorch fp32 and ONNX fp32 (random weights: speed
only; the quick suite's baseline experiment) -- the reference detector's cells need ``harness models reference``
first and behave the same for timing.

    .venv/bin/python benchmarks/bench_rerun_coverage.py [--runs 6] [--repeats 5] [--conditions quiet,hog1,hog2]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUITE = """name: rerun-coverage
frames: 30
warmup: 5
min_duration_s: 1.0
imgsz: 320
experiments:
  - name: baseline
    models: [yolov8n]
    variants:
      - {format: pytorch, precision: fp32}
      - {format: onnx, precision: fp32}
"""
HOG = "while True: pass"


def start_hogs(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(n)]


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.kill()
        p.wait()


def one_run(work: Path, suite: Path, run_id: str, repeats: int) -> list[dict]:
    harness = Path(sys.executable).with_name("harness")
    subprocess.run([str(harness), "run", "--suite", str(suite), "--repeats", str(repeats), "--out", str(work),
                    "--run-id", run_id], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "HARNESS_OFFLINE": "1"})  # a failed cell leaves its repeats out, not the run
    return [json.loads(line) for line in (work / run_id / "records.jsonl").read_text().splitlines() if line.strip()]


def per_cell(records: list[dict]) -> dict[str, dict]:
    """cell -> what each method needs from one run."""
    from harness.results.rerun import within_of
    from harness.results.stats import rerun_interval, t_interval

    out: dict[str, dict] = {}
    for cell in dict.fromkeys(r["cell_id"] for r in records):
        reps = sorted((r for r in records if r["cell_id"] == cell and r["status"] == "ok"), key=lambda r: r["repeat"])
        if not reps:
            continue
        p50s = [r["latency"]["total"]["p50_ms"] for r in reps]
        from harness.results.rerun import cell_uncertainty

        unc = {**cell_uncertainty(reps), "within_window": within_of(reps[0])}  # with this harness's method
        shares = [(r.get("host_state") or {}).get("other_cpu_share") for r in reps]
        few = rerun_interval(p50s[:3], [(within_of(r) or {}).get("latency_p50_ms") for r in reps[:3]], shares=shares[:3])
        out[cell] = {"k3_ci": few[1] if few else None, "k3_value": few[0] if few else None,
                     "new_ci": unc.get("latency_p50_ms"), "new_value": (unc.get("geomean") or {}).get("latency_p50_ms"),
                     "old_ci": (unc.get("within_window") or {}).get("latency_p50_ms"), "old_value": p50s[0],
                     "t_ci": t_interval(p50s), "t_value": statistics.fmean(p50s),
                     "contended": sum(bool((r.get("host_state") or {}).get("contended")) for r in reps) / len(reps)}
    return out


def coverage(runs: list[dict[str, dict]], ci_key: str, value_key: str,
             alike: bool = False) -> tuple[float, float, int]:
    """(share of ordered pairs covered, median relative half-width, pairs); ``alike``: only pairs whose runs were
    both uncontended or both contended (a quiet run cannot promise what a busy one measures: that is what the
    contended mark says)."""
    hits = total = 0
    widths = []
    for a, b in itertools.permutations(runs, 2):
        for cell in a.keys() & b.keys():
            ci, v = a[cell][ci_key], b[cell][value_key]
            if not ci or v is None:
                continue
            if alike and (a[cell]["contended"] > 0) != (b[cell]["contended"] > 0):
                continue
            total += 1
            hits += ci[0] <= v <= ci[1]
            centre = math.sqrt(ci[0] * ci[1]) if ci[0] > 0 else (ci[0] + ci[1]) / 2
            widths.append((ci[1] - ci[0]) / 2 / centre)
    return (hits / total if total else float("nan"), statistics.median(widths) if widths else float("nan"), total)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--conditions", default="quiet,hog1,hog2")
    ap.add_argument("--keep", type=Path, default=None, help="write the run directories here (default: a temp dir)")
    ap.add_argument("--reanalyse", type=Path, default=None,
                    help="no new runs: recompute the table from the run directories of an earlier --keep")
    args = ap.parse_args()
    if args.reanalyse:
        header()
        for name in args.conditions.split(","):
            dirs = sorted(args.reanalyse.glob(f"{name}-[0-9]*"))
            runs = [per_cell([json.loads(x) for x in (d / "records.jsonl").read_text().splitlines() if x.strip()])
                    for d in dirs if (d / "records.jsonl").exists()]
            report(name, runs, args.repeats)
        return
    hogs = {"quiet": 0, "hog1": 1, "hog2": 2}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        suite = work / "suite.yaml"
        work.mkdir(parents=True, exist_ok=True)
        suite.write_text(SUITE)
        one_run(work, suite, "warm", 1)  # builds the ONNX export and the caches once, outside the measured runs
        print(f"{args.runs} runs x {args.repeats} repeats per condition, cells: yolov8n pytorch fp32, onnx fp32 "
              f"(imgsz 320, 1 s windows); {os.cpu_count()} CPUs", flush=True)
        header()
        for name in args.conditions.split(","):
            procs = start_hogs(hogs[name])
            t0 = time.monotonic()
            try:
                time.sleep(1.0 if procs else 0)
                runs = [per_cell(one_run(work, suite, f"{name}-{i}", args.repeats)) for i in range(args.runs)]
            finally:
                stop(procs)
            report(name, runs, args.repeats)
            print(f"{name:<10} ({time.monotonic() - t0:.0f} s)", flush=True)


def header() -> None:
    print(f"{'condition':<10} {'method':<30} {'coverage':>9} {'alike':>6} {'median ±':>9} {'pairs':>6} {'contended':>10}")


def report(name: str, runs: list[dict], repeats: int) -> None:
    busy = statistics.fmean(c["contended"] for r in runs for c in r.values())
    for label, ci, val in ((f"new: rerun interval, k={repeats}", "new_ci", "new_value"),
                           ("new: rerun interval, k=3", "k3_ci", "k3_value"),
                           ("old: one window's bootstrap", "old_ci", "old_value"),
                           ("old: t over repeats (mean)", "t_ci", "t_value")):
        cov, width, pairs = coverage(runs, ci, val)
        alike = coverage(runs, ci, val, alike=True)[0]
        print(f"{name:<10} {label:<30} {cov:>8.0%} {alike:>6.0%} {width:>8.1%} {pairs:>6} {busy:>9.0%}", flush=True)


if __name__ == "__main__":
    main()
