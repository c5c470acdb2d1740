"""The runner's power block: idle window, timed window, per-frame energy, throttling, cool-down."""

import time

import pytest

from harness.measure.power import TIMED_END, TIMED_START, PowerMeter
from harness.config.profiles import DeviceProfile
from harness.testing.fakes import sysfs as fake_sysfs


def starts(trace, n):
    """Start times of ``n`` evenly spaced frames over the trace's timed window."""
    import numpy as np

    return np.linspace(trace.marks[TIMED_START], trace.marks[TIMED_END], n, endpoint=False)


def profile(**telemetry):
    t = {"prefer": ["sysfs_ina3221", "none"], "interval_ms": 10, "idle_s": 0.2, **telemetry}
    return DeviceProfile.model_validate({"name": "t", "kind": "jetson", "telemetry": t})


@pytest.fixture
def orin(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(tmp_path))
    (hw,) = fake_sysfs.ina3221_hwmon(tmp_path, fake_sysfs.ORIN_NANO_RAILS)  # VDD_IN = 5 W
    fake_sysfs.thermal_zones(tmp_path, {"cpu-thermal": 45.0, "gpu-thermal": 44.0})
    return tmp_path, hw


def run_cell(meter, hw, busy_mw_ma=2000, seconds=0.3, frames=10):
    meter.begin()
    time.sleep(0.03)  # a 5 W sample after idle_end, so the idle window's edge is not interpolated into the step
    fake_sysfs.set_rail(hw, "VDD_IN", 5000, busy_mw_ma)  # 10 W while "inferring"
    time.sleep(0.05)
    meter.mark(TIMED_START)
    time.sleep(seconds)
    meter.mark(TIMED_END)
    fake_sysfs.set_rail(hw, "VDD_IN", 5000, 1000)
    return meter.end()


def test_power_block_from_idle_and_timed_windows(orin):
    root, hw = orin
    meter = PowerMeter(profile())
    assert meter.active and meter.backend == "sysfs_ina3221"
    trace = run_cell(meter, hw)
    fps = 10 / (trace.marks[TIMED_END] - trace.marks[TIMED_START])
    p = meter.summarise(trace, starts(trace, 10), fps=fps, cooldown={"waited_s": 0.0})
    assert p.backend == "sysfs_ina3221" and p.scope == "module_input:VDD_IN"
    assert p.idle_w == pytest.approx(5.0, rel=0.02)
    assert p.mean_w == pytest.approx(10.0, rel=0.05)  # a sample may straddle the step at the edge
    assert p.energy_per_frame_mj == pytest.approx(p.energy_mj / 10)
    assert p.dynamic_energy_per_frame_mj == pytest.approx((p.energy_mj - 5.0 * 1000 * p.window_s) / 10, rel=0.02)
    assert p.fps_per_w == pytest.approx(fps / p.mean_w, rel=1e-3)
    assert p.sample_count >= 15 and 8 <= p.mean_interval_ms <= 30
    assert p.peak_temps_c == {"cpu-thermal": 45.0, "gpu-thermal": 44.0} and p.peak_temp_c == 45.0
    assert p.throttled is None and "temp_limit_c" in p.throttle_reason
    assert p.status == "ok" and p.start_temp_c == 45.0 and p.temp_slope_c_per_min == 0.0 and p.not_steady is False


def test_temperature_limit_marks_throttling(orin):
    root, hw = orin
    fake_sysfs.set_temp(root, "gpu-thermal", 91.0)
    meter = PowerMeter(profile(temp_limit_c=85))
    trace = run_cell(meter, hw, seconds=0.1)
    p = meter.summarise(trace, starts(trace, 5), 50.0, {})
    assert p.throttled is True and "gpu-thermal reached 91.0 C >= limit 85 C" in p.throttle_reason


def _shipped(name: str, **telemetry) -> DeviceProfile:
    """A shipped profile with this test's fast sampling (its temp_limit_c and everything else as shipped)."""
    from harness.config.profiles import load_profile

    data = load_profile(name).model_dump()
    data["telemetry"].update({"prefer": ["sysfs_ina3221", "none"], "interval_ms": 10, "idle_s": 0.2, **telemetry})
    return DeviceProfile.model_validate(data)


