"""Derived comparison columns against numbers computed by hand."""

import json

import pytest

from harness.errors import ResultsError
from harness.results.compare import compare, filter_rows, sort_key, sort_rows
from harness.results.load import load_run, load_runs
from harness.config.suite import Cell
from harness.testing.fakes.runs import make_run, record
from tests.cli.conftest import assert_user_error

PT = Cell("baseline", "yolov8n", "pytorch", "fp32")
FP16 = Cell("quantization", "yolov8n", "onnx", "fp16")
INT8 = Cell("quantization", "yolov8n", "tensorrt", "int8")


@pytest.fixture
def runs(tmp_path):
    jet = make_run(tmp_path, "jetson-run", "orin-nano", [
        record("jetson-run", "orin-nano", PT, p50=40, p99=50, f1=0.50, ap50=0.60, mean_w=5.0, energy_mj=200, idle_w=3.0, peak_c=61, throttled=False),
        record("jetson-run", "orin-nano", FP16, p50=20, p99=24, f1=0.49, ap50=0.58, mean_w=4.5, energy_mj=90, idle_w=3.0),
        record("jetson-run", "orin-nano", INT8, status="skipped", reason="INT8 needs calibration data"),
    ])
    gpu = make_run(tmp_path, "gpu-run", "desktop-gpu", [
        record("gpu-run", "desktop-gpu", PT, p50=10, p99=12, f1=0.50, ap50=0.61, mean_w=60, energy_mj=600),
        record("gpu-run", "desktop-gpu", FP16, p50=5, p99=6, f1=0.51, ap50=0.62, mean_w=80, energy_mj=400, throttled=True),
    ])
    return jet, gpu


def by(rows, device, cell):
    return next(r for r in rows if r["device"] == device and r["cell_id"] == cell.cell_id)


def test_ratios_against_the_baseline_device(runs):
    rows = compare(load_runs(list(runs)))  # baseline: the first run (the Jetson)
    d_pt, d_16 = by(rows, "desktop-gpu", PT), by(rows, "desktop-gpu", FP16)
    assert d_pt["speedup_vs_baseline"] == pytest.approx(40 / 10)
    assert d_pt["energy_ratio_vs_baseline"] == pytest.approx(600 / 200)
    assert d_16["speedup_vs_baseline"] == pytest.approx(20 / 5)
    assert d_16["energy_ratio_vs_baseline"] == pytest.approx(400 / 90, rel=1e-4)
    j_pt = by(rows, "orin-nano", PT)
    assert (j_pt["speedup_vs_baseline"], j_pt["energy_ratio_vs_baseline"]) == (1.0, 1.0)
    assert j_pt["fps"] == pytest.approx(25.0) and j_pt["fps_per_w"] == pytest.approx(25.0 / 5.0)
    assert j_pt["dynamic_energy_per_frame_mj"] == pytest.approx(200 - 3.0 * 40)  # idle 3 W over 40 ms = 120 mJ
    skipped = by(rows, "orin-nano", INT8)
    assert skipped["status"] == "skipped" and skipped["reason"] == "INT8 needs calibration data"
    assert skipped["speedup_vs_baseline"] is None


def test_baseline_by_device_name_flips_the_ratios(runs):
    rows = compare(load_runs(list(runs)), baseline="desktop-gpu")
    assert by(rows, "orin-nano", PT)["speedup_vs_baseline"] == pytest.approx(10 / 40)
    assert by(rows, "orin-nano", FP16)["energy_ratio_vs_baseline"] == pytest.approx(90 / 400)
    with pytest.raises(ResultsError, match="--baseline 'jetson-nano': not one of the runs or devices"):
        compare(load_runs(list(runs)), baseline="jetson-nano")


def test_pareto_marks_are_per_device(runs):
    rows = compare(load_runs(list(runs)))
    # F1 vs energy: orin-nano (0.50, 200) pt, (0.49, 90) fp16: neither dominates; desktop-gpu (0.50, 600) pt is
    # dominated by its own (0.51, 400) fp16. A front is a device's own: across its variants, modes and targets.
    front = {(r["device"], r["cell_id"]) for r in rows if r["pareto_f1_energy"]}
    assert front == {("orin-nano", PT.cell_id), ("orin-nano", FP16.cell_id), ("desktop-gpu", FP16.cell_id)}
    # F1 vs latency: orin-nano (0.50, 40 ms) and (0.49, 20 ms) both stay; desktop-gpu's fp16 (0.51, 5 ms) beats its pt.
    front = {(r["device"], r["cell_id"]) for r in rows if r["pareto_f1_latency"]}
    assert front == {("orin-nano", PT.cell_id), ("orin-nano", FP16.cell_id), ("desktop-gpu", FP16.cell_id)}


