"""The record: one JSON object per cell, schema-versioned, units in field names.

Records are plain dicts that travel device -> host -> report unchanged.
``flatten`` turns one into the summary.csv row.
"""

from __future__ import annotations

import numpy as np

SCHEMA_VERSION = 1


def latency_stats(samples_ms: np.ndarray) -> dict:
    """mean/std/percentiles/min/max of per-frame latencies (ms)."""
    a = np.asarray(samples_ms, dtype=np.float64)
    if a.size == 0:
        return {}
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return {
        "mean_ms": round(float(a.mean()), 4),
        "std_ms": round(float(a.std()), 4),
        "p50_ms": round(float(p50), 4),
        "p90_ms": round(float(p90), 4),
        "p99_ms": round(float(p99), 4),
        "min_ms": round(float(a.min()), 4),
        "max_ms": round(float(a.max()), 4),
    }


def null_power(reason: str) -> dict:
    """Power block of a run without telemetry: every number null, with the reason."""
    return {
        "backend": "none",
        "scope": None,
        "reason": reason,
        "sample_count": 0,
        "mean_w": None,
        "idle_w": None,
        "energy_per_frame_mj": None,
        "dynamic_energy_per_frame_mj": None,
        "fps_per_w": None,
        "peak_temp_c": None,
        "throttled": None,
    }


def new_record(run_id: str, profile: str, cell: dict, settings: dict, environment: dict) -> dict:
    """A record skeleton; the runner fills status and measurements."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "cell_id": cell["cell_id"],
        "device_profile": profile,
        "host": environment.get("hostname"),
        "environment": environment,
        "cell": cell,
        "settings": settings,
        "status": None,
        "reason": None,
        "started_at": None,
        "finished_at": None,
        "duration_s": None,
        "model": None,
        "runtime": None,
        "latency": None,
        "n_frames": 0,
        "n_warmup": 0,
        "fps": None,
        "timed_wall_s": None,
        "quality": None,
        "quality_reason": None,
        "power": None,
        "build": None,
        "files": None,
    }


SUMMARY_COLUMNS = [
    "run_id", "cell_id", "device_profile", "host", "experiment", "model", "format", "precision",
    "prune_ratio", "finetuned", "status", "reason", "weights_provenance", "runtime", "params", "gflops",
    "artifact_bytes", "imgsz", "n_frames", "latency_mean_ms", "latency_std_ms", "latency_p50_ms",
    "latency_p90_ms", "latency_p99_ms", "pre_mean_ms", "infer_mean_ms", "post_mean_ms", "fps",
    "tp", "fp", "fn", "precision_det", "recall", "f1", "ap50", "power_backend", "power_scope", "mean_w",
    "idle_w", "energy_per_frame_mj", "dynamic_energy_per_frame_mj", "fps_per_w", "peak_temp_c", "throttled",
]


def flatten(rec: dict) -> dict:
    """One summary.csv row of a record (missing values empty)."""
    cell, model, lat = rec.get("cell") or {}, rec.get("model") or {}, rec.get("latency") or {}
    q, pw, st = rec.get("quality") or {}, rec.get("power") or {}, rec.get("settings") or {}
    tot = lat.get("total", {})
    row = {
        "run_id": rec.get("run_id"), "cell_id": rec.get("cell_id"), "device_profile": rec.get("device_profile"),
        "host": rec.get("host"), "experiment": cell.get("experiment"), "model": cell.get("model"),
        "format": cell.get("format"), "precision": cell.get("precision"), "prune_ratio": cell.get("prune_ratio"),
        "finetuned": cell.get("finetuned"), "status": rec.get("status"), "reason": rec.get("reason"),
        "weights_provenance": model.get("weights_provenance"), "runtime": rec.get("runtime"),
        "params": model.get("params"), "gflops": model.get("gflops"), "artifact_bytes": model.get("artifact_bytes"),
        "imgsz": st.get("imgsz"), "n_frames": rec.get("n_frames"),
        "latency_mean_ms": tot.get("mean_ms"), "latency_std_ms": tot.get("std_ms"),
        "latency_p50_ms": tot.get("p50_ms"), "latency_p90_ms": tot.get("p90_ms"), "latency_p99_ms": tot.get("p99_ms"),
        "pre_mean_ms": lat.get("pre", {}).get("mean_ms"), "infer_mean_ms": lat.get("infer", {}).get("mean_ms"),
        "post_mean_ms": lat.get("post", {}).get("mean_ms"), "fps": rec.get("fps"),
        "tp": q.get("tp"), "fp": q.get("fp"), "fn": q.get("fn"), "precision_det": q.get("precision"),
        "recall": q.get("recall"), "f1": q.get("f1"), "ap50": q.get("ap50"),
        "power_backend": pw.get("backend"), "power_scope": pw.get("scope"), "mean_w": pw.get("mean_w"),
        "idle_w": pw.get("idle_w"), "energy_per_frame_mj": pw.get("energy_per_frame_mj"),
        "dynamic_energy_per_frame_mj": pw.get("dynamic_energy_per_frame_mj"), "fps_per_w": pw.get("fps_per_w"),
        "peak_temp_c": pw.get("peak_temp_c"), "throttled": pw.get("throttled"),
    }
    return {k: ("" if row.get(k) is None else row[k]) for k in SUMMARY_COLUMNS}
