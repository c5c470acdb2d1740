"""Energy maths against analytic cases."""


import numpy as np
import pytest

from harness.telemetry.energy import peak_temps_c, throttle_delta, window_energy_mj, window_mean_w
from harness.telemetry.trace import Sample, Trace, derive_power_from_counter
from harness.telemetry.zones import clean_temps
from harness.telemetry.backends.rapl import RaplCounter


def power_trace(times, powers_mw):
    return Trace("test", "module_input", [Sample(t, p) for t, p in zip(times, powers_mw)])


def test_constant_power():
    tr = power_trace(np.arange(0, 10.01, 0.1), [5000.0] * 101)
    assert window_energy_mj(tr, 2.0, 4.0) == pytest.approx(10_000.0)  # 5 W x 2 s = 10 J
    assert window_mean_w(tr, 2.0, 4.0) == pytest.approx(5.0)


def test_a_step_inside_the_window():
    t = np.arange(0, 10.001, 0.5)
    p = np.where(t < 5.0, 2000.0, 6000.0)  # step at t=5 (between samples 4.5 and 5.0)
    tr = power_trace(t, p)
    # exact integral of the piecewise-linear signal through the samples:
    # 2 W on [3, 4.5], ramp 2->6 W on [4.5, 5], 6 W on [5, 7]
    want = 2000 * 1.5 + (2000 + 6000) / 2 * 0.5 + 6000 * 2.0
    assert window_energy_mj(tr, 3.0, 7.0) == pytest.approx(want)


def test_a_ramp_is_integrated_exactly():
    t = np.arange(0, 4.001, 0.25)
    tr = power_trace(t, 1000.0 * t)  # P = 1 W/s * t
    # integral of 1000 t dt from 1 to 3 = 500 (9 - 1) = 4000 mJ
    assert window_energy_mj(tr, 1.0, 3.0) == pytest.approx(4000.0)


def test_a_window_between_two_samples_interpolates_both_edges():
    tr = power_trace([0.0, 1.0], [1000.0, 3000.0])  # linear 1 -> 3 W
    # window [0.25, 0.75]: P(0.25)=1500, P(0.75)=2500 -> mean 2000 mW x 0.5 s
    assert window_energy_mj(tr, 0.25, 0.75) == pytest.approx(1000.0)


def test_a_window_outside_the_samples_has_no_energy():
    tr = power_trace([1.0, 2.0], [1000.0, 1000.0])
    assert window_energy_mj(tr, 0.5, 1.5) is None
    assert window_energy_mj(tr, 1.5, 2.5) is None
    with pytest.raises(ValueError):
        window_energy_mj(tr, 1.5, 1.5)


def test_counter_deltas_take_precedence_over_power():
    # counter says 10 W; the power field (nonsense) must be ignored
    tr = Trace("c", "cpu_package", [Sample(t, total_mw=1.0, energy_mj=10_000.0 * t) for t in np.arange(0, 5.01, 0.5)])
    assert window_energy_mj(tr, 1.2, 3.7) == pytest.approx(10_000.0 * 2.5)
    derive_power_from_counter(tr)
    assert tr.samples[3].total_mw == pytest.approx(10_000.0)


def test_wrapped_rapl_counter(tmp_path):
    f = tmp_path / "energy_uj"
    max_range = 1_000_000.0
    c = RaplCounter(f, max_range)
    readings = [990_000, 995_000, 5_000, 15_000]  # wraps between the 2nd and 3rd read
    totals = []
    for r in readings:
        f.write_text(str(r))
        totals.append(c.read())
    assert totals == [0.0, 5_000.0, 15_000.0, 25_000.0]
    tr = Trace("rapl", "cpu_package", [Sample(float(i), energy_mj=u / 1000) for i, u in enumerate(totals)])
    assert window_energy_mj(tr, 1.0, 3.0) == pytest.approx(20.0)  # 20 000 uJ


def test_peaks_throttle_and_offline_sensors():
    tr = Trace("t", None, [
        Sample(0.0, 1.0, temps_c={"cpu": 40.0}, throttle_events=3),
        Sample(1.0, 1.0, temps_c={"cpu": 61.0, "gpu": 50.0}, throttle_events=5),
        Sample(2.0, 1.0, temps_c={"cpu": 55.0}, throttle_events=5),
        Sample(3.0, 1.0, temps_c={"cpu": 90.0}, throttle_events=9),
    ])
    assert peak_temps_c(tr, 0.5, 2.5) == {"cpu": 61.0, "gpu": 50.0}
    assert throttle_delta(tr, 0.5, 2.5) == 0 and throttle_delta(tr, 0.0, 3.0) == 6
    assert clean_temps({"cv0": -256.0, "cpu": 45.0, "bogus": 1000.0}) == {"cpu": 45.0}
