"""Results as a pandas DataFrame: one tidy row per (run, cell, repeat), the same schema as summary.csv."""

import csv

import pandas as pd
import pytest

import harness.results as hr
from harness.config.suite import Cell
from harness.errors import ResultsError
from harness.results.frame import COLUMNS, FRAME_COLUMNS, RUN_COLUMNS, aggregate_repeats
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
    assert COLUMNS == [*SUMMARY_COLUMNS, *RUN_COLUMNS]  # summary.csv's names, then the run's
    assert list(df.columns) == FRAME_COLUMNS == [c.replace("precision_det", "det_precision") for c in COLUMNS]
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


def _mixed_power(tmp_path):
    """A board with power figures and a desktop CPU run without (no power backend): the usual mix."""
    onnx = Cell("quantization", "yolov8n", "onnx", "fp16")
    nano = make_run(tmp_path, "nano", "orin-nano", [record("nano", "orin-nano", c, p50=p, f1=0.6, mean_w=7.0,
                                                            energy_mj=7.0 * p) for c, p in ((PT, 40.0), (onnx, 20.0))])
    cpu = make_run(tmp_path, "cpu", "desktop-cpu", [record("cpu", "desktop-cpu", c, p50=p, f1=0.6)
                                                    for c, p in ((PT, 90.0), (onnx, 60.0))])
    return nano, cpu


def test_dtypes_are_nullable_and_the_same_whatever_the_runs_hold(tmp_path):
    nano, cpu = _mixed_power(tmp_path)
    df = hr.load_frame([nano, cpu])
    for col in ("energy_per_frame_mj", "fps_per_w", "latency_p50_ms", "mean_w", "det_precision", "f1"):
        assert df[col].dtype == "Float64", col
    for col in ("below_floor", "throttled", "contended", "finetuned"):
        assert df[col].dtype == "boolean", col
    for col in ("imgsz", "params", "repeat", "dla_core"):
        assert df[col].dtype == "Int64", col
    assert df.model.dtype == "string" and df.device.dtype == "string"
    assert (df.dtypes != object).all(), df.dtypes[df.dtypes == object]
    means = df.groupby("device")[["energy_per_frame_mj", "fps_per_w", "latency_p50_ms"]].mean()
    assert all(str(t) == "Float64" for t in means.dtypes)
    assert means.loc["orin-nano", "energy_per_frame_mj"] == pytest.approx(210.0)
    assert pd.isna(means.loc["desktop-cpu", "energy_per_frame_mj"])  # missing, not an object
    assert means.loc["desktop-cpu", "latency_p50_ms"] == pytest.approx(75.0)
    only_cpu = hr.load_frame(cpu)  # every power value None: still numbers, not objects
    assert str(only_cpu.fps_per_w.dtype) == "Float64" and only_cpu.fps_per_w.isna().all()
    assert str(only_cpu.below_floor.dtype) == "boolean"
    folded = aggregate_repeats(df)
    assert dict(folded.dtypes[["energy_per_frame_mj", "below_floor", "repeats", "imgsz"]].astype(str)) == \
        {"energy_per_frame_mj": "Float64", "below_floor": "boolean", "repeats": "Int64", "imgsz": "Int64"}
    assert len(folded) == 4 and list(folded.columns[:len(FRAME_COLUMNS)]) == FRAME_COLUMNS


def test_the_detection_metric_is_not_the_numeric_precision(tmp_path):
    rec = record("r", "orin-nano", Cell("q", "yolov8n", "onnx", "int8"), p50=20.0, f1=0.6)
    rec["quality"]["precision"] = 0.7
    df = hr.load_frame(make_run(tmp_path, "r", "orin-nano", [rec]))
    assert df.precision.item() == "int8" and df.det_precision.item() == pytest.approx(0.7)
    assert "precision_det" not in df.columns
    from_csv = pd.read_csv(tmp_path / "r" / "summary.csv", comment="#")  # the file on disk keeps its name
    assert from_csv.precision_det.item() == pytest.approx(0.7)


@pytest.mark.parametrize("form", ["path", "str", "glob", "list", "parent", "mixed"])
def test_load_frame_takes_every_form_of_where_runs_are(tmp_path, form):
    nano, cpu = _mixed_power(tmp_path / "results")
    arg = {"path": nano, "str": str(nano), "glob": str(tmp_path / "results" / "n*"), "list": [nano, str(cpu)],
           "parent": tmp_path / "results", "mixed": [str(tmp_path / "results" / "c*"), nano]}[form]
    df = hr.load_frame(arg)
    want = {"path": {"nano"}, "str": {"nano"}, "glob": {"nano"}}.get(form, {"nano", "cpu"})
    assert set(df.run_id) == want


@pytest.mark.parametrize("bad, named", [("missing-run", "missing-run"), ("nothing-*", "nothing-*"),
                                        ("empty-dir", "empty-dir")])
def test_a_bad_path_is_one_line_naming_it(tmp_path, bad, named):
    (tmp_path / "empty-dir").mkdir()
    with pytest.raises(ResultsError) as e:
        hr.load_frame(str(tmp_path / bad))
    assert named in str(e.value) and "\n" not in str(e.value)
