"""The timed window on a fast engine: a ~3 ms/frame stand-in on fake power sensors at a known power.

A window long enough (min_duration_s) gives energy per frame within 1 % of the analytic value
(power x the frames' own mean duration); a 0.1 s window is ``insufficient`` with the reason, never
a number from a handful of samples. The same for jtop's slow (0.5 s) interval.
"""

import sys

import numpy as np
import pytest

from harness.config.profiles import DeviceProfile
from harness.config.suite import Suite
from harness.measure.plan import RunPlan
from harness.measure.runner import Runner
from harness.results.store import RunStore
from harness.testing.fakes import sysfs as fake_sysfs
from harness.testing.fakes.jtop import FakeJtopModule
from harness.testing.fakes.standin import stand_in_variant

pytestmark = pytest.mark.slow

POWER_W = 5.0  # VDD_IN 5000 mV x 1000 mA on the fake Orin Nano


def run_stand_in(tmp_path, small_seq, monkeypatch, telemetry: dict, min_duration_s: float, repeats: int = 1):
    monkeypatch.setattr("harness.models.variants.load_variant", lambda *a, **k: stand_in_variant(3.0))
    prof = DeviceProfile.model_validate({"name": "fake-nano", "kind": "jetson", "compute": "cpu", "telemetry": telemetry})
    suite = Suite.model_validate({"name": "window", "frames": 12, "warmup": 2, "imgsz": 64, "min_duration_s": min_duration_s,
                                  "repeats": repeats, "experiments": [{"name": "b", "models": ["yolov8n"]}]})
    store = RunStore(tmp_path / "run")
    plan = RunPlan("w", suite, prof, small_seq)
    runner = Runner(store, plan)
    store.create(plan.manifest())
    return runner.run(), store


def frame_mean_s(store: RunStore, rec: dict) -> float:
    rows = np.loadtxt(store.root / rec["files"]["frames"], delimiter=",", skiprows=1)
    return float(rows[:, 5].mean()) / 1000.0  # total_ms column


@pytest.fixture
def nano(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(tmp_path / "sys-root"))
    fake_sysfs.ina3221_hwmon(tmp_path / "sys-root", fake_sysfs.ORIN_NANO_RAILS, update_interval_ms=50)
    fake_sysfs.thermal_zones(tmp_path / "sys-root", {"cpu-thermal": 45.0})
    return {"prefer": ["sysfs_ina3221"], "interval_ms": 50, "idle_s": 0.2}


def test_a_long_enough_window_gives_energy_per_frame_within_one_percent(tmp_path, small_seq, monkeypatch, nano):
    (rec,), store = run_stand_in(tmp_path, small_seq, monkeypatch, nano, min_duration_s=5.0)
    p = rec["power"]
    assert rec["status"] == "ok" and p["status"] == "ok", p
    assert rec["window_s"] >= 5.0 and rec["eval_frames"] == 10
    # the window is frames back to back, the 10 evaluated ones cycled: how many fit follows from this machine's
    # frame time (the 3 ms spin plus the pipeline; ~1600 on a quiet machine, a third of that on a busy one)
    assert rec["timed_frames"] * frame_mean_s(store, rec) == pytest.approx(rec["window_s"], rel=0.05)
    assert rec["timed_frames"] > 100 and rec["passes"] == pytest.approx(rec["timed_frames"] / 10, abs=1e-3)
    analytic_mj = POWER_W * 1000 * frame_mean_s(store, rec)
    assert p["energy_per_frame_mj"] == pytest.approx(analytic_mj, rel=0.01)
    assert p["sample_count"] >= 90 and p["effective_interval_ms"] == pytest.approx(50, rel=0.3)
    lo, hi = p["energy_per_frame_ci_mj"]
    assert lo <= p["energy_per_frame_mj"] <= hi
    u = rec["uncertainty"]  # one window: no rerun interval (n=1), its own spread kept under its name
    assert u["kind"] == "window" and u["repeats"] == 1 and u["latency_p50_ms"] is None
    w = u["within_window"]["latency_p50_ms"]
    assert 0 < w[0] <= rec["latency"]["total"]["p50_ms"] <= w[1]
    assert p["start_temp_c"] == 45.0 and p["temp_slope_c_per_min"] == 0.0 and p["not_steady"] is False


def test_a_short_window_is_insufficient_and_says_what_would_do(tmp_path, small_seq, monkeypatch, nano):
    (rec,), store = run_stand_in(tmp_path, small_seq, monkeypatch, nano, min_duration_s=0.1)
    p = rec["power"]
    assert rec["status"] == "ok" and p["status"] == "insufficient"
    assert p["energy_per_frame_mj"] is None and p["mean_w"] is None and p["fps_per_w"] is None
    assert "needs >= 20 samples and >= 10 periods" in p["reason"] and "set min_duration_s >= 1.0" in p["reason"]
    assert (store.root / rec["files"]["telemetry"]).is_file()  # the raw samples are kept


