"""Derived comparison columns against numbers computed by hand."""

import json
from pathlib import Path

import pytest

from harness.errors import ResultsError
from harness.results.compare import compare
from harness.results.select import filter_rows, sort_key, sort_rows
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
    doc = json.loads(p.stdout)  # one object, as `run --json` prints: the rows and what they are
    rows = doc["rows"]
    assert [r["run_id"] for r in doc["runs"]] == [Path(jet).name, Path(gpu).name] and doc["sorted_by"] == "latency"
    assert doc["baseline"].endswith("/" + Path(jet).name) and isinstance(doc["notes"], list)
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


# --- matching by configuration ---------------------------------------------------------------------


def _row(**over):
    row = {"experiment": "q", "model": "yolov8n", "format": "onnx", "precision": "fp16", "prune_ratio": 0.0,
           "finetuned": False, "imgsz": 640, "power_mode": None, "dla_core": None, "gpu_fallback": None,
           "weights_sha256": None}
    return {**row, **over}


def test_config_key_is_what_a_cell_is_not_what_its_experiment_is_called():
    from harness.results.match import config_key

    base = config_key(_row())
    # the experiment name, the model's path and a missing prune ratio do not change the configuration
    assert config_key(_row(experiment="a", model="/models/yolov8n.pt", prune_ratio=None, finetuned=None)) == base
    for change in ({"model": "yolo11n"}, {"format": "tensorrt"}, {"precision": "fp32"}, {"prune_ratio": 0.3},
                   {"finetuned": True}, {"imgsz": 320}, {"power_mode": "15W"}, {"dla_core": 0}):
        assert config_key(_row(**change)) != base, change
    assert config_key(_row(dla_core=0, gpu_fallback=True)) != config_key(_row(dla_core=0, gpu_fallback=False))
    assert config_key(_row(dla_core=0.0, gpu_fallback=None)) == config_key(_row(dla_core=0, gpu_fallback=True))


def test_the_same_configuration_in_differently_named_experiments_gets_its_x_base(tmp_path):
    board = make_run(tmp_path, "b", "orin-nano", [
        record("b", "orin-nano", Cell("q", "yolov8n", "tensorrt", "fp16"), p50=8, f1=0.6, mean_w=7, energy_mj=56)])
    desk = make_run(tmp_path, "d", "desktop-gpu", [
        record("d", "desktop-gpu", Cell("a", "yolov8n", "tensorrt", "fp16"), p50=2, f1=0.6, mean_w=150, energy_mj=300)])
    rows = compare(load_runs([board, desk]))
    d = next(r for r in rows if r["run_id"] == "d")
    assert d["baseline"] == "orin-nano/b" and d["speedup_vs_baseline"] == pytest.approx(8 / 2)
    assert d["energy_ratio_vs_baseline"] == pytest.approx(300 / 56, rel=1e-4)
    assert rows.notes == []


def test_a_configuration_measured_twice_prefers_the_same_experiment_else_the_first(tmp_path):
    c = lambda exp: Cell(exp, "yolov8n", "onnx", "fp16")  # noqa: E731
    base = make_run(tmp_path, "base", "orin-nano", [record("base", "orin-nano", c("a"), p50=20, f1=0.5),
                                                    record("base", "orin-nano", c("b"), p50=10, f1=0.5)])
    other = make_run(tmp_path, "o", "desktop-gpu", [record("o", "desktop-gpu", c("b"), p50=5, f1=0.5),
                                                    record("o", "desktop-gpu", c("c"), p50=4, f1=0.5)])
    rows = compare(load_runs([base, other]))
    x = {(r["run_id"], r["experiment"]): r["speedup_vs_baseline"] for r in rows}
    assert x == {("base", "a"): 1.0, ("base", "b"): 1.0, ("o", "b"): pytest.approx(10 / 5), ("o", "c"): pytest.approx(20 / 4)}


def test_weights_hashes_must_agree_where_both_runs_have_one(tmp_path):
    def rec(run, device, sha, p50):
        r = record(run, device, PT, p50=p50, f1=0.5)
        r["model"]["weights_sha256"] = sha
        return r

    base = make_run(tmp_path, "base", "orin-nano", [rec("base", "orin-nano", "a" * 64, 40)])
    same = make_run(tmp_path, "same", "desktop-gpu", [rec("same", "desktop-gpu", "a" * 64, 10)])
    other = make_run(tmp_path, "other", "desktop-cpu", [rec("other", "desktop-cpu", "b" * 64, 80)])
    unknown = make_run(tmp_path, "unknown", "desktop-gpu-2", [rec("unknown", "desktop-gpu-2", None, 20)])
    rows = compare(load_runs([base, same, other, unknown]))
    x = {r["run_id"]: r["speedup_vs_baseline"] for r in rows}
    assert x == {"base": 1.0, "same": pytest.approx(4.0), "other": None, "unknown": pytest.approx(2.0)}
    assert rows.notes == ["desktop-cpu/other has no configuration in common with the baseline orin-nano/base: "
                          "no x base / E/base for its rows"]


def test_runs_with_no_common_configuration_say_so(run_harness, tmp_path):
    from harness.results.compare import comparison_notes

    board = make_run(tmp_path, "b", "orin-nano", [record("b", "orin-nano", INT8, p50=4, f1=0.6)])
    desk = make_run(tmp_path, "d", "desktop-gpu", [record("d", "desktop-gpu", PT, p50=10, f1=0.6),
                                                   record("d", "desktop-gpu", Cell("q", "yolov8n", "tensorrt", "int8"),
                                                          p50=1, f1=0.6, imgsz=320)], imgsz=320)
    rows = compare(load_runs([board, desk]))
    assert all(r["speedup_vs_baseline"] is None for r in rows if r["run_id"] == "d")
    (note,) = rows.notes
    assert note.startswith("these runs have no configuration in common with the baseline orin-nano/b")
    assert "imgsz" in note and "power mode" in note
    assert comparison_notes(sort_rows(rows, "latency")) == rows.notes  # the same notes from the rows alone
    p = run_harness("compare", board, desk, env={"COLUMNS": "160"})
    assert p.returncode == 0, p.stderr
    assert "no configuration in common with the baseline orin-nano/b" in " ".join(p.stdout.split())


