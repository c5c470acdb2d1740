"""The interval methods, checked by simulation: many runs from a known distribution, how often the 95 % interval
covers the true value (it must be 90-98 %)."""

import numpy as np
import pytest

from harness.results import stats as S

SIMS = 300


def ar1(n, phi, rng, mean=10.0, sd=1.0):
    """Autocorrelated per-frame latencies (AR(1), stationary, marginal sd ``sd``)."""
    e = rng.normal(0, sd * np.sqrt(1 - phi**2), n)
    x = np.empty(n)
    x[0] = rng.normal(0, sd)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return mean + x


@pytest.mark.parametrize("phi, n", [(0.0, 300), (0.5, 300), (0.7, 1000)])
@pytest.mark.parametrize("stat", [S.mean_rows, S.median_rows], ids=["mean", "median"])
def test_block_bootstrap_covers_the_true_latency(phi, n, stat):
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(SIMS):
        lo, hi = S.bootstrap_interval(ar1(n, phi, rng), stat, resamples=800)
        hits += lo <= 10.0 <= hi  # the mean and the median of the AR(1) are both 10
    assert 0.90 <= hits / SIMS <= 0.98, f"coverage {hits / SIMS:.3f}"


def test_energy_per_frame_interval_covers_the_truth():
    """Blocks of a window: frames per block and energy per block with correlated power noise."""
    rng = np.random.default_rng(5)
    true_mj, hits = 35.0, 0
    for _ in range(SIMS):
        k = 30
        frames = rng.integers(60, 80, size=k).astype(float)
        per_frame = ar1(k, 0.3, rng, mean=true_mj, sd=2.0)
        lo, hi = S.ratio_interval(per_frame * frames, frames, resamples=800)
        hits += lo <= true_mj <= hi
    assert 0.90 <= hits / SIMS <= 0.98, f"coverage {hits / SIMS:.3f}"


def test_t_interval_over_repeats_covers_the_truth():
    rng = np.random.default_rng(3)
    for n in (3, 5):
        hits = sum(lo <= 12.0 <= hi for lo, hi in (S.t_interval(rng.normal(12.0, 0.8, n)) for _ in range(1000)))
        assert 0.93 <= hits / 1000 <= 0.97, f"n={n}: coverage {hits / 1000:.3f}"
    assert S.t_interval([1.0]) is None and S.t_quantile(2) == 4.303 and abs(S.t_quantile(200) - 1.972) < 0.002


def test_ratios_and_their_significance():
    r, ci = S.ratio_of(20.0, (19.0, 21.0), 10.0, (9.5, 10.5))
    assert r == 2.0 and ci[0] < 2.0 < ci[1] and S.significant(ci) is True
    r, ci = S.ratio_of(10.2, (9.0, 11.5), 10.0, (9.0, 11.0))
    assert S.significant(ci) is False  # within noise
    assert S.ratio_of(None, None, 1.0, None) == (None, None) and S.significant(None) is None
    assert S.block_length(np.zeros(10)) >= 1 and S.bootstrap_interval([1.0, 2.0], S.mean_rows) is None


@pytest.mark.parametrize("k, between_sd, within_sd", [(5, 0.15, 0.02), (3, 0.12, 0.03), (8, 0.05, 0.03)])
def test_rerun_interval_covers_a_rerun_with_a_shift_per_window(k, between_sd, within_sd):
    """Each window of a cell lands somewhere else (host load, clocks: a random shift per window, on the log scale)
    on top of its own frame-to-frame noise. The interval from one run's k repeats must hold the geometric mean of
    a second, independent run's k repeats 90-98 % of the time; the within-window spread alone covers far less."""
    rng = np.random.default_rng(29)
    z = 1.959964

    def run():
        true = 50.0 * np.exp(rng.normal(0, between_sd, k))  # where each window's median really is
        got = true * np.exp(rng.normal(0, within_sd, k))  # what the window measured
        within = [(g * np.exp(-z * within_sd), g * np.exp(z * within_sd)) for g in got]
        return got, within

    hits = window_hits = 0
    for _ in range(SIMS * 2):
        a, a_within = run()
        b, _ = run()
        centre, (lo, hi) = S.rerun_interval(a, a_within)
        rerun = float(np.exp(np.log(b).mean()))
        hits += lo <= rerun <= hi
        window_hits += a_within[0][0] <= b[0] <= a_within[0][1]
        assert lo > 0 and lo <= centre <= hi
    assert 0.90 <= hits / (SIMS * 2) <= 0.98, f"coverage {hits / (SIMS * 2):.3f}"
    if between_sd > 2 * within_sd:
        assert window_hits / (SIMS * 2) < 0.7  # what a single window's spread would have promised


def test_rerun_interval_floors_and_refusals():
    # two repeats that agree by chance: the within-window spread (and MIN_REL_SD) keep the interval honest
    centre, (lo, hi) = S.rerun_interval([100.0, 100.0], [(90.0, 110.0), (90.0, 110.0)])
    assert centre == pytest.approx(100.0) and hi / lo > 1.2
    centre, (lo, hi) = S.rerun_interval([100.0, 100.0, 100.0])
    assert hi / centre >= 1 + S.MIN_REL_SD  # never a zero-width interval
    assert S.rerun_interval([100.0]) is None and S.rerun_interval([100.0, None]) is None
    assert S.rerun_interval([100.0, float("nan"), -3.0]) is None  # non-finite / non-positive values are not repeats


def test_window_intervals_never_go_below_zero():
    """A heavy-tailed window (a few frames 20x slower: another process took the cores) on a positive scale."""
    rng = np.random.default_rng(7)
    a = rng.lognormal(np.log(40.0), 0.2, 60)
    a[::9] *= 20
    for stat in (S.mean_rows, S.median_rows):
        lo, hi = S.bootstrap_interval(a, stat)
        assert 0 < lo < hi
    lo, hi = S.ratio_interval(a * 3.0, np.ones_like(a))
    assert 0 < lo < hi


def test_a_contended_host_widens_the_floor_with_its_share():
    """Five repeats that agree by chance on a busy host (one scheduling regime) must not promise a narrow rerun."""
    vals = [37.5, 38.0, 37.0, 37.8, 37.2]
    _, (qlo, qhi) = S.rerun_interval(vals, shares=[0.0] * 5)
    _, (blo, bhi) = S.rerun_interval(vals, shares=[0.37] * 5)
    assert qhi / qlo < 1.1 and bhi > 55 and blo < 26  # the other regime (60 ms) is inside
    assert S.contention_floor([None, 2.0, float("nan")]) == pytest.approx(np.log1p(S.MIN_REL_SD))  # bad shares ignored
