"""The one flat row of a record: summary.csv, ``compare``'s rows and tables all use these columns.

Units live in the column names (``_ms``, ``_mj``, ``_w``, ``_c``); the environment and the settings a
comparison needs ride along as ``env_*`` and ``settings_*`` columns.
"""

from __future__ import annotations

from harness.results.record import Record


ENV_COLUMNS = ("board_model", "l4t", "nvpmodel", "jetson_clocks", "gpu_name", "cpu_model", "torch", "ultralytics",
               "onnxruntime", "tensorrt", "harness")
SETTINGS_COLUMNS = ("imgsz", "conf", "iou", "nms_iou", "frames", "warmup", "sequence_name", "weights_policy")
SUMMARY_COLUMNS = [
    "run_id", "cell_id", "device_profile", "host", "experiment", "model", "format", "precision",
    "prune_ratio", "prune_method", "prune_channel_ratio", "finetuned", "recovery", "power_mode", "dla_core", "gpu_fallback",
    "target", "mode_id", "cpu_online", "cpu_max_khz", "gpu_max_hz", "clocks_match", "dla_layers", "gpu_layers", "status", "reason", "weights_provenance",
    "weights_source", "weights_sha256", "runtime", "params", "gflops",
    "artifact_bytes", "imgsz", "n_frames", "latency_mean_ms", "latency_std_ms", "latency_p50_ms",
    "latency_p90_ms", "latency_p99_ms", "pre_mean_ms", "infer_mean_ms", "post_mean_ms", "fps",
    "tp", "fp", "fn", "precision_det", "recall", "f1", "ap50", "power_backend", "power_scope", "power_status",
    "power_reason", "sample_count", "effective_interval_ms", "mean_w", "idle_w", "energy_per_frame_mj",
    "dynamic_energy_per_frame_mj", "fps_per_w", "peak_temp_c", "start_temp_c", "temp_slope_c_per_min", "not_steady",
    "throttled", "repeat", "eval_frames", "timed_frames", "passes", "window_s",
    "latency_p50_ci_lo_ms", "latency_p50_ci_hi_ms", "energy_per_frame_ci_lo_mj", "energy_per_frame_ci_hi_mj",
    "ref_cell_id", "speedup_vs_ref", "speedup_vs_ref_significant", "energy_ratio_vs_ref", "energy_vs_ref_significant",
    "f1_delta_vs_ref", "below_floor", "ci_kind", "latency_p50_window_lo_ms", "latency_p50_window_hi_ms",
    "energy_per_frame_window_lo_mj", "energy_per_frame_window_hi_mj",
    "contended", "contended_reason", "other_cpu_share", "steal_share", "load_1m", "cpu_freq_ratio", "threads_torch",
    "threads_interop", "threads_ort", "threads_over_idle",
    *(f"env_{k}" for k in ENV_COLUMNS), *(f"settings_{k}" for k in SETTINGS_COLUMNS if k != "imgsz"),
]


def at(d, *path):
    """``d[path[0]][path[1]]...`` or None where a level is missing or null (the one place records are read loosely)."""
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def flatten(rec: dict | Record) -> dict:
    """One row of a record (values None where absent), in SUMMARY_COLUMNS order."""
    d = rec.to_dict() if isinstance(rec, Record) else rec
    tot = at(d, "latency", "total")
    row = {
        "run_id": d.get("run_id"), "cell_id": d.get("cell_id"), "device_profile": d.get("device_profile"),
        "host": d.get("host"), "experiment": at(d, "cell", "experiment"), "model": at(d, "cell", "model"),
        "format": at(d, "cell", "format"), "precision": at(d, "cell", "precision"),
        "prune_ratio": at(d, "cell", "prune_ratio"), "prune_method": at(d, "model", "pruning", "method"),
        "prune_channel_ratio": at(d, "model", "pruning", "channel_ratio"), "finetuned": at(d, "cell", "finetuned"),
        "recovery": at(d, "cell", "recovery") or ("finetune" if at(d, "cell", "finetuned") else "none"),
        "power_mode": at(d, "cell", "power_mode"), "dla_core": at(d, "cell", "dla_core"),
        "gpu_fallback": at(d, "cell", "gpu_fallback") if at(d, "cell", "dla_core") is not None else None,
        "target": engine_target(at(d, "cell", "format"), at(d, "cell", "dla_core")), "mode_id": at(d, "power_mode", "id"),
        "cpu_online": at(d, "power_mode", "clocks", "cpu_online"), "cpu_max_khz": at(d, "power_mode", "clocks", "cpu_max_khz"),
        "gpu_max_hz": at(d, "power_mode", "clocks", "gpu_max_hz"), "clocks_match": at(d, "power_mode", "clocks_match"),
        "dla_layers": at(d, "build", "dla", "placement", "dla_layers"),
        "gpu_layers": at(d, "build", "dla", "placement", "gpu_layers"),
        "status": d.get("status"), "reason": d.get("reason"), "weights_provenance": at(d, "model", "weights_provenance"),
        "weights_source": at(d, "model", "weights_source"), "weights_sha256": at(d, "model", "weights_sha256"),
        "runtime": d.get("runtime"), "params": at(d, "model", "params"), "gflops": at(d, "model", "gflops"),
        "artifact_bytes": at(d, "model", "artifact_bytes"), "imgsz": at(d, "settings", "imgsz"), "n_frames": d.get("n_frames"),
        "latency_mean_ms": at(tot, "mean_ms"), "latency_std_ms": at(tot, "std_ms"), "latency_p50_ms": at(tot, "p50_ms"),
        "latency_p90_ms": at(tot, "p90_ms"), "latency_p99_ms": at(tot, "p99_ms"),
        "pre_mean_ms": at(d, "latency", "pre", "mean_ms"), "infer_mean_ms": at(d, "latency", "infer", "mean_ms"),
        "post_mean_ms": at(d, "latency", "post", "mean_ms"), "fps": d.get("fps"),
        "tp": at(d, "quality", "tp"), "fp": at(d, "quality", "fp"), "fn": at(d, "quality", "fn"),
        "precision_det": at(d, "quality", "precision"), "recall": at(d, "quality", "recall"), "f1": at(d, "quality", "f1"),
        "ap50": at(d, "quality", "ap50"),
    }
    for k in ("backend", "scope", "status", "reason"):
        row[f"power_{k}"] = at(d, "power", k)
    for k in ("sample_count", "effective_interval_ms", "mean_w", "idle_w", "energy_per_frame_mj",
              "dynamic_energy_per_frame_mj", "fps_per_w", "peak_temp_c", "start_temp_c", "temp_slope_c_per_min",
              "not_steady", "throttled"):
        row[k] = at(d, "power", k)
    for k in ("repeat", "eval_frames", "timed_frames", "passes", "window_s"):
        row[k] = d.get(k)
    row["repeat"] = row["repeat"] or 1
    row.update(interval_columns(d.get("uncertainty")))
    hs, th = d.get("host_state") or {}, d.get("threads") or {}
    row.update(contended=hs.get("contended"), contended_reason=hs.get("contended_reason"),
               other_cpu_share=hs.get("other_cpu_share"), steal_share=hs.get("steal_share"), load_1m=hs.get("load_1m_max"),
               cpu_freq_ratio=hs.get("cpu_freq_min_ratio"), threads_torch=th.get("torch_intra"),
               threads_interop=th.get("torch_interop"), threads_ort=th.get("ort_intra"), threads_over_idle=th.get("over_idle"))
    row.update(reference_columns(d.get("reference")))
    # environment values are text (a version, a board name); a record's other types become their text, so a
    # column has one type (Parquet, --filter)
    row.update({f"env_{k}": _text(at(d, "environment", k)) for k in ENV_COLUMNS})
    row.update({f"settings_{k}": at(d, "settings", k) for k in SETTINGS_COLUMNS if k != "imgsz"})
    return {k: row.get(k) for k in SUMMARY_COLUMNS}


