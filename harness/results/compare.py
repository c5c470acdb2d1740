"""The cross-run comparison: one row per (run, cell) with derived columns, built on the results DataFrame.

The rows (``results.frame``: the records flattened, repeats folded into one row with intervals from
the repeats) gain, all from recorded values:
- against the experiment's own reference cell (``results.refs``): ``speedup_vs_ref``,
  ``energy_ratio_vs_ref``, ``f1_delta_vs_ref``, whether each ratio is significant, ``below_floor``;
- against the baseline run (default the first; or a run / device name), the same cell there:
  ``speedup_vs_baseline`` = baseline p50 / p50 and ``energy_ratio_vs_baseline`` = energy per frame /
  baseline's, each with ``..._significant`` (its 95 % interval excludes 1);
- ``pareto_f1_energy`` / ``pareto_f1_latency``: no other ok row of the same device at or above the accuracy
  floor has F1 >= and energy (latency) <= with one of them strictly better; rows below the floor never count.
  Power modes and engine targets (GPU, DLA cores) are dimensions of a cell, so a board's front runs across them;
- ``settings_note``: imgsz / frames / sequence that differ from the baseline run (not comparable).
Rows are plain dicts (None where unknown) with snake_case keys and units in the names.
"""

from __future__ import annotations

import operator
import re

from harness.config.suite import Experiment, Suite
from harness.errors import ResultsError
from harness.results.frame import aggregate_repeats, runs_frame
from harness.results.load import Run
from harness.results.refs import reference_rows
from harness.results.rows import reference_columns
from harness.results.stats import ratio_of, significant

COMPARED_SETTINGS = ("imgsz", "frames", "warmup", "sequence_name", "conf", "iou")
SORT_KEYS = {
    "energy": ("energy_per_frame_mj", False),
    "latency": ("latency_p50_ms", False),
    "f1": ("f1", True),
    "fps_per_w": ("fps_per_w", True),
}
COMPARE_COLUMNS = ["repeats", "ci_method", "speedup_vs_baseline", "speedup_vs_baseline_significant",
                   "energy_ratio_vs_baseline", "energy_vs_baseline_significant", "baseline", "pareto_f1_energy",
                   "pareto_f1_latency", "settings_note"]
DERIVED = {"speedup_vs_baseline": None, "speedup_vs_baseline_significant": None, "energy_ratio_vs_baseline": None,
           "energy_vs_baseline_significant": None, "baseline": None, "pareto_f1_energy": False,
           "pareto_f1_latency": False, "settings_note": None}


def suite_of(run: Run, rows: list[dict]) -> Suite:
    """The run's suite from its manifest; for a run whose manifest lacks one, the experiments its records name
    (with the default reference and floor)."""
    try:
        return Suite.model_validate(run.manifest.get("suite") or {})
    except ValueError:
        exps: dict[str, list[str]] = {}
        for r in rows:
            exps.setdefault(r["experiment"], [])
            if r["model"] not in exps[r["experiment"]]:
                exps[r["experiment"]].append(r["model"])
        return Suite(name=run.run_id, experiments=[Experiment(name=e, models=m) for e, m in exps.items()] or
                     [Experiment(name="none", models=["none"])])


