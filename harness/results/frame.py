"""Results as pandas DataFrames: one tidy row per (run, cell, repeat), units in the column names.

    import harness.results as hr
    df = hr.load_frame(["results/orin-run", "results/gpu-run"])
    df[df.status == "ok"].groupby(["device", "variant"]).latency_p50_ms.median()

The columns are the registry's (``results.columns``: what summary.csv holds) plus the run's own:
``device`` (its profile's name), ``device_kind`` (jetson, desktop-gpu, ...), ``run_dir`` and ``variant``
(a readable label).
``aggregate_repeats`` folds the repeats of a cell into one row with the rerun intervals of its repeats.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.results.columns import ANY, INTERVALS, MEANS
from harness.results.load import Run, load_runs, run_paths
from harness.results.rows import SUMMARY_COLUMNS, flatten
from harness.results.stats import LEVEL, rerun_interval

RUN_COLUMNS = ["device", "device_kind", "run_dir", "variant"]
COLUMNS = [*SUMMARY_COLUMNS, *RUN_COLUMNS]


def variant_label(fmt, precision, prune_ratio, finetuned, dla_core=None, gpu_fallback=True, power_mode=None,
                  recovery=None) -> str:
    """``tensorrt int8 p30% +ft dla0 @15W``: format, precision, pruning, recovery (``+bn`` BatchNorm corrected,
    ``+ft`` fine-tuned), DLA core, power mode."""
    v = f"{fmt} {precision}"
    if prune_ratio:
        v += f" p{round(prune_ratio * 100)}%"
    if finetuned or recovery == "finetune":
        v += " +ft"
    elif recovery == "bn":
        v += " +bn"
    if dla_core is not None and dla_core == dla_core:  # not NaN (a DataFrame's missing value)
        v += f" dla{int(dla_core)}" + ("" if gpu_fallback is not False else " only")
    if power_mode:
        v += f" @{power_mode}"
    return v


def run_rows(run: Run) -> list[dict]:
    """The rows of one run as plain dicts (None where unknown): ``COLUMNS``, one per record."""
    rows = []
    kind = (run.manifest.get("profile") or {}).get("kind")
    simulated = run.simulated  # a row key, not a column: compare's notes and the report's banner say it
    for rec in run.records:
        row = flatten(rec)
        row.update(run_id=run.run_id, device=run.device, device_kind=kind, run_dir=str(run.root), simulated=simulated,
                   variant=variant_label(row["format"], row["precision"], row["prune_ratio"], row["finetuned"],
                                         row["dla_core"], row["gpu_fallback"], row["power_mode"], row["recovery"]))
        rows.append(row)
    return rows


def run_frame(run: Run) -> pd.DataFrame:
    return pd.DataFrame(run_rows(run), columns=COLUMNS)


def runs_frame(runs: list[Run]) -> pd.DataFrame:
    """Every record of every run, one row each (repeats included)."""
    frames = [run_frame(r) for r in runs]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def load_frame(paths: str | Path | list[str | Path]) -> pd.DataFrame:
    """The DataFrame of the given run directories (records upgraded and validated on the way): one path or a list,
    a glob (``"results/*-orin-*"``) or a results directory (every run under it, campaigns' runs included)."""
    return runs_frame(load_runs(run_paths(paths)))


def _num(v) -> bool:
    return v is not None and v == v


def aggregate_repeats(df: pd.DataFrame) -> pd.DataFrame:
    """``fold_repeats`` on a DataFrame of ``runs_frame`` rows."""
    if df.empty:
        return df.assign(repeats=pd.Series(dtype=int), ci_method=pd.Series(dtype=object))
    return pd.DataFrame(fold_repeats(df.to_dict("records")))


def fold_repeats(rows: list[dict]) -> list[dict]:
    """One row per (run, cell), in order of first appearance. A cell with two or more ok repeats gets, for p50
    latency and energy per frame, the geometric mean of its repeats and the interval where a rerun's would land
    (``stats.rerun_interval``), and the mean of the other numbers; ``contended`` if any repeat was. A cell measured
    once keeps its own values, with no rerun interval (``n=1``). ``repeats`` and ``ci_method`` say which.
    Linear in the rows (plain dicts: a missing value is None or NaN)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["run_id"], r["cell_id"]), []).append(r)
    return [_fold(g) for g in groups.values()]


def _fold(g: list[dict]) -> dict:
    ok = [r for r in g if r["status"] == "ok"]
    if len(ok) < 2:
        row = dict(ok[0] if ok else g[0])
        # its record's own block: a run's single window has no rerun interval (``ci_kind`` window, n=1)
        rerun = row.get("ci_kind") == "rerun"
        row.update(repeats=len(ok), ci_method=("rerun interval (from the record)" if rerun else
                                               "n=1: one window, no rerun interval") if ok else None)
        return row
    row = dict(ok[0])
    shares = [r.get("other_cpu_share") for r in ok]
    for col, (lo, hi, wlo, whi) in INTERVALS.items():  # the registry's repeats=interval columns
        vals = [r.get(col) for r in ok]
        within = [(r[wlo], r[whi]) if _num(r.get(wlo)) and _num(r.get(whi)) else None for r in ok]
        got = rerun_interval(vals, within, LEVEL, shares) if all(_num(v) for v in vals) else None
        row[col] = float(got[0]) if got else None
        row[lo], row[hi] = got[1] if got else (None, None)
        row[wlo], row[whi] = None, None  # a window's spread belongs to its repeat, not to the aggregate
    for col in MEANS:  # repeats=mean
        vals = [v for v in (r.get(col) for r in ok) if _num(v)]
        row[col] = float(sum(vals) / len(vals)) if vals else None
    for col in ANY:  # repeats=any
        flags = [v for v in (r.get(col) for r in ok) if _num(v)]
        row[col] = any(bool(v) for v in flags) if flags else None
    busy = sum(bool(r.get("contended")) for r in ok if _num(r.get("contended")))
    reasons = [v for v in (r.get("contended_reason") for r in ok) if isinstance(v, str) and v]
    row["contended_reason"] = f"{busy} of {len(ok)} repeats: {reasons[0]}" if row["contended"] and reasons else None
    first = g[0]["status"]
    row.update(repeats=len(ok), repeat=None, ci_kind="rerun", ci_method=f"rerun interval over {len(ok)} repeats",
               status=first if all(r["status"] == first for r in g) else "ok")
    return row
