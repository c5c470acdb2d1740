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
