"""Best variant per device and board vs desktop, on hand-made Orin Nano / desktop GPU / desktop CPU runs."""

import pytest

from harness.config.suite import Cell
from harness.results.best import best_per_device, board_vs_desktop
from harness.results.compare import compare
from harness.results.load import load_runs
from harness.testing.fakes.runs import fleet, make_run, record


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    return compare(load_runs(fleet(tmp_path_factory.mktemp("fleet"))))


def _name(r):
    return f"{r['model']} {r['variant']}"


def test_best_per_device_by_fps_per_w_and_latency(rows):
    best = {b["device"]: b for b in best_per_device(rows)}
    assert list(best) == ["orin-nano", "desktop-gpu", "desktop-cpu"]
    assert _name(best["orin-nano"]["best_fps_per_w"]) == "yolov8n tensorrt int8"
    assert best["orin-nano"]["best_fps_per_w"]["fps_per_w"] == pytest.approx(1000 / 3.5 / 6.8)
    assert _name(best["desktop-gpu"]["best_latency"]) == "yolov8n tensorrt int8"


def test_a_variant_below_the_floor_never_wins(rows):
    best = {b["device"]: b for b in best_per_device(rows)}
    cpu = best["desktop-cpu"]
    # onnx int8 (35 ms, F1 0.610) is faster, but 0.610 < 0.99 x 0.620: the floor rules it out
    assert _name(cpu["best_latency"]) == "yolov8n onnx fp32" and "below the accuracy floor" in cpu["note"]
    nano = best["orin-nano"]
    assert "p50%" not in _name(nano["best_latency"])


def test_board_vs_desktop_ratios(rows):
    pairs = {(p["board"], p["desktop"]): p for p in board_vs_desktop(rows)}
    assert set(pairs) == {("orin-nano", "desktop-gpu"), ("orin-nano", "desktop-cpu")}
    gpu = pairs["orin-nano", "desktop-gpu"]
    assert gpu["cells"] == 4  # the four quantization cells both ran
    # medians over the common cells: latency 45/4, 20/2.1, 6.5/1.2, 3.5/0.9
    assert gpu["latency_ratio"] == pytest.approx((20 / 2.1 + 6.5 / 1.2) / 2)
    assert gpu["best_fps_per_w_ratio"] == pytest.approx((1000 / 3.5 / 6.8) / (1000 / 0.9 / 200))
    cpu = pairs["orin-nano", "desktop-cpu"]
    assert cpu["cells"] == 1 and cpu["latency_ratio"] == pytest.approx(0.5)


def test_no_power_means_no_fps_per_w_pick_and_random_weights_are_unverified(tmp_path):
    cell = Cell("baseline", "yolov8n", "pytorch", "fp32")
    run = make_run(tmp_path, "r", "local", [record("r", "local", cell, p50=50.0, f1=0.0, provenance="random-init")])
    (b,) = best_per_device(compare(load_runs([run])))
    assert b["best_fps_per_w"] is None and b["best_latency"] is not None and b["unverified"]
    assert "no valid power figure" in b["note"] and "random-init" in b["note"]
    assert board_vs_desktop(compare(load_runs([run]))) == []


def _local_pc_run(root, run_id, device, records, kind="local"):
    """A run whose profile is not called desktop-*: its kind is rewritten as the profile would have it."""
    import json

    path = make_run(root, run_id, device, records)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["profile"]["kind"] = kind
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


@pytest.fixture
def demo(tmp_path):
    """What `make demo` measures offline: random-init yolov8n (fastest, F1 0) beside the reference detector."""
    pc = {"cpu_model": "AMD Ryzen 7 5800X"}
    recs = [
        record("demo", "local", Cell("quick", "yolov8n", "pytorch", "fp32"), p50=12.0, f1=0.0, mean_w=40, energy_mj=480,
               provenance="random-init", environment=pc),
        record("demo", "local", Cell("quick", "reference", "pytorch", "fp32"), p50=60.0, f1=0.81, mean_w=45,
               energy_mj=2700, provenance="reference", environment=pc),
        record("demo", "local", Cell("quick", "reference", "onnx", "fp16"), p50=30.0, f1=0.81, mean_w=44,
               energy_mj=1320, provenance="reference", environment=pc),
        record("demo", "local", Cell("quick", "reference", "onnx", "int8"), p50=20.0, f1=0.40, mean_w=42,
               energy_mj=840, provenance="reference", environment=pc),  # below the floor (0.99 x 0.81)
    ]
    return compare(load_runs([_local_pc_run(tmp_path, "demo", "local", recs)]))


def test_a_meaningful_model_wins_over_a_faster_random_init_one(demo):
    (b,) = best_per_device(demo)
    assert _name(b["best_latency"]) == "reference onnx fp16" and _name(b["best_fps_per_w"]) == "reference onnx fp16"
    assert not b["unverified"]
    # the random-init model is faster: kept as a separate, labelled speed-only fact
    assert _name(b["speed_only"]) == "yolov8n pytorch fp32"
    assert "speed only: yolov8n pytorch fp32 is faster (12.0 ms p50) but has random-init weights" in b["note"]
    assert "1 variant(s) below the accuracy floor left out" in b["note"]


