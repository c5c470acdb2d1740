"""One configuration (or a filter) over time: a row per configuration and run, and what changed between runs.

A run's repeats of a cell are folded as the DataFrame loader folds them (``results.frame.fold_repeats``: p50 and
energy per frame get the rerun interval of their repeats). When one run measured a configuration in two
experiments (a baseline and a quantization row of the same variant), its first ok cell stands for it.
"""

from __future__ import annotations

import pandas as pd

from harness.catalogue.store import Catalogue
from harness.catalogue.table import config_label
from harness.results.columns import ANY, INTERVALS, MEANS
from harness.results.frame import fold_repeats

# what may explain a change between two runs of one configuration: (label, column)
CHANGE_FIELDS = (("L4T", "env_l4t"), ("TensorRT", "env_tensorrt"), ("torch", "env_torch"),
                 ("ultralytics", "env_ultralytics"), ("onnxruntime", "env_onnxruntime"), ("harness", "env_harness"),
                 ("nvpmodel", "env_nvpmodel"), ("jetson_clocks", "env_jetson_clocks"), ("GPU max Hz", "gpu_max_hz"),
                 ("CPU max kHz", "cpu_max_khz"), ("threads", "threads_torch"), ("board", "env_board_model"),
                 ("weights", "weights_sha256"))
HISTORY_COLUMNS = ("config", "label", "run_id", "run_dir", "run_created_at", "status", "reason", "latency_p50_ms",
                   "latency_p50_ci_lo_ms", "latency_p50_ci_hi_ms", "energy_per_frame_mj", "energy_per_frame_ci_lo_mj",
                   "energy_per_frame_ci_hi_mj", "fps_per_w", "f1", "repeats", "changed")


def _read_columns() -> list[str]:
    """The columns history and regressions read (folding repeats needs its interval, mean and flag columns):
    a third of the catalogue's, so a query reads a third of the bytes."""
    wanted = [*HISTORY_COLUMNS, "cell_id", "repeat", "ci_kind", "contended", "contended_reason", "other_cpu_share",
              *(c for _, c in CHANGE_FIELDS), *MEANS, *ANY, *INTERVALS, *(b for bs in INTERVALS.values() for b in bs)]
    return list(dict.fromkeys(c for c in wanted if c not in ("label", "changed", "repeats")))


READ_COLUMNS = _read_columns()


def filters(device: str | None = None, model: str | None = None, variant: str | None = None,
            config: str | None = None, where: str | None = None) -> tuple[str, list]:
    """A SQL condition on ``cells`` and its parameters. ``variant`` and ``config`` match a part of the text
    (``int8``, ``@15W``); ``where`` is the user's own SQL condition (``"imgsz = 640 AND precision = 'int8'"``)."""
    clauses, params = [], []
    for col, value, like in (("device", device, False), ("model", model, False), ("variant", variant, True),
                             ("config", config, True)):
        if value:
            clauses.append(f"{col} ILIKE ?" if like else f"{col} = ?")
            params.append(f"%{value}%" if like else value)
    if where:
        clauses.append(f"({where})")
    return " AND ".join(clauses) or "true", params


def _none(v):
    return None if v is None or (isinstance(v, float) and v != v) or v is pd.NaT else v


def per_run(rows: list[dict]) -> list[dict]:
    """One row per (configuration, run), repeats folded, oldest first."""
    folded = fold_repeats(rows)
    best: dict[tuple, dict] = {}
    for r in folded:
        key = (r["config"], r["run_dir"])
        if key not in best or (best[key]["status"] != "ok" and r["status"] == "ok"):
            best[key] = r
    return sorted(best.values(), key=lambda r: (r["config"], r["run_created_at"], r["run_dir"]))


def changed(prev: dict | None, cur: dict) -> str:
    """``TensorRT 10.3 -> 10.7, L4T 36.4.0 -> 36.4.3``: the facts that differ from the previous run ('' if none)."""
    if prev is None:
        return ""
    out = []
    for label, col in CHANGE_FIELDS:
        a, b = _none(prev.get(col)), _none(cur.get(col))
        if a != b and b is not None:  # a fact the latest run does not know (a failed cell's) is no change
            out.append(f"{label} {'?' if a is None else a} -> {'?' if b is None else b}")
    return ", ".join(out)


def load_rows(cat: Catalogue, condition: str, params: list, device: str | None = None) -> list[dict]:
    """``READ_COLUMNS`` of the rows matching ``condition``, oldest run first, missing values as None."""
    con = cat.connect(device)
    cols = ", ".join(f'"{c}"' for c in READ_COLUMNS)
    df = con.execute(f"SELECT {cols} FROM cells WHERE {condition} ORDER BY run_created_at, run_dir", params).df()
    return [{k: _none(v) for k, v in r.items()} for r in df.to_dict("records")]


def history(cat: Catalogue, device: str | None = None, model: str | None = None, variant: str | None = None,
            config: str | None = None, where: str | None = None, last: int | None = None) -> pd.DataFrame:
    """The history of every configuration matching the filters: ``HISTORY_COLUMNS``, one row per run, the
    ``last`` runs of each configuration (all when None)."""
    condition, params = filters(device, model, variant, config, where)
    runs = per_run(load_rows(cat, condition, params, device))
    out, prev = [], None
    for r in runs:
        if prev is not None and prev["config"] != r["config"]:
            prev = None
        out.append({**{c: r.get(c) for c in HISTORY_COLUMNS}, "label": config_label(r["config"]),
                    "changed": changed(prev, r)})
        prev = r
    df = pd.DataFrame(out, columns=list(HISTORY_COLUMNS))
    if last:
        df = df.groupby("config", sort=False).tail(last).reset_index(drop=True)
    return df
