"""Results as a pandas DataFrame: one tidy row per (run, cell, repeat), the same schema as summary.csv."""

import csv

import pandas as pd
import pytest

import harness.results as hr
from harness.config.suite import Cell
from harness.results.frame import COLUMNS, RUN_COLUMNS, aggregate_repeats
from harness.results.rows import SUMMARY_COLUMNS
from harness.testing.fakes.runs import fleet, make_run, record

PT = Cell("baseline", "yolov8n", "pytorch", "fp32")
PRUNED = Cell("pruning", "yolov8n", "pytorch", "fp32", 0.3, True)


def test_one_row_per_run_cell_and_repeat_with_env_and_settings(tmp_path):
    recs = [record("r", "orin-nano", PT, p50=p, f1=0.5, environment={"l4t": "36.4.3", "nvpmodel": "15W"}) for p in (40, 42, 44)]
    for i, rec in enumerate(recs):
        rec["repeat"] = i + 1
    run = make_run(tmp_path, "r", "orin-nano", [*recs, record("r", "orin-nano", PRUNED, p50=30, f1=0.49)])
    df = hr.load_frame([run])
    assert list(df.columns) == COLUMNS == [*SUMMARY_COLUMNS, *RUN_COLUMNS]
    assert len(df) == 4 and sorted(df[df.cell_id == PT.cell_id].repeat.astype(int).tolist()) == [1, 2, 3]
    assert set(df.env_l4t.dropna()) == {"36.4.3"} and set(df.env_nvpmodel.dropna()) == {"15W"}
    assert set(df.settings_sequence_name) == {"MOT17-02-SDP"} and set(df.imgsz) == {640}
    assert set(df.variant) == {"pytorch fp32", "pytorch fp32 p30% +ft"}
    assert df.loc[df.variant.str.contains("p30"), "prune_ratio"].item() == pytest.approx(0.3)  # a ratio, not a percent
    folded = aggregate_repeats(df)
    row = folded[folded.cell_id == PT.cell_id].iloc[0]
    assert len(folded) == 2 and row.latency_p50_ms == pytest.approx((40 * 42 * 44) ** (1 / 3))  # geometric mean
    assert row.latency_p50_ci_lo_ms < 40 and 44 < row.latency_p50_ci_hi_ms  # where a rerun of three repeats lands
    assert row.repeats == 3 and row.ci_kind == "rerun"
    single = folded[folded.cell_id == PRUNED.cell_id].iloc[0]
    assert single.repeats == 1 and single.ci_method.startswith("n=1")  # one window: no rerun interval


def test_contention_folds_over_repeats(tmp_path):
    recs = [record("r", "orin-nano", PT, p50=p, f1=0.5) for p in (40, 42, 80)]
    for i, rec in enumerate(recs):
        rec["repeat"] = i + 1
        rec["host_state"] = {"contended": i == 2, "contended_reason": "other processes used 1.00 of 2 CPUs" if i == 2 else None}
    row = aggregate_repeats(hr.load_frame([make_run(tmp_path, "r", "orin-nano", recs)])).iloc[0]
    assert row.contended == True and row.contended_reason.startswith("1 of 3 repeats: other processes")  # noqa: E712


def test_summary_csv_has_the_frame_schema(tmp_path):
    run = make_run(tmp_path, "r", "orin-nano", [record("r", "orin-nano", PT, p50=40, f1=0.5, mean_w=5, energy_mj=200)])
    with open(run / "summary.csv") as f:
        header = next(csv.reader(line for line in f if not line.startswith("#")))
    assert header == SUMMARY_COLUMNS
    from_csv = pd.read_csv(run / "summary.csv", comment="#")
    assert from_csv.latency_p50_ms.item() == hr.load_frame([run]).latency_p50_ms.item() == 40


def test_the_readme_one_liner(tmp_path):
    dirs = fleet(tmp_path)
    df = hr.load_frame(dirs)
    best = df[df.status == "ok"].groupby("device").fps_per_w.max()
    assert best["orin-nano"] == pytest.approx(1000 / 3.5 / 6.8) and set(best.index) == {"orin-nano", "desktop-gpu", "desktop-cpu"}
