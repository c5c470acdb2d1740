"""Power modes and engine targets as comparison dimensions: rows, the per-board front and best, the report section."""

import pytest

from harness.results.compare import compare
from harness.results.frame import variant_label
from harness.results.load import load_runs
from harness.results.render.html import build_report
from harness.results.render.modes import best_configuration
from harness.results.render.table import results_table
from harness.results.render.winners import best_table
from harness.testing.fakes.runs import sweep_fleet


@pytest.fixture
def rows(tmp_path):
    return compare(load_runs(sweep_fleet(tmp_path)))


def test_modes_and_targets_are_row_dimensions(rows):
    nx = [r for r in rows if r["device"] == "orin-nx"]
    assert {r["power_mode"] for r in nx} == {"10W", "15W", "25W", "MAXN_SUPER"}
    assert {r["target"] for r in nx} == {None, "gpu", "dla0"}
    dla = next(r for r in nx if r["target"] == "dla0" and r["power_mode"] == "10W")
    assert (dla["dla_layers"], dla["gpu_layers"], dla["mode_id"], dla["gpu_max_hz"]) == (3, 41, 0, 510000000)
    assert dla["variant"] == "tensorrt int8 dla0 @10W"
    # each mode's cells are compared with that mode's reference (PyTorch fp32 at the same mode)
    assert dla["ref_cell_id"] == "sweep.yolov8n.pytorch-fp32+10W" and dla["speedup_vs_ref"] == pytest.approx(95.0 / 8.9, rel=1e-3)


def test_the_front_and_the_best_configuration_are_per_board(rows):
    nx = [r for r in rows if r["device"] == "orin-nx"]
    front = {r["variant"] for r in nx if r["pareto_f1_energy"]}
    # F1 0.620 at the least energy is fp16 @15W; 0.616 at less energy is DLA int8 @10W; nothing else survives
    assert front == {"tensorrt int8 dla0 @10W", "tensorrt fp16 @15W"}
    assert best_configuration(nx)["variant"] == "tensorrt int8 dla0 @10W"
    nano = [r for r in rows if r["device"] == "orin-nano"]
    assert best_configuration(nano)["variant"] == "tensorrt int8"
    assert next(r for r in nano if r["target"] == "dla0")["status"] == "skipped"


def test_labels_name_the_target_and_the_mode():
    assert variant_label("tensorrt", "int8", 0.3, True, 1, False, "MAXN_SUPER") == "tensorrt int8 p30% +ft dla1 only @MAXN_SUPER"
    assert variant_label("onnx", "fp32", 0, False) == "onnx fp32"


def test_terminal_tables_show_the_configurations(rows):
    from rich.console import Console

    for width in (80, 120):
        con = Console(width=width, record=True)
        con.print(results_table(rows, width))
        con.print(best_table(rows, width))
        text = con.export_text()
        assert "tensorrt int8 dla0 @10W" in text and "@MAXN_SUPER" in text
        assert max(len(line) for line in text.splitlines()) <= width


def test_the_report_answers_per_board_with_a_front_plot(tmp_path):
    out = build_report(load_runs(sweep_fleet(tmp_path / "runs")), tmp_path / "report")
    page = out["html"].read_text()
    assert "Power modes and engine targets" in page
    assert "<b>orin-nx</b>: best frames per joule is <b>yolov8n tensorrt int8 dla0 @10W</b>" in page
    assert "no DLA cores" in page  # the Orin Nano's DLA cell, skipped with its reason
    for name in ("modes_orin-nx.png", "modes_energy_orin-nx.png"):
        png = tmp_path / "report" / name
        assert png in out["plots"] and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "report" / "modes_energy_orin-nano.png").exists()  # one mode there: no per-mode bars