@pytest.mark.parametrize("name", ["xavier-nx", "orin-nano", "orin-nx", "agx-orin"])
def test_no_shipped_profile_flags_a_board_whose_only_hot_zone_is_pmic(orin, name):
    """Nano / Xavier NX report a constant PMIC-Die zone of 100 C (tegrastats PMIC@100C): not heat."""
    root, hw = orin
    fake_sysfs.thermal_zones(root, {"cpu-thermal": 45.0, "gpu-thermal": 44.0, "PMIC-Die": 100.0, "CV0-therm": -45.0})
    prof = _shipped(name)
    meter = PowerMeter(prof)
    trace = run_cell(meter, hw, seconds=0.1)
    p = meter.summarise(trace, starts(trace, 5), 50.0, {})
    assert p.throttled is (False if prof.telemetry.temp_limit_c is not None else None), p.throttle_reason
    assert p.peak_temp_c == 45.0 and p.start_temp_c == 45.0  # the hottest zone that is heat
    assert p.peak_temps_c["PMIC-Die"] == 100.0 and p.peak_temps_c["CV0-therm"] == -45.0  # kept, as read
    assert set(p.excluded_zones) == {"PMIC-Die", "CV0-therm"}
    assert "placeholder" in p.excluded_zones["PMIC-Die"] and "-45 C" in p.excluded_zones["CV0-therm"]


def test_cooldown_gate_ignores_the_pmic_zone(orin):
    root, _ = orin
    fake_sysfs.thermal_zones(root, {"cpu-thermal": 41.0, "PMIC-Die": 100.0})
    prof = profile()
    prof.cooldown.max_start_temp_c = 50
    prof.cooldown.timeout_s = 0
    out = PowerMeter(prof, sleep=lambda s: None).cooldown()
    assert out["start_temp_c"] == 41.0 and not out["timed_out"]


def test_a_pinned_clock_that_drops_marks_throttling(orin):
    from harness.telemetry.trace import Sample, Trace

    prof = profile()
    prof.power_mode.jetson_clocks = True
    meter = PowerMeter(prof)
    tr = Trace("sysfs_ina3221", "module_input", [Sample(t, 5000.0, clocks_mhz={"gpu": f}) for t, f in
                                                   [(0.0, 1020.0), (0.5, 1020.0), (1.0, 612.0), (1.5, 1020.0), (2.0, 1020.0)]],
               marks={TIMED_START: 0.2, TIMED_END: 1.8})
    p = meter.summarise(tr, starts(tr, 10), 10.0, {})
    assert p.throttled is True and "gpu clock fell from 1020 to 612 MHz" in p.throttle_reason
    tr.samples[2].clocks_mhz["gpu"] = 1000.0  # within 10 %: DVFS noise, not throttling
    assert meter.summarise(tr, starts(tr, 10), 10.0, {}).throttled is False


def test_no_backend_gives_null_power_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(tmp_path))
    meter = PowerMeter(profile())
    assert not meter.active
    meter.begin()
    meter.mark(TIMED_START)
    meter.mark(TIMED_END)
    trace = meter.end()
    p = meter.summarise(trace, starts(trace, 10), 30.0, {"waited_s": 0})
    assert p.backend == "none" and p.mean_w is None and "no INA3221/INA238 rails" in p.reason


def test_cooldown_gate_waits_then_gives_up(orin, monkeypatch):
    root, _ = orin
    fake_sysfs.set_temp(root, "cpu-thermal", 70.0)
    waits = []
    prof = profile()
    prof.cooldown.max_start_temp_c = 50
    prof.cooldown.timeout_s = 0.05
    meter = PowerMeter(prof, sleep=lambda s: (waits.append(s), time.sleep(0.02)))
    out = meter.cooldown()
    assert out["timed_out"] is True and out["start_temp_c"] == 70.0 and waits

    fake_sysfs.set_temp(root, "cpu-thermal", 40.0)
    out = meter.cooldown()
    assert out["timed_out"] is False and out["start_temp_c"] == 44.0  # the hottest zone is now gpu-thermal


def test_cooldown_cools_down(orin):
    root, _ = orin
    fake_sysfs.set_temp(root, "cpu-thermal", 70.0)
    prof = profile()
    prof.cooldown.max_start_temp_c = 50
    prof.cooldown.timeout_s = 30

    def sleep(s):  # the board cools while we wait
        fake_sysfs.set_temp(root, "cpu-thermal", 45.0)

    out = PowerMeter(prof, sleep=sleep).cooldown()
    assert out["timed_out"] is False and out["start_temp_c"] == 45.0
