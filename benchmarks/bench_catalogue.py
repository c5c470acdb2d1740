"""The results catalogue at lab scale: adding a run, `history` and `regressions` at 100, 1 000 and 10 000 runs.

Each size is a catalogue of synthetic runs (10 devices, one run a night each, 8 cells a run: the four formats of
yolov8n and yolo11n; numbers with a night-to-night wobble and 3 % intervals), written as the catalogue writes a
partition (one Parquet file per device and year). Then, timed in this process (median of --repeat):

- add: one real run directory (hand-made, 8 cells) added to the catalogue: load, convert, rewrite its partition;
- history: one configuration's whole history (``history(config=...)``), every run of it;
- regressions: the latest run of every configuration against its previous 5 (``regressions()``).

``found`` is what ``regressions()`` lists afterwards: the added run's yolo11n cells are 10 % faster than that
device's history (4 configurations, latency and energy: 8 changes), its yolov8n cells are not.

Rows touched: add reads and rewrites one device-year (up to 365 runs); history reads one configuration's rows
(runs / 10); regressions reads 6 runs of each of the 80 configurations. The files opened grow with the devices and years.

    .venv/bin/python benchmarks/bench_catalogue.py [--sizes 100,1000,10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from harness.catalogue.history import history
from harness.catalogue.regressions import regressions
from harness.catalogue.store import Catalogue, partition_name
from harness.catalogue.table import SCHEMA, config_key
from harness.config.suite import Cell
from harness.testing.fakes.runs import make_run, record

DEVICES = [f"board-{i}" for i in range(10)]
VARIANTS = [("pytorch", "fp32", 45.0), ("onnx", "fp16", 20.0), ("tensorrt", "fp16", 6.5), ("tensorrt", "int8", 3.5)]
MODELS = ["yolov8n", "yolo11n"]
START = dt.datetime(2024, 1, 1, 2, tzinfo=dt.timezone.utc)


def synth_catalogue(root: Path, runs: int) -> Catalogue:
    """``runs`` runs (round-robin over the devices, one a night each) written as partitions."""
    cat = Catalogue(root)
    parts: dict[Path, dict[str, list]] = {}
    names = SCHEMA.names
    for i in range(runs):
        dev, night = DEVICES[i % len(DEVICES)], i // len(DEVICES)
        when = START + dt.timedelta(days=night)
        path = cat.root / partition_name(dev) / f"year={when.year}" / "runs.parquet"
        cols = parts.setdefault(path, {n: [] for n in names})
        for m, model in enumerate(MODELS):
            for fmt, prec, p50 in VARIANTS:
                p50 = p50 * (1 + m * 0.1) * (1 + 0.01 * ((i * 7 + m) % 5 - 2))
                row = {n: None for n in names}
                variant = f"{fmt} {prec}"
                row.update(run_id=f"{dev}-n{night}", cell_id=f"q.{model}.{fmt}-{prec}", device=dev, device_kind="jetson",
                           run_dir=f"/lab/results/{dev}-n{night}", model=model, format=fmt, precision=prec,
                           variant=variant, imgsz=640, status="ok", latency_p50_ms=p50,
                           latency_p50_ci_lo_ms=p50 * 0.97, latency_p50_ci_hi_ms=p50 * 1.03,
                           energy_per_frame_mj=p50 * 7.0, energy_per_frame_ci_lo_mj=p50 * 6.8,
                           energy_per_frame_ci_hi_mj=p50 * 7.2, fps_per_w=1000 / (p50 * 7.0), f1=0.62,
                           settings_sequence_name="MOT17-02-SDP", env_tensorrt="10.3.0", run_created_at=when)
                row["config"] = config_key(row)
                for n in names:
                    cols[n].append(row[n])
    for path, cols in parts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({f.name: pa.array(cols[f.name], f.type) for f in SCHEMA}, schema=SCHEMA), path,
                       compression="zstd")
    return cat


def one_run(root: Path, runs: int) -> Path:
    """A real run directory for the device with the most recent night."""
    dev = DEVICES[(runs - 1) % len(DEVICES)]
    night = (runs - 1) // len(DEVICES) + 1
    recs = [record("new", dev, Cell("q", model, fmt, prec), p50=p50, f1=0.62, mean_w=7.0, energy_mj=p50 * 7.0,
                   ci_pct=3, idle_w=4.0) for model in MODELS for fmt, prec, p50 in VARIANTS]
    return make_run(root / "incoming", "new", dev, recs, created_at=(START + dt.timedelta(days=night)).isoformat())


def median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'runs':>6} {'rows':>7} {'files':>5} {'add s':>7} {'history s':>9} {'regressions s':>13} {'found':>5}")
    results = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            cat = synth_catalogue(root, n)
            run = one_run(root, n)
            add = median_s(lambda: cat.add(run), args.repeat)
            config = config_key({"device": DEVICES[0], "model": "yolov8n", "variant": "tensorrt int8", "imgsz": 640,
                                 "settings_sequence_name": "MOT17-02-SDP"})
            hist = median_s(lambda: history(cat, config=config), args.repeat)
            reg = median_s(lambda: regressions(cat), args.repeat)
            rows = cat.connect().execute("SELECT count(*) FROM cells").fetchone()[0]
            found = len(regressions(cat))
            results.append((n, add, hist, reg))
            print(f"{n:>6} {rows:>7} {len(cat.files()):>5} {add:>7.3f} {hist:>9.3f} {reg:>13.3f} {found:>5}")
    if len(results) > 1:
        (n0, a0, h0, r0), (n1, a1, h1, r1) = results[0], results[-1]
        print(f"{n1 // n0}x the runs: add {a1 / a0:.1f}x, history {h1 / h0:.1f}x, regressions {r1 / r0:.1f}x the time")


if __name__ == "__main__":
    main()
