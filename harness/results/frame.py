"""Results as pandas DataFrames: one tidy row per (run, cell, repeat), units in the column names.

    import harness.results as hr
    df = hr.load_frame(["results/orin-run", "results/gpu-run"])
    df[df.status == "ok"].groupby(["device", "variant"]).latency_p50_ms.median()

The columns are the registry's (``results.columns``: what summary.csv holds) plus the run's own:
``device`` (its profile's name), ``device_kind`` (jetson, desktop-gpu, ...), ``run_dir`` and ``variant``
(a readable label). Where summary.csv's name is easily misread the DataFrame has the registry's ``frame_name``
(``det_precision``: detection precision, beside ``precision``: fp32/fp16/int8). Every column has one nullable
dtype whatever the runs hold (a run without power included): ``Float64``, ``Int64``, ``boolean`` or ``string``,
from the registry's ``kind``; a value that does not fit its column is missing.
``aggregate_repeats`` folds the repeats of a cell into one row with the rerun intervals of its repeats.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.results.columns import ANY, COLUMNS as REGISTRY, INTERVALS, MEANS, fits
from harness.results.load import Run, load_runs, run_paths
from harness.results.rows import SUMMARY_COLUMNS, flatten
from harness.results.stats import LEVEL, rerun_interval

RUN_COLUMNS = ["device", "device_kind", "run_dir", "variant"]
COLUMNS = [*SUMMARY_COLUMNS, *RUN_COLUMNS]  # a flat row's (summary.csv's, compare's rows', the catalogue's)
FOLD_COLUMNS = {"repeats": "int", "ci_method": "text"}  # what ``aggregate_repeats`` adds
KINDS: dict[str, str] = {**{c.name: c.dtype for c in REGISTRY}, **dict.fromkeys(RUN_COLUMNS, "text"), **FOLD_COLUMNS}
DTYPES = {"float": "Float64", "int": "Int64", "bool": "boolean", "text": "string"}
FRAME_NAMES = {c.name: c.frame_name for c in REGISTRY if c.frame_name}  # flat name -> the DataFrame's
FRAME_COLUMNS = [FRAME_NAMES.get(n, n) for n in COLUMNS]  # the DataFrame's, in the same order


def _fit(v, kind: str):
    """``v`` as its column's kind holds it, or None: a NumPy scalar as Python's, a whole float in an int column
    as an int, a value of another type (a bool among numbers, a number among text) as missing."""
    if v is None or v is pd.NA:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        v = v.item()
    if isinstance(v, float) and (v != v or (kind == "int" and not v.is_integer())):
        return None
    if kind == "int" and isinstance(v, float):
        v = int(v)
    return v if fits(v, kind) else None


_TYPES = {"float": {float, int}, "int": {int}, "bool": {bool}, "text": {str}}  # exactly these: no per-value look


def _column(values: list, kind: str):
    """One column's values as its kind's nullable array (linear; a value of another type becomes missing)."""
    if not set(map(type, values)) <= _TYPES[kind] | {type(None)}:
        values = [_fit(v, kind) for v in values]
    return pd.array(values, dtype=DTYPES[kind])  # NaN in a float column becomes <NA>


def typed_frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows (flat dicts) as a DataFrame: each column under its DataFrame name with its registry kind's nullable
    dtype, so a column is never ``object`` because some run had no value (``groupby().mean()`` gives floats)."""
    data = {FRAME_NAMES.get(n, n): _column([r.get(n) for r in rows], KINDS[n]) if n in KINDS
            else pd.Series([r.get(n) for r in rows], dtype=object) for n in columns}  # a user's own column: as is
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))


def flat_rows(df: pd.DataFrame) -> list[dict]:
    """A DataFrame of this module's back as flat rows: registry names, None where missing, Python values."""
    back = {v: k for k, v in FRAME_NAMES.items()}
    missing = lambda v: v is None or v is pd.NA or (isinstance(v, float) and v != v)  # noqa: E731
    cols = [[None if missing(v) else v for v in df[c].to_list()] for c in df.columns]
    names = [back.get(c, c) for c in df.columns]
    return [dict(zip(names, values)) for values in zip(*cols)]


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
    return typed_frame(run_rows(run), COLUMNS)


def runs_frame(runs: list[Run]) -> pd.DataFrame:
    """Every record of every run, one row each (repeats included), in ``FRAME_COLUMNS``."""
    return typed_frame([row for run in runs for row in run_rows(run)], COLUMNS)


def load_frame(paths: str | Path | list[str | Path]) -> pd.DataFrame:
    """The DataFrame of the given run directories (records upgraded and validated on the way): a path (``str`` or
    ``Path``), a glob (``"results/*-orin-*"``), a results directory (every run under it, campaigns' runs included)
    or a list of those. A path that is not a run, or a glob that matches none, is a ``ResultsError`` naming it."""
    return runs_frame(load_runs(run_paths(paths)))


def _num(v) -> bool:
    return v is not None and v == v


def aggregate_repeats(df: pd.DataFrame) -> pd.DataFrame:
    """``fold_repeats`` on a DataFrame of ``runs_frame`` rows: one row per (run, cell), the same dtypes, plus
    ``repeats`` and ``ci_method``."""
    back = {v: k for k, v in FRAME_NAMES.items()}
    columns = [back.get(c, c) for c in df.columns if c not in FOLD_COLUMNS]
    return typed_frame(fold_repeats(flat_rows(df)), [*columns, *FOLD_COLUMNS])


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