# --- what a front may hold -------------------------------------------------------------------------


def _contended(rec, reason="other processes used 62 % of the CPU (over 25 %)"):
    rec["host_state"] = {"contended": True, "contended_reason": reason}
    return rec


@pytest.fixture
def mixed(tmp_path):
    """A random-init model that is fastest and cheapest, the reference detector, and a contended reference cell
    that would dominate the uncontended one."""
    ri = record("m", "local", Cell("e", "yolov8n", "pytorch", "fp32"), p50=5, f1=0.0, mean_w=10, energy_mj=50,
                provenance="random-init")
    ref = record("m", "local", Cell("e", "reference", "pytorch", "fp32"), p50=20, f1=0.8, mean_w=10, energy_mj=200,
                 provenance="reference")
    busy = _contended(record("m", "local", Cell("e", "reference", "onnx", "fp16"), p50=10, f1=0.8, mean_w=10,
                             energy_mj=100, provenance="reference"))
    return make_run(tmp_path, "m", "local", [ri, ref, busy])


def test_fronts_leave_out_random_init_and_contended_rows(mixed):
    rows = compare(load_runs([mixed]))
    energy = {r["model"] + " " + r["variant"] for r in rows if r["pareto_f1_energy"]}
    latency = {r["model"] + " " + r["variant"] for r in rows if r["pareto_f1_latency"]}
    assert energy == latency == {"reference pytorch fp32"}
    (note,) = rows.notes
    assert note.startswith("1 contended row left out of the Pareto fronts and every best pick")
    assert "other processes used 62 % of the CPU" in note and "--include-contended" in note


def test_include_contended_counts_them(mixed):
    from harness.results.compare import contended_counted

    rows = compare(load_runs([mixed]), include_contended=True)
    assert {r["variant"] for r in rows if r["pareto_f1_energy"]} == {"onnx fp16"}
    assert rows.notes[0].startswith("1 contended row counted in the Pareto fronts and best picks (--include-contended)")
    with contended_counted():  # what `harness report --include-contended` sets around the report
        assert {r["variant"] for r in compare(load_runs([mixed])) if r["pareto_f1_latency"]} == {"onnx fp16"}
    assert {r["variant"] for r in compare(load_runs([mixed])) if r["pareto_f1_latency"]} == {"pytorch fp32"}


def test_compare_cli_include_contended(run_harness, mixed):
    p = run_harness("compare", mixed, "--json")
    assert p.returncode == 0, p.stderr
    assert [r["variant"] for r in json.loads(p.stdout)["rows"] if r["pareto_f1_energy"]] == ["pytorch fp32"]
    assert "1 contended row left out" in p.stderr  # the notes go to stderr: stdout stays one JSON document
    p = run_harness("compare", mixed, "--json", "--include-contended")
    assert [r["variant"] for r in json.loads(p.stdout)["rows"] if r["pareto_f1_energy"]] == ["onnx fp16"]
    p = run_harness("compare", mixed, env={"COLUMNS": "160"})
    text = " ".join(p.stdout.split())
    assert "1 contended row left out of the Pareto fronts" in text
    assert "1 contended cell left out" in text  # the winners' table says it too


def test_energy_ratios_over_different_rail_sums_are_noted(tmp_path):
    """AGX Orin sums VDDQ_VDD2_1V8AO on JetPack 5 and not on 6: the same label once hid a ~4 % shift in E/base."""
    jp5 = "module_rail_sum:VDDQ_VDD2_1V8AO+VDD_CPU_CV+VDD_GPU_SOC+VIN_SYS_5V0"
    jp6 = "module_rail_sum:VDD_CPU_CV+VDD_GPU_SOC+VIN_SYS_5V0"
    cell = Cell("b", "yolov8n", "tensorrt", "fp16")
    a = make_run(tmp_path, "jp5", "agx-orin", [record("jp5", "agx-orin", cell, p50=4, f1=0.6, mean_w=20, energy_mj=80, scope=jp5)])
    b = make_run(tmp_path, "jp6", "agx-orin", [record("jp6", "agx-orin", cell, p50=4, f1=0.6, mean_w=19, energy_mj=76, scope=jp6)])
    rows = compare(load_runs([a, b]), baseline="jp5")
    assert rows.notes == [f"agx-orin/jp6 summed other rails than the baseline agx-orin/jp5 ({jp6} vs {jp5}): its E/base "
                          "compares different parts of the board (AGX Orin sums 4 rails on JetPack 5, 3 on JetPack 6)"]
    same = make_run(tmp_path, "jp5b", "agx-orin", [record("jp5b", "agx-orin", cell, p50=4, f1=0.6, mean_w=20, energy_mj=80, scope=jp5)])
    assert compare(load_runs([a, same]), baseline="jp5").notes == []
    nvml = make_run(tmp_path, "gpu", "desktop-gpu", [record("gpu", "desktop-gpu", cell, p50=1, f1=0.6, mean_w=90, energy_mj=90, scope="gpu_board")])
    assert compare(load_runs([a, nvml]), baseline="jp5").notes == []  # another kind of scope: visibly not the same