def _text(v) -> str | None:
    return v if v is None or isinstance(v, (str, bool)) else str(v)[:200]


def interval_columns(unc: dict | None) -> dict:
    """The flat interval columns of an ``uncertainty`` block (``results.stats``).

    ``latency_p50_ci_*`` / ``energy_per_frame_ci_*`` are the rerun intervals (from interleaved repeats): None for a
    cell measured once, whose within-window spread goes to ``latency_p50_window_*`` only. Records written before
    rerun intervals existed (no ``kind``) held a within-window bootstrap as their headline: it is read as that.
    """
    u = unc if isinstance(unc, dict) else {}
    win = u.get("within_window") if isinstance(u.get("within_window"), dict) else (u if "kind" not in u else {})
    rerun = u if u.get("kind") == "rerun" else {}
    pair = lambda v: v if isinstance(v, (list, tuple)) and len(v) == 2 else [None, None]  # noqa: E731
    p50, e = pair(rerun.get("latency_p50_ms")), pair(rerun.get("energy_per_frame_mj"))
    w, we = pair(win.get("latency_p50_ms")), pair(win.get("energy_per_frame_mj"))
    return {"latency_p50_ci_lo_ms": p50[0], "latency_p50_ci_hi_ms": p50[1], "energy_per_frame_ci_lo_mj": e[0],
            "energy_per_frame_ci_hi_mj": e[1], "latency_p50_window_lo_ms": w[0], "latency_p50_window_hi_ms": w[1],
            "energy_per_frame_window_lo_mj": we[0], "energy_per_frame_window_hi_mj": we[1],
            "ci_kind": u.get("kind") or ("window" if win else None)}


def engine_target(fmt: str | None, dla_core: int | None) -> str | None:
    """Where a TensorRT engine runs: ``gpu`` or ``dla0``/``dla1``; None for the other formats (the device's default)."""
    if dla_core is not None:
        return f"dla{dla_core}"
    return "gpu" if fmt == "tensorrt" else None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(v) -> str:
    """A flat value as a CSV writes it (empty for None). Text that a spreadsheet would run as a formula (``=...``,
    ``+...``, ``-...``, ``@...``: a record's names and reasons are free text) gets a leading ``'``; numbers stay."""
    if v is None:
        return ""
    text = str(v)
    if isinstance(v, str) and text.startswith(_FORMULA_START):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def csv_text(df) -> str:
    """A DataFrame as CSV text with every text cell through ``csv_value`` (``compare --csv``)."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:  # every column: text may sit in object or string dtype (pandas 3 infers str columns)
        if not pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map(lambda v: v if not isinstance(v, str) else csv_value(v)).astype(object)
    return out.to_csv(index=False)


def reference_columns(block: dict | None) -> dict:
    """The flat columns of a ``reference`` block (``results.refs``)."""
    ref = block or {}
    return {"ref_cell_id": ref.get("cell_id"), "speedup_vs_ref": ref.get("speedup"),
            "speedup_vs_ref_significant": ref.get("speedup_significant"), "energy_ratio_vs_ref": ref.get("energy_ratio"),
            "energy_vs_ref_significant": ref.get("energy_significant"), "f1_delta_vs_ref": ref.get("f1_delta"),
            "below_floor": ref.get("below_floor")}
