"""Time of `harness compare` and `harness report` over 10 runs of the seed suite (synthesised records).

Ten run directories (different devices, 17 seed-suite cells each, known numbers,
some skipped cells) are written to a temp dir; the real console script is timed
end to end (process start included), best of --repeat.

    .venv/bin/python benchmarks/bench_report.py [--runs 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.config.suite import load_suite
from harness.testing.fakes.runs import make_run, record

DEVICES = ["orin-nano", "orin-nx", "agx-orin", "xavier-nx", "desktop-gpu", "desktop-cpu"]


def synth_runs(root: Path, n: int) -> list[Path]:
    cells = load_suite("seed").cells()
    dirs = []
    for i in range(n):
        dev = DEVICES[i % len(DEVICES)]
        rid = f"{dev}-{i:02d}"
        recs = []
        for j, c in enumerate(cells):
            if c.format == "tensorrt" and dev == "desktop-cpu":
                recs.append(record(rid, dev, c, status="skipped", reason="TensorRT needs a CUDA device"))
                continue
            speed = (1 + i % 6) * (1 + j % 5)
            recs.append(record(rid, dev, c, p50=5.0 * speed, p99=6.0 * speed, f1=0.4 + 0.01 * (j % 9), ap50=0.5,
                               mean_w=5.0 + i, energy_mj=(5.0 + i) * 5.0 * speed, peak_c=50 + j))
        dirs.append(make_run(root, rid, dev, recs))
    return dirs


def best_of(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    harness = str(Path(sys.executable).parent / "harness")
    with tempfile.TemporaryDirectory() as tmp:
        dirs = [str(d) for d in synth_runs(Path(tmp), args.runs)]
        n_rows = sum(1 for d in dirs for _ in open(Path(d) / "records.jsonl"))
        t_help = best_of([harness, "--help"], args.repeat)
        t_cmp = best_of([harness, "compare", *dirs], args.repeat)
        t_json = best_of([harness, "compare", *dirs, "--json"], args.repeat)
        t_rep = best_of([harness, "report", *dirs, "--out", str(Path(tmp) / "report")], args.repeat)
        size_kb = (Path(tmp) / "report" / "report.html").stat().st_size / 1024
    print(f"{args.runs} seed-suite runs, {n_rows} records; best of {args.repeat}, process start included")
    print(f"  harness --help           {t_help:6.2f} s   (process start floor)")
    print(f"  harness compare (table)  {t_cmp:6.2f} s")
    print(f"  harness compare --json   {t_json:6.2f} s")
    print(f"  harness report           {t_rep:6.2f} s   (report.html {size_kb:.0f} KB with embedded plots)")


if __name__ == "__main__":
    main()