def test_mixed_settings_are_flagged(runs, tmp_path):
    small = make_run(tmp_path, "small-run", "orin-nano", [
        record("small-run", "orin-nano", PT, p50=12, f1=0.4, imgsz=320, frames=60)], imgsz=320, frames=60)
    rows = compare(load_runs([*runs, small]))
    note = next(r for r in rows if r["run_id"] == "small-run")["settings_note"]
    assert note == "imgsz 320 vs 640; frames 60 vs 200"
    assert all(r["settings_note"] is None for r in rows if r["run_id"] != "small-run")


def test_filter_and_sort(runs):
    rows = compare(load_runs(list(runs)))
    onnx = filter_rows(rows, "format=onnx, f1>=0.5")
    assert [(r["device"], r["f1"]) for r in onnx] == [("desktop-gpu", 0.51)]
    assert sorted(r["latency_p50_ms"] for r in filter_rows(rows, "p50<25")) == [5, 10, 20]  # the short name people type
    assert [r["energy_per_frame_mj"] for r in sort_rows(rows, "energy")] == [90, 200, 400, 600, None]
    assert [r["f1"] for r in sort_rows(rows, "f1")][:2] == [0.51, 0.50]
    fpsw = [r["fps_per_w"] for r in sort_rows(rows, "fps_per_w")]
    assert fpsw[:2] == [pytest.approx(1000 / 20 / 4.5), pytest.approx(1000 / 40 / 5.0)] and fpsw[-1] is None
    assert {r["device"] for r in filter_rows(rows, "device~GPU")} == {"desktop-gpu"}
    assert filter_rows(rows, "mean_w>1000") == []
    with pytest.raises(ResultsError, match="unknown column 'colour'"):
        filter_rows(rows, "colour=red")
    with pytest.raises(ResultsError, match="cannot read 'f1 is big'"):
        filter_rows(rows, "f1 is big")
    with pytest.raises(ResultsError, match="'fast' is not a number"):
        filter_rows(rows, "p50<fast")


def test_energy_sort_falls_back_to_latency_without_power(tmp_path):
    run = make_run(tmp_path, "np", "local", [record("np", "local", PT, p50=30, f1=0.5),
                                             record("np", "local", FP16, p50=10, f1=0.5)])
    rows = compare(load_runs([run]))
    assert sort_key(rows, "energy") == "latency" and sort_key(rows, "f1") == "f1"
    assert [r["latency_p50_ms"] for r in sort_rows(rows, "energy")] == [10, 30]


def test_older_records_upgrade_and_newer_ones_fail(tmp_path):
    from harness.results.store import RunStore

    root = make_run(tmp_path, "old", "orin-nano", [])
    store = RunStore(root)
    (root / "records.jsonl").write_text(json.dumps({
        "cell_id": PT.cell_id, "cell": PT.as_dict(), "status": "ok", "latency": {"mean_ms": 30.0, "p50_ms": 29.0},
        "power_backend": "tegrastats", "mean_w": 6.0, "energy_per_frame_mj": 180.0}) + "\n")
    rec = load_run(root).records[0]
    assert rec["schema_version"] == 1 and rec["latency"]["total"]["p50_ms"] == 29.0
    assert rec["power"]["energy_per_frame_mj"] == 180.0 and "schema v0" in rec["power"]["reason"]
    (root / "records.jsonl").write_text(json.dumps({"schema_version": 7, "cell_id": "x"}) + "\n")
    with pytest.raises(ResultsError, match="schema version 7, this harness reads up to 1"):
        load_run(root)
    assert store.read_manifest()["run_id"] == "old"


def test_compare_cli_json_csv_and_errors(run_harness, runs, tmp_path):
    jet, gpu = runs
    p = run_harness("compare", jet, gpu, "--json", "--sort", "latency", "--csv", tmp_path / "rows.csv",
                    "--parquet", tmp_path / "rows.parquet")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert [r["latency_p50_ms"] for r in rows] == [5, 10, 20, 40, None]
    assert {"device", "energy_per_frame_mj", "fps_per_w", "speedup_vs_baseline", "pareto_f1_energy", "status"} <= set(rows[0])
    from harness.results.rows import SUMMARY_COLUMNS

    header = (tmp_path / "rows.csv").read_text().splitlines()[0].split(",")
    assert header[:len(SUMMARY_COLUMNS)] == SUMMARY_COLUMNS  # summary.csv's schema, then the comparison's columns
    assert {"device", "variant", "speedup_vs_baseline", "pareto_f1_energy"} <= set(header)
    import pandas as pd

    pq = pd.read_parquet(tmp_path / "rows.parquet")
    assert list(pq.columns) == header and len(pq) == 5  # one schema for summary.csv, --csv and --parquet
    assert sorted(pq.latency_p50_ms.dropna().tolist()) == [5, 10, 20, 40]
    p = run_harness("compare", jet, gpu, "--baseline", "desktop-gpu")
    assert p.returncode == 0 and "desktop-gpu" in p.stdout and "INT8 needs calibration data" in " ".join(p.stdout.split())
    assert_user_error(run_harness("compare", jet, tmp_path / "nope"), "not a run directory")
    assert_user_error(run_harness("compare", jet, "--sort", "speed"), "--sort 'speed': unknown")