def test_random_init_alone_is_a_speed_only_pick_and_never_an_fps_per_w_one(tmp_path):
    cell = Cell("baseline", "yolov8n", "pytorch", "fp32")
    run = make_run(tmp_path, "r", "local", [record("r", "local", cell, p50=50.0, f1=0.0, mean_w=20, energy_mj=1000,
                                                   provenance="random-init")])
    (b,) = best_per_device(compare(load_runs([run])))
    assert b["best_fps_per_w"] is None and _name(b["best_latency"]) == "yolov8n pytorch fp32" and b["unverified"]
    assert b["speed_only"] is None  # the pick itself is the speed-only one
    assert "only random-init rows have a power figure: no FPS/W pick" in b["note"]


def test_contended_cells_are_left_out_of_every_pick_unless_asked(tmp_path):
    from harness.results.compare import contended_counted

    env = {"l4t": "36.4.3"}
    fast = record("c", "orin-nano", Cell("q", "yolov8n", "tensorrt", "fp16"), p50=5, f1=0.6, mean_w=7, energy_mj=35,
                  environment=env)
    fast["host_state"] = {"contended": True, "contended_reason": "other processes used 70 % of the CPU"}
    slow = record("c", "orin-nano", Cell("q", "yolov8n", "pytorch", "fp32"), p50=40, f1=0.6, mean_w=8, energy_mj=320,
                  environment=env)
    rows = compare(load_runs([make_run(tmp_path, "c", "orin-nano", [fast, slow])]))
    (b,) = best_per_device(rows)
    assert _name(b["best_latency"]) == _name(b["best_fps_per_w"]) == "yolov8n pytorch fp32"
    assert b["contended_left_out"] == 1
    assert "1 contended cell left out (other processes used 70 % of the CPU); --include-contended counts it" in b["note"]
    (b,) = best_per_device(rows, include_contended=True)
    assert _name(b["best_latency"]) == "yolov8n tensorrt fp16" and "1 contended cell counted" in b["note"]
    with contended_counted():
        (b,) = best_per_device(rows)
    assert _name(b["best_latency"]) == "yolov8n tensorrt fp16"


def test_board_vs_desktop_matches_configurations_across_experiment_names(tmp_path):
    board = make_run(tmp_path, "b", "orin-nano", [
        record("b", "orin-nano", Cell("q", "yolov8n", "tensorrt", "fp16"), p50=8, f1=0.6, environment={"l4t": "36.4.3"}),
        record("b", "orin-nano", Cell("q", "yolov8n", "pytorch", "fp32"), p50=40, f1=0.6, environment={"l4t": "36.4.3"})])
    desk = make_run(tmp_path, "d", "desktop-gpu", [
        record("d", "desktop-gpu", Cell("a", "yolov8n", "tensorrt", "fp16"), p50=2, f1=0.6),
        record("d", "desktop-gpu", Cell("a", "yolov8n", "onnx", "fp16"), p50=3, f1=0.6)])
    (pair,) = board_vs_desktop(compare(load_runs([board, desk])))
    assert (pair["board"], pair["desktop"], pair["cells"]) == ("orin-nano", "desktop-gpu", 1)
    assert pair["latency_ratio"] == pytest.approx(8 / 2)


def test_a_run_on_a_pc_is_a_desktop_whatever_its_profile_is_called(tmp_path):
    cell = Cell("q", "yolov8n", "onnx", "fp16")
    board = make_run(tmp_path, "b", "orin-nano", [
        record("b", "orin-nano", cell, p50=20, f1=0.6, environment={"board_model": "NVIDIA Jetson Orin Nano", "l4t": "36.4.3"})])
    local = _local_pc_run(tmp_path, "l", "local", [record("l", "local", cell, p50=5, f1=0.6,
                                                          environment={"cpu_model": "AMD Ryzen 7 5800X"})])
    # a profile that says jetson, run on a PC (no L4T, no device-tree board model): a desktop too
    fake = _local_pc_run(tmp_path, "f", "fake-orin", [record("f", "fake-orin", cell, p50=4, f1=0.6,
                                                             environment={"gpu_name": "RTX 4090"})], kind="jetson")
    pairs = {(p["board"], p["desktop"]): p["cells"] for p in board_vs_desktop(compare(load_runs([board, local, fake])))}
    assert pairs == {("orin-nano", "local"): 1, ("orin-nano", "fake-orin"): 1}
    # rows that recorded no host facts fall back to the profile's kind
    bare = make_run(tmp_path, "x", "desktop-cpu", [record("x", "desktop-cpu", cell, p50=50, f1=0.6)])
    old = make_run(tmp_path, "y", "xavier", [record("y", "xavier", cell, p50=30, f1=0.6)])
    pairs = {(p["board"], p["desktop"]) for p in board_vs_desktop(compare(load_runs([old, bare])))}
    assert pairs == {("xavier", "desktop-cpu")}


def test_a_device_whose_cells_were_all_contended_is_not_said_to_lack_power(tmp_path):
    cell = Cell("baseline", "yolov8n", "pytorch", "fp32")
    rec = record("r", "sim", cell, p50=50.0, f1=0.6, mean_w=8.0, energy_mj=400)
    rec["host_state"] = {**(rec.get("host_state") or {}), "contended": True, "contended_reason": "other processes used 54% of the CPUs"}
    run = make_run(tmp_path, "r", "sim", [rec])
    (b,) = best_per_device(compare(load_runs([run])))
    assert b["best_fps_per_w"] is None and "no valid power figure" not in (b["note"] or "")
    assert "1 contended cell left out" in b["note"]