def test_jtop_at_half_a_second_needs_ten_seconds(tmp_path, small_seq, monkeypatch):
    root = tmp_path / "sys-root"
    (root / "run").mkdir(parents=True)
    (root / "run" / "jtop.sock").write_text("")
    monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(root))
    monkeypatch.setitem(sys.modules, "jtop", FakeJtopModule({"VDD_IN": POWER_W * 1000}))
    jtop = {"prefer": ["jtop"], "interval_ms": 500, "idle_s": 0.0}
    (rec,), store = run_stand_in(tmp_path / "short", small_seq, monkeypatch, jtop, min_duration_s=1.0)
    assert rec["power"]["status"] == "insufficient" and rec["power"]["effective_interval_ms"] == pytest.approx(500)
    assert "set min_duration_s >= 10.0" in rec["power"]["reason"]
    (rec,), store = run_stand_in(tmp_path / "long", small_seq, monkeypatch, jtop, min_duration_s=11.0)
    p = rec["power"]
    assert p["status"] == "ok" and p["sample_count"] >= 20, p["reason"]
    assert p["energy_per_frame_mj"] == pytest.approx(POWER_W * 1000 * frame_mean_s(store, rec), rel=0.01)


def test_repeats_are_interleaved_and_folded_into_one_row_with_an_interval(tmp_path, small_seq, monkeypatch, nano):
    from harness.results.compare import compare
    from harness.results.load import load_run

    recs, store = run_stand_in(tmp_path, small_seq, monkeypatch, nano, min_duration_s=1.2, repeats=3)
    assert [r["repeat"] for r in recs] == [1, 2, 3] and {r["cell_id"] for r in recs} == {"b.yolov8n.pytorch-fp32"}
    assert len({r["files"]["frames"] for r in recs}) == 3  # one frames file per repeat
    (row,) = compare([load_run(store.root)])
    assert row["repeats"] == 3 and row["ci_method"] == "rerun interval over 3 repeats" and row["ci_kind"] == "rerun"
    assert all(r["uncertainty"]["kind"] == "rerun" and r["uncertainty"]["repeats"] == 3 for r in recs)
    assert row["latency_p50_ci_lo_ms"] <= row["latency_p50_ms"] <= row["latency_p50_ci_hi_ms"]
    assert row["energy_per_frame_ci_lo_mj"] < row["energy_per_frame_mj"] < row["energy_per_frame_ci_hi_mj"]


def test_a_jtop_service_that_stalls_mid_cell_leaves_the_timing_and_says_why(tmp_path, small_seq, monkeypatch):
    """The real jetson-stats service (harness.testing.real_jtop) is stopped (SIGSTOP) during the timed window: the
    cell keeps its latency and quality, its power is ``insufficient`` with the reason, and the next cell is measured
    once the service answers again."""
    import threading

    pytest.importorskip("jtop.service", reason="jetson-stats is not installed")
    from harness.testing.fakes import board_tree
    from harness.testing.real_jtop import start_jtop_service

    tree = board_tree.build(tmp_path / "board", "orin-nano-jp6")
    with start_jtop_service(tree.root, tmp_path / "service") as svc:
        monkeypatch.setenv("HARNESS_JTOP_SOCKET", str(svc.socket_path))
        monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(tree.root))
        from harness.measure.power import TIMED_START, PowerMeter

        stall = threading.Timer(1.0, svc.pause)  # a second into the timed window
        real_mark = PowerMeter.mark

        def mark(self, label):
            real_mark(self, label)
            if label == TIMED_START and not stall.is_alive() and not stall.finished.is_set():
                stall.start()

        monkeypatch.setattr(PowerMeter, "mark", mark)
        try:
            jtop = {"prefer": ["jtop"], "interval_ms": 500, "idle_s": 0.0}
            (rec,), store = run_stand_in(tmp_path / "stalled", small_seq, monkeypatch, jtop, min_duration_s=4.0)
        finally:
            stall.cancel()
            svc.resume()
        p = rec["power"]
        assert rec["status"] == "ok", rec["reason"]
        assert rec["latency"]["total"]["p50_ms"] > 0 and rec["timed_frames"] > 10
        assert p["status"] == "insufficient" and p["backend"] == "jtop" and p["energy_per_frame_mj"] is None
        assert p["reason"].startswith("telemetry failed during the cell: jtop:") and "stall" in p["reason"]
        monkeypatch.setattr(PowerMeter, "mark", real_mark)
        (again,), _ = run_stand_in(tmp_path / "after", small_seq, monkeypatch, {**jtop, "min_samples": 10},
                                   min_duration_s=6.0)
        assert again["power"]["status"] == "ok", again["power"]["reason"]  # 6000 mW: VDD_IN 5 V x 1.2 A
        assert again["power"]["mean_w"] == pytest.approx(6.0, rel=0.01)