def _plain(df) -> list[dict]:
    """DataFrame rows as dicts with None for missing values."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in df.to_dict("records")]


def pick_baseline(runs: list[Run], baseline: str | None) -> Run:
    """A run by path or run id, else the first run of a device name; default the first run."""
    if baseline is None:
        return runs[0]
    for r in runs:
        if baseline in (str(r.root), r.root.name, r.run_id) or r.root.resolve() == _resolve(baseline):
            return r
    for r in runs:
        if r.device == baseline:
            return r
    known = ", ".join(sorted({r.device for r in runs} | {r.run_id for r in runs}))
    raise ResultsError(f"--baseline {baseline!r}: not one of the runs or devices given ({known})",
                       "pass one of the run directories or a device profile name")


def _resolve(p: str):
    from pathlib import Path

    try:
        return Path(p).resolve()
    except OSError:
        return None


def pareto(rows: list[dict], better_low: str) -> set[int]:
    """Indices of rows not dominated on (F1 high, ``better_low`` low); rows below the accuracy floor never count."""
    pts = [(i, r["f1"], r[better_low]) for i, r in enumerate(rows)
           if r["status"] == "ok" and r["f1"] is not None and r[better_low] is not None and r.get("below_floor") is not True]
    front = set()
    for i, f1, cost in pts:
        dominated = any(f2 >= f1 and c2 <= cost and (f2 > f1 or c2 < cost) for j, f2, c2 in pts if j != i)
        if not dominated:
            front.add(i)
    return front


def _settings_note(row: dict, ref: dict) -> str | None:
    diffs = [f"{k} {row.get(k)} vs {ref.get(k)}" for k in COMPARED_SETTINGS
             if ref.get(k) is not None and row.get(k) is not None and row.get(k) != ref.get(k)]
    return "; ".join(diffs) or None


def _settings(row: dict) -> dict:
    return {k: row.get(k if k == "imgsz" else f"settings_{k}") for k in COMPARED_SETTINGS}


def _ci(row: dict, lo: str, hi: str):
    return (row[lo], row[hi]) if row.get(lo) is not None and row.get(hi) is not None else None


def compare(runs: list[Run], baseline: str | None = None) -> list[dict]:
    """All rows of all runs (repeats folded) with reference and baseline ratios, Pareto marks and notes."""
    base = pick_baseline(runs, baseline)
    rows: list[dict] = []
    for run in runs:
        own = _plain(aggregate_repeats(runs_frame([run])))
        for row in reference_rows(own, suite_of(run, own)):
            rows.append({**row, **reference_columns(row.pop("reference")), **DERIVED})
    base_rows = {r["cell_id"]: r for r in rows if r["run_id"] == base.run_id and r["status"] == "ok"}
    ref_settings = next((_settings(r) for r in rows if r["run_id"] == base.run_id), {})
    p50_ci, e_ci = ("latency_p50_ci_lo_ms", "latency_p50_ci_hi_ms"), ("energy_per_frame_ci_lo_mj", "energy_per_frame_ci_hi_mj")
    for row in rows:
        b = base_rows.get(row["cell_id"])
        if b is not None and row["status"] == "ok":
            row["baseline"] = f"{base.device}/{base.run_id}"
            s, s_ci = ratio_of(b["latency_p50_ms"], _ci(b, *p50_ci), row["latency_p50_ms"], _ci(row, *p50_ci))
            e, e_int = ratio_of(row["energy_per_frame_mj"], _ci(row, *e_ci), b["energy_per_frame_mj"], _ci(b, *e_ci))
            same = row is b
            row.update(speedup_vs_baseline=None if s is None else round(s, 4),
                       speedup_vs_baseline_significant=None if same else significant(s_ci),
                       energy_ratio_vs_baseline=None if e is None else round(e, 4),
                       energy_vs_baseline_significant=None if same else significant(e_int))
        row["settings_note"] = _settings_note(_settings(row), ref_settings)
    for device in dict.fromkeys(r["device"] for r in rows):  # a front per device: across its modes and targets
        mine = [r for r in rows if r["device"] == device]
        for i in pareto(mine, "energy_per_frame_mj"):
            mine[i]["pareto_f1_energy"] = True
        for i in pareto(mine, "latency_p50_ms"):
            mine[i]["pareto_f1_latency"] = True
    return rows


def device_labels(rows: list[dict]) -> list[str]:
    """The device of each row, with the run id added when a device appears in several runs."""
    several = len({r["run_id"] for r in rows}) > len({r["device"] for r in rows})
    return [f"{r['device']}/{r['run_id']}" if several else r["device"] for r in rows]


# --- sorting and filtering (on the DataFrame) ----------------------------------------------------

# short names people type for the columns (``--filter 'p50<25'``, ``--sort fps_per_w``)
ALIASES = {"p50": "latency_p50_ms", "p99": "latency_p99_ms", "latency": "latency_p50_ms", "mean": "latency_mean_ms",
           "energy": "energy_per_frame_mj", "mj": "energy_per_frame_mj", "w": "mean_w", "watts": "mean_w",
           "fpsw": "fps_per_w", "fps_w": "fps_per_w", "xref": "speedup_vs_ref", "speedup": "speedup_vs_ref",
           "params": "params", "temp": "peak_temp_c", "prune": "prune_ratio", "repeat": "repeat"}
_OPS = {">=": operator.ge, "<=": operator.le, "!=": operator.ne, "=": operator.eq, ">": operator.gt, "<": operator.lt}
_TERM = re.compile(r"^\s*([A-Za-z_0-9]+)\s*(>=|<=|!=|=|>|<|~)\s*(.+?)\s*$")


def column_of(name: str, columns) -> str:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in columns:
        known = sorted(set(columns) | set(ALIASES))
        raise ResultsError(f"unknown column {name!r}", f"columns and short names: {', '.join(known)}")
    return key


def filter_rows(rows: list[dict], expr: str) -> list[dict]:
    """Rows matching every ``key OP value`` term (joined by commas; OP = != > >= < <= ~, ~ is a substring match).

    Runs on the DataFrame: a missing value never matches a comparison.
    """
    import pandas as pd

    if not rows:
        return rows
    df = pd.DataFrame(rows)
    mask = pd.Series(True, index=df.index)
    for part in expr.split(","):
        m = _TERM.match(part)
        if not m:
            raise ResultsError(f"--filter {expr!r}: cannot read {part.strip()!r}",
                               "write terms like format=onnx, f1>=0.5, p50<25, device~orin joined by commas")
        key, op, raw = m.groups()
        col = df[column_of(key, df.columns)]
        if op == "~":
            mask &= col.astype(str).str.lower().str.contains(raw.lower(), regex=False) & col.notna()
            continue
        want = _coerce(raw, next((v for v in col if v is not None and v == v), None), key)
        mask &= col.map(lambda v: v is not None and v == v and _OPS[op](v, want)).astype(bool)
    return [r for r, keep in zip(rows, mask.tolist()) if keep]


def _coerce(raw: str, like, key: str):
    if isinstance(like, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(like, (int, float)):
        try:
            return float(raw)
        except ValueError:
            raise ResultsError(f"--filter {key}: {raw!r} is not a number", "compare numeric columns with numbers") from None
    return raw


def sort_key(rows: list[dict], key: str) -> str:
    """The sort actually used: ``key``, or latency when no row has a value for ``key`` (e.g. energy without power)."""
    if key not in SORT_KEYS:
        raise ResultsError(f"--sort {key!r}: unknown", f"use one of: {', '.join(SORT_KEYS)}")
    col = SORT_KEYS[key][0]
    if rows and all(r.get(col) is None for r in rows) and key != "latency":
        return "latency"
    return key


def sort_rows(rows: list[dict], key: str) -> list[dict]:
    import pandas as pd

    col, descending = SORT_KEYS[sort_key(rows, key)]
    if not rows:
        return rows
    order = pd.DataFrame({"v": [r.get(col) for r in rows]}).sort_values("v", ascending=not descending,
                                                                          na_position="last", kind="stable").index
    return [rows[i] for i in order]


def rows_frame(rows: list[dict]):
    """Comparison rows as a DataFrame with a fixed column order: summary.csv's columns, the run's, the comparison's."""
    import pandas as pd

    from harness.results.frame import COLUMNS

    return pd.DataFrame(rows, columns=[*COLUMNS, *COMPARE_COLUMNS])
