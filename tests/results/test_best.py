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
