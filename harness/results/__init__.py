"""Run records: their type, run directories, comparison, rendering -- and results as pandas DataFrames.

    import harness.results as hr
    df = hr.load_frame(["results/orin-run", "results/gpu-run"])   # one row per (run, cell, repeat)

(``load_frame`` is imported on first use, so ``import harness.results`` stays cheap.)
"""

from __future__ import annotations


def __getattr__(name: str):
    if name in ("load_frame", "runs_frame", "aggregate_repeats"):
        from harness.results import frame

        return getattr(frame, name)
    raise AttributeError(f"module 'harness.results' has no attribute {name!r}")
