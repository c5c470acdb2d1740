"""Choosing and ordering comparison rows: ``--filter`` terms and ``--sort`` keys (on the DataFrame), and the rows as
a DataFrame with a fixed column order (``compare --csv/--parquet``)."""

from __future__ import annotations

import operator
import re

from harness.errors import ResultsError
from harness.results.compare import COMPARE_COLUMNS

SORT_KEYS = {
    "energy": ("energy_per_frame_mj", False),
    "latency": ("latency_p50_ms", False),
    "f1": ("f1", True),
    "fps_per_w": ("fps_per_w", True),
}


# short names people type for the columns (``--filter 'p50<25'``, ``--sort fps_per_w``)
ALIASES = {"p50": "latency_p50_ms", "p99": "latency_p99_ms", "latency": "latency_p50_ms", "mean": "latency_mean_ms",
           "energy": "energy_per_frame_mj", "mj": "energy_per_frame_mj", "w": "mean_w", "watts": "mean_w",
           "fpsw": "fps_per_w", "fps_w": "fps_per_w", "xref": "speedup_vs_ref", "speedup": "speedup_vs_ref",
           "params": "params", "temp": "peak_temp_c", "prune": "prune_ratio", "repeat": "repeat",
           "n": "repeats", "busy": "contended"}
_OPS = {">=": operator.ge, "<=": operator.le, "!=": operator.ne, "=": operator.eq, ">": operator.gt, "<": operator.lt}
_TERM = re.compile(r"^\s*([A-Za-z_0-9]+)\s*(>=|<=|!=|=|>|<|~)\s*(.+?)\s*$")


def column_of(name: str, columns) -> str:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in columns:
        import difflib

        close = difflib.get_close_matches(name.lower(), sorted(set(columns) | set(ALIASES)), n=3, cutoff=0.5)
        guess = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        raise ResultsError(f"unknown column {name[:80]!r}{guess}",
                           f"`harness schema columns` lists the columns; short names: {', '.join(sorted(ALIASES))}")
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
