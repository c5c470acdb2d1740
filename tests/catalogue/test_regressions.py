"""Regressions: exactly the real changes of the latest night, both ways, and never the noise."""

from __future__ import annotations

import pytest

from harness.catalogue.regressions import MIN_CHANGE, compare_runs, noise_band, regressions, since_last_time
from harness.catalogue.store import Catalogue
from tests.catalogue.conftest import night


@pytest.fixture
def nights(tmp_path) -> Catalogue:
    """Five ordinary nights, then one with a 15 % slower ONNX cell, an INT8 engine whose F1 dropped, a PyTorch
    cell that now fails, and a TensorRT fp16 cell 2 % slower (inside its 3 % intervals: noise)."""
    cat = Catalogue(tmp_path)
    for n in range(1, 6):
        cat.add(night(tmp_path, n))
    cat.add(night(tmp_path, 6, scale={"onnx": 1.15, "trt16": 1.02}, f1={"int8": 0.55}, failed=("fp32",),
                  env={"tensorrt": "10.7.0"}))
    return cat


def test_the_three_real_changes_are_named_and_the_noise_is_not(nights):
    changes = regressions(nights)
    got = {(c.label.split(" 640px")[0], c.what) for c in changes}
    assert got == {("yolov8n onnx fp16", "slower"), ("yolov8n tensorrt int8", "F1 down"),
                   ("yolov8n pytorch fp32", "now failed")}
    assert all(c.worse and c.run_id == "night6" and c.previous_runs == 5 for c in changes)
    slower = next(c for c in changes if c.what == "slower")
    assert slower.change == pytest.approx(0.15, abs=0.01) and slower.band < 0.15
    assert "TensorRT 10.3.0 -> 10.7.0" in slower.since
    failed = next(c for c in changes if c.metric == "status")
    assert failed.reason == "engine build ran out of memory" and failed.before == "ok"


def test_better_is_listed_too_and_a_cell_that_passes_again(tmp_path):
    cat = Catalogue(tmp_path)
    for n in range(1, 5):
        cat.add(night(tmp_path, n, failed=("fp32",) if n == 4 else ()))
    cat.add(night(tmp_path, 5, scale={"int8": 0.8}))
    got = {(c.label.split(" 640px")[0], c.what, c.worse) for c in regressions(cat)}
    assert got == {("yolov8n tensorrt int8", "faster", False), ("yolov8n pytorch fp32", "passes again", False)}


def test_a_first_run_has_nothing_to_compare_with(tmp_path):
    cat = Catalogue(tmp_path)
    cat.add(night(tmp_path, 1, scale={"onnx": 3.0}))
    assert regressions(cat) == []


def test_the_noise_band_is_the_widest_of_floor_intervals_and_history():
    def run(p50, ci=None, f1=0.6):
        r = {"latency_p50_ms": p50, "f1": f1, "energy_per_frame_mj": None}
        if ci:
            r.update(latency_p50_ci_lo_ms=p50 * (1 - ci), latency_p50_ci_hi_ms=p50 * (1 + ci))
        return r

    steady = [run(10.0), run(10.0), run(10.0)]
    assert noise_band("latency_p50_ms", run(10.5), steady) == MIN_CHANGE  # nothing wider: the floor
    assert noise_band("latency_p50_ms", run(10.5, 0.04), [run(10.0, 0.02)]) == pytest.approx(0.06)  # intervals add
    wobbly = [run(9.0), run(10.0), run(11.0), run(10.0), run(12.0)]
    assert noise_band("latency_p50_ms", run(10.0), wobbly) == pytest.approx(3 * 1.4826 * 1.0 / 10.0)  # 3 robust sd
    assert noise_band("f1", run(10.0), steady) == 0.01
    assert noise_band("latency_p50_ms", run(10.0), []) is None
    base = {"config": "d | m | v | 640 | s", "run_id": "b", "status": "ok", "reason": None}
    assert compare_runs({**base, **run(10.2)}, [{**base, **r} for r in steady]) == []  # 2 % < the 3 % floor
    assert compare_runs({**base, **run(13.0)}, [{**base, **r} for r in wobbly]) == []  # +30 % inside a 44 % spread
    assert [c.what for c in compare_runs({**base, **run(16.0)}, [{**base, **r} for r in wobbly])] == ["slower"]


def test_a_report_of_older_runs_compares_each_with_the_runs_before_it(nights, tmp_path):
    changes, configs = since_last_time([tmp_path / "night6"])
    assert configs == 4 and {c.what for c in changes} == {"slower", "F1 down", "now failed"}
    assert since_last_time([tmp_path / "night3"]) == ([], 4)  # night 3 against nights 1-2: nothing
    assert since_last_time([]) is None


def test_the_window_limits_the_runs_read(tmp_path):
    cat = Catalogue(tmp_path)
    for n in range(1, 9):
        cat.add(night(tmp_path, n, scale={"onnx": 1.5} if n <= 2 else None))
    # nights 1-2 were 50 % slower; with a window of 5 the latest (night 8) sees nights 3-7 only
    assert regressions(cat, window=5) == []
    assert [c.what for c in regressions(cat, window=7)] == []  # the median of 7 is still an ordinary night


def test_a_devices_words_reach_the_tables_literally(tmp_path):
    """A reason is the device's text: escaped in the report, never rich markup in the terminal."""
    from rich.console import Console

    from harness.catalogue.render import regressions_table, since_last_time_html
    from harness.results.store import RunStore

    cat = Catalogue(tmp_path)
    cat.add(night(tmp_path, 1))
    evil = "<script>alert(1)</script> [bold red]x[/] \x1b[2J"
    second = night(tmp_path, 2, failed=("fp32",))
    store = RunStore(second)
    recs = store.read_records()
    for r in recs:
        if r["status"] == "failed":
            r["reason"] = evil
    store.records_path.write_text("")
    store.put_records(recs)
    cat.add(second)
    changes = regressions(cat)
    assert [c.what for c in changes] == ["now failed"]
    page = since_last_time_html(changes, 4)
    assert "<script>" not in page and "&lt;script&gt;" in page
    con = Console(record=True, width=200, file=open("/dev/null", "w"))
    con.print(regressions_table(changes))
    assert "[bold red]x[/]" in con.export_text()
