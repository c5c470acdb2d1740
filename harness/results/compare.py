"""The cross-run comparison: one row per (device, cell) with derived columns.

Derived columns, all from recorded values:
- ``speedup_vs_baseline`` = baseline latency p50 / row latency p50
- ``energy_ratio_vs_baseline`` = row energy per frame / baseline energy per frame
  (the baseline row is the same cell on the baseline device/run)
- ``pareto_f1_energy`` / ``pareto_f1_latency``: no other ok row has F1 >= and
  energy (latency) <= with one of them strictly better
- ``settings_note``: imgsz / frames / sequence that differ from the baseline run
  (such rows are not comparable)
Rows are plain dicts with snake_case keys and units in the names.
"""

from __future__ import annotations

import operator
import re

from harness.errors import ResultsError
from harness.results.load import Run
from harness.results.rows import at, flatten

COMPARED_SETTINGS = ("imgsz", "frames", "warmup", "sequence_name", "conf", "iou")
SORT_KEYS = {
    "energy": ("energy_per_frame_mj", False),
    "latency": ("latency_p50_ms", False),
    "f1": ("f1", True),
}


def _variant(row: dict) -> str:
    v = f"{row.get('format')} {row.get('precision')}"
    if row.get("prune_ratio"):
        v += f" p{round(row['prune_ratio'] * 100)}%"
    if row.get("finetuned"):
        v += " +ft"
    return v


def row_of(run: Run, rec: dict) -> dict:
    """The record's flat row (``results.record.flatten``) plus what a comparison adds: the run's device,
    a variant label, and the derived columns (filled by ``compare``)."""
    row = flatten(rec)
    row.update(run_id=run.run_id, device=run.device, prune_pct=round((row["prune_ratio"] or 0) * 100),
               finetuned=bool(row["finetuned"]), variant=_variant(row), speedup_vs_baseline=None,
               energy_ratio_vs_baseline=None, baseline=None, pareto_f1_energy=False, pareto_f1_latency=False,
               settings_note=None)
    return row


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
    """Indices of rows not dominated on (F1 high, ``better_low`` low)."""
    pts = [(i, r["f1"], r[better_low]) for i, r in enumerate(rows)
           if r["status"] == "ok" and r["f1"] is not None and r[better_low] is not None]
    front = set()
    for i, f1, cost in pts:
        dominated = any(f2 >= f1 and c2 <= cost and (f2 > f1 or c2 < cost) for j, f2, c2 in pts if j != i)
        if not dominated:
            front.add(i)
    return front


def _settings_note(run: Run, rec: dict, ref: dict) -> str | None:
    st = at(rec, "settings") or {}
    diffs = [f"{k} {st.get(k)} vs {ref.get(k)}" for k in COMPARED_SETTINGS
             if k in ref and k in st and st.get(k) != ref.get(k)]
    return "; ".join(diffs) or None


def compare(runs: list[Run], baseline: str | None = None) -> list[dict]:
    """All rows of all runs with ratios against the baseline, Pareto marks and comparability notes."""
    base = pick_baseline(runs, baseline)
    base_by_cell = {r["cell_id"]: r for r in base.records if r.get("status") == "ok"}
    ref = next((at(r, "settings") or {} for r in base.records), {})
    rows = []
    for run in runs:
        for rec in run.records:
            row = row_of(run, rec)
            b = base_by_cell.get(rec.get("cell_id"))
            if b is not None and row["status"] == "ok":
                row["baseline"] = f"{base.device}/{base.run_id}"
                b_lat = at(b, "latency", "total", "p50_ms")
                b_e = at(b, "power", "energy_per_frame_mj")
                if b_lat and row["latency_p50_ms"]:
                    row["speedup_vs_baseline"] = round(b_lat / row["latency_p50_ms"], 4)
                if b_e and row["energy_per_frame_mj"] is not None:
                    row["energy_ratio_vs_baseline"] = round(row["energy_per_frame_mj"] / b_e, 4)
            row["settings_note"] = _settings_note(run, rec, ref)
            rows.append(row)
    for i in pareto(rows, "energy_per_frame_mj"):
        rows[i]["pareto_f1_energy"] = True
    for i in pareto(rows, "latency_p50_ms"):
        rows[i]["pareto_f1_latency"] = True
    return rows


def device_labels(rows: list[dict]) -> list[str]:
    """The device of each row, with the run id added when a device appears in several runs."""
    several = len({r["run_id"] for r in rows}) > len({r["device"] for r in rows})
    return [f"{r['device']}/{r['run_id']}" if several else r["device"] for r in rows]


# --- sorting and filtering -------------------------------------------------------------

_OPS = {">=": operator.ge, "<=": operator.le, "!=": operator.ne, "=": operator.eq, ">": operator.gt, "<": operator.lt,
        "~": lambda a, b: b.lower() in str(a).lower()}
_TERM = re.compile(r"^\s*([a-z_0-9]+)\s*(>=|<=|!=|=|>|<|~)\s*(.+?)\s*$")


def parse_filter(expr: str):
    """``key OP value[, ...]`` (AND), OP one of = != > >= < <= ~ (substring). -> predicate."""
    terms = []
    for part in expr.split(","):
        m = _TERM.match(part)
        if not m:
            raise ResultsError(f"--filter {expr!r}: cannot read {part.strip()!r}",
                               "write terms like format=onnx, f1>=0.5, device~orin joined by commas")
        terms.append(m.groups())

    def pred(row: dict) -> bool:
        for key, op, raw in terms:
            if key not in row:
                raise ResultsError(f"--filter: unknown column {key!r}", f"columns: {', '.join(sorted(row))}")
            val = row[key]
            if op == "~":
                if val is None or not _OPS[op](val, raw):
                    return False
                continue
            want = _coerce(raw, val)
            if val is None or not _OPS[op](val, want):
                return False
        return True

    return pred


def _coerce(raw: str, like):
    if isinstance(like, bool):
        return raw.lower() in ("1", "true", "yes")
    if isinstance(like, (int, float)):
        try:
            return float(raw)
        except ValueError:
            raise ResultsError(f"--filter: {raw!r} is not a number", "compare numeric columns with numbers") from None
    return raw


def sort_rows(rows: list[dict], key: str) -> list[dict]:
    if key not in SORT_KEYS:
        raise ResultsError(f"--sort {key!r}: unknown", f"use one of: {', '.join(SORT_KEYS)}")
    col, descending = SORT_KEYS[key]
    with_val = [r for r in rows if r.get(col) is not None]
    without = [r for r in rows if r.get(col) is None]
    return sorted(with_val, key=lambda r: r[col], reverse=descending) + without
