"""95 % intervals for the headline numbers: from repeats when a cell ran several times, else a block bootstrap.

Per-frame latencies are autocorrelated (caches, clocks, thermal state drift together), so resampling
single frames would understate the uncertainty. The circular block bootstrap resamples runs of
``block`` consecutive frames: ``block_length`` takes the larger of 2 n^(1/3) and three integrated
autocorrelation times (estimated from the lag-1 autocorrelation), at most n/4. The interval is the
estimate +- t(k-1) x the standard deviation of the resampled statistic, k = n / block: with few
blocks the bootstrap's spread is itself uncertain, and the t factor widens the interval for it (the
plain percentile interval covered 80-87 % on short, strongly correlated series in the simulation).
Energy per frame is a ratio (energy / frames): its blocks are time slices of the window, each
several sensor update periods long, resampled whole. Across ``repeats`` of a cell the interval is
Student's t over the repeat values. ``tests/results/test_stats.py`` checks the coverage.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

LEVEL = 0.95
RESAMPLES = 2000
SEED = 20240917  # resampling is deterministic: the same frames give the same interval


def block_length(values) -> int:
    """Block length for a series: max(2 n^(1/3), 3 tau), tau = (1 + r1) / (1 - r1) from the lag-1 autocorrelation."""
    a = np.asarray(values, dtype=np.float64)
    n = a.size
    d = a - a.mean()
    denom = float((d * d).sum())
    r1 = float((d[1:] * d[:-1]).sum() / denom) if n > 2 and denom > 0 else 0.0
    r1 = min(max(r1, 0.0), 0.99)
    tau = (1 + r1) / (1 - r1)
    return int(max(1, min(max(n // 4, 1), max(round(2 * n ** (1 / 3)), math.ceil(3 * tau)))))


def _circular_blocks(n: int, block: int, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """Indices (resamples, n) of circular block resamples of a series of length n."""
    k = math.ceil(n / block)
    starts = rng.integers(0, n, size=(resamples, k))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]) % n
    return idx.reshape(resamples, k * block)[:, :n]


def bootstrap_interval(values, stat: Callable[[np.ndarray], np.ndarray], block: int | None = None,
                       resamples: int = RESAMPLES, level: float = LEVEL) -> tuple[float, float] | None:
    """estimate +- t(k-1) * sd of ``stat`` over circular block resamples (``stat`` works along axis 1)."""
    a = np.asarray(values, dtype=np.float64)
    n = a.size
    if n < 8:
        return None
    b = block or block_length(a)
    rng = np.random.default_rng(SEED)
    draws = stat(a[_circular_blocks(n, b, rng, resamples)])
    est = float(stat(a[None, :])[0])
    half = t_quantile(max(1, n // b - 1), level) * float(draws.std(ddof=1))
    return est - half, est + half


def median_rows(x: np.ndarray) -> np.ndarray:
    return np.median(x, axis=1)


def mean_rows(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=1)


def ratio_interval(num, den, resamples: int = RESAMPLES, level: float = LEVEL) -> tuple[float, float] | None:
    """sum(num) / sum(den) +- t * sd over circular block resamples of the slices (each slice: its energy, its frames).

    Neighbouring slices are correlated too (the power drifts with temperature and clocks), so runs of
    slices are resampled together, as frames are for latency.
    """
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    k = num.size
    if k < 8 or den.sum() <= 0:
        return None
    b = block_length(num / np.where(den > 0, den, 1.0))
    rng = np.random.default_rng(SEED)
    idx = _circular_blocks(k, b, rng, resamples)
    d = den[idx].sum(axis=1)
    ok = d > 0
    draws = num[idx].sum(axis=1)[ok] / d[ok]
    est = float(num.sum() / den.sum())
    half = t_quantile(max(1, k // b - 1), level) * float(draws.std(ddof=1))
    return est - half, est + half


# Student's t 97.5 % quantiles for 1..30 degrees of freedom (two-sided 95 %).
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_quantile(df: int, level: float = LEVEL) -> float:
    """Two-sided Student's t quantile: the table at 95 % up to 30 df, else the Cornish-Fisher expansion."""
    if abs(level - 0.95) < 1e-9 and df <= 30:
        return _T975[df - 1]
    from statistics import NormalDist

    z = NormalDist().inv_cdf((1 + level) / 2)
    v = float(df)
    return (z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3))


def t_interval(values, level: float = LEVEL) -> tuple[float, float] | None:
    """Student's t interval of the mean of independent repeat values."""
    a = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if a.size < 2:
        return None
    half = t_quantile(a.size - 1, level) * a.std(ddof=1) / math.sqrt(a.size)
    return float(a.mean() - half), float(a.mean() + half)


def ratio_of(a: float | None, a_ci, b: float | None, b_ci, level: float = LEVEL) -> tuple[float | None, tuple | None]:
    """a / b with an interval from the two (independent) intervals on the log scale; (None, None) if unknown."""
    if not a or not b or a <= 0 or b <= 0:
        return None, None
    r = a / b
    if not a_ci or not b_ci or min(*a_ci, *b_ci) <= 0:
        return r, None
    from statistics import NormalDist

    z = NormalDist().inv_cdf((1 + level) / 2)
    se = math.hypot(math.log(a_ci[1] / a_ci[0]) / (2 * z), math.log(b_ci[1] / b_ci[0]) / (2 * z))
    return r, (r * math.exp(-z * se), r * math.exp(z * se))


def significant(ci) -> bool | None:
    """True when a ratio's interval excludes 1 (the two differ beyond noise); None without an interval."""
    if not ci:
        return None
    return not (ci[0] <= 1.0 <= ci[1])


def latency_uncertainty(total_ms, power=None) -> dict | None:
    """A record's ``uncertainty`` block from one measurement: block-bootstrap intervals of p50 and mean latency,
    and the power block's energy-per-frame interval (time slices), with how they were obtained."""
    a = np.asarray(total_ms, dtype=np.float64)
    if a.size < 8:
        return None
    b = block_length(a)
    p50 = bootstrap_interval(a, median_rows, b)
    mean = bootstrap_interval(a, mean_rows, b)
    r = lambda ci: None if ci is None else [round(ci[0], 4), round(ci[1], 4)]  # noqa: E731
    return {"level": LEVEL, "method": "circular block bootstrap over frames, estimate +- t(k-1) sd",
            "block_frames": b, "resamples": RESAMPLES, "latency_p50_ms": r(p50), "latency_mean_ms": r(mean),
            "energy_per_frame_mj": getattr(power, "energy_per_frame_ci_mj", None),
            "energy_method": "circular block bootstrap over time slices of one sensor period" if power is not None
            and getattr(power, "energy_per_frame_ci_mj", None) else None}
