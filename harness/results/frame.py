"""Results as pandas DataFrames: one tidy row per (run, cell, repeat), units in the column names.

    import harness.results as hr
    df = hr.load_frame(["results/orin-run", "results/gpu-run"])
    df[df.status == "ok"].groupby(["device", "variant"]).latency_p50_ms.median()

The columns are ``results.rows.SUMMARY_COLUMNS`` (what summary.csv holds) plus the run's own:
``device`` (its profile's name), ``device_kind`` (jetson, desktop-gpu, ...), ``run_dir`` and ``variant``
(a readable label).
``aggregate_repeats`` folds the repeats of a cell into one row with intervals from the repeats.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.results.load import Run, load_runs
from harness.results.rows import SUMMARY_COLUMNS, flatten
from harness.results.stats import LEVEL, t_interval

RUN_COLUMNS = ["device", "device_kind", "run_dir", "variant"]
COLUMNS = [*SUMMARY_COLUMNS, *RUN_COLUMNS]


def variant_label(fmt, precision, prune_ratio, finetuned, dla_core=None, gpu_fallback=True, power_mode=None) -> str:
    """``tensorrt int8 p30% +ft dla0 @15W``: format, precision, pruning, fine-tune, DLA core, power mode."""
    v = f"{fmt} {precision}"
    if prune_ratio:
        v += f" p{round(prune_ratio * 100)}%"
    if finetuned:
        v += " +ft"
    if dla_core is not None and dla_core == dla_core:  # not NaN (a DataFrame's missing value)
        v += f" dla{int(dla_core)}" + ("" if gpu_fallback is not False else " only")
    if power_mode:
        v += f" @{power_mode}"
    return v


def run_frame(run: Run) -> pd.DataFrame:
    rows = []
    for rec in run.records:
        row = flatten(rec)
        row.update(run_id=run.run_id, device=run.device, device_kind=(run.manifest.get("profile") or {}).get("kind"),
                   run_dir=str(run.root), variant=variant_label(row["format"], row["precision"], row["prune_ratio"],
                                                                row["finetuned"], row["dla_core"], row["gpu_fallback"],
                                                                row["power_mode"]))
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def runs_frame(runs: list[Run]) -> pd.DataFrame:
    """Every record of every run, one row each (repeats included)."""
    frames = [run_frame(r) for r in runs]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def load_frame(paths: list[str | Path]) -> pd.DataFrame:
    """The DataFrame of the given run directories (records upgraded and validated on the way)."""
    return runs_frame(load_runs([Path(p) for p in paths]))


# the numbers a repeat contributes to its cell's aggregate, and the interval columns they fill
_INTERVALS = {"latency_p50_ms": ("latency_p50_ci_lo_ms", "latency_p50_ci_hi_ms"),
              "energy_per_frame_mj": ("energy_per_frame_ci_lo_mj", "energy_per_frame_ci_hi_mj")}
_MEANS = ("latency_mean_ms", "latency_p90_ms", "latency_p99_ms", "fps", "f1", "ap50", "mean_w", "idle_w",
          "dynamic_energy_per_frame_mj", "fps_per_w", "precision_det", "recall")


def aggregate_repeats(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, cell): a cell measured ``repeats`` times gets the mean of its ok repeats, and the
    headline intervals (p50 latency, energy per frame) from Student's t over the repeats; a cell measured
    once keeps its own (block-bootstrap) intervals. ``repeats`` and ``ci_method`` say which."""
    if df.empty:
        return df.assign(repeats=pd.Series(dtype=int), ci_method=pd.Series(dtype=object))
    out = []
    for _, g in df.groupby(["run_id", "cell_id"], sort=False):
        first = g.iloc[0].to_dict()
        ok = g[g.status == "ok"]
        if len(g) == 1 or len(ok) < 2:
            row = (ok.iloc[0] if len(ok) else g.iloc[0]).to_dict()
            row.update(repeats=len(g), ci_method="block bootstrap" if row.get("latency_p50_ci_lo_ms") is not None else None)
            out.append(row)
            continue
        row = ok.iloc[0].to_dict()
        for col, (lo, hi) in _INTERVALS.items():
            vals = [v for v in ok[col].tolist() if v is not None and v == v]
            row[col] = float(sum(vals) / len(vals)) if vals else None
            ci = t_interval(vals, LEVEL) if len(vals) >= 2 else None
            row[lo], row[hi] = (ci if ci else (None, None))
        for col in _MEANS:
            vals = [v for v in ok[col].tolist() if v is not None and v == v]
            row[col] = float(sum(vals) / len(vals)) if vals else None
        row.update(repeats=len(g), repeat=None, ci_method=f"t over {len(ok)} repeats", status=first["status"]
                   if (g.status == first["status"]).all() else "ok")
        out.append(row)
    return pd.DataFrame(out)
