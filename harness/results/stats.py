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

Those are *within-window* spreads: where the statistic of this one window would land if its frames were drawn
again. What a reader of "p50 12.3 ms [11.9, 12.8]" wants is where a *rerun* of the cell lands, and on a busy or
drifting host the variance between windows (minutes apart: other processes, clocks, thermal state, the
allocator) dominates. The headline interval (``rerun_interval``) therefore comes from the interleaved repeats of
a cell: on the log scale (latency and energy are positive; a spread is relative), the geometric mean of the k
repeat values and the 95 % prediction interval of a rerun's geometric mean of k repeats,
``exp(m +- t(k-1) sqrt(2 v / k))``, where ``v`` is the variance of one window's log value: the repeats' sample
variance, floored by the mean within-window variance (a window varies at least as much as its frames make it)
and by ``MIN_REL_SD`` (a host never repeats itself better than that; measured by
``benchmarks/bench_rerun_coverage.py``). A cell measured once has no rerun interval: its within-window spread is
kept under that name and nothing is called significant.
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
    return _spread(est, draws, t_quantile(max(1, n // b - 1), level))


def _spread(est: float, draws: np.ndarray, t: float) -> tuple[float, float]:
    """est x/ exp(t sd(log draws)) for a positive statistic (never below zero); est +- t sd(draws) otherwise."""
    if est > 0 and draws.size and float(draws.min()) > 0:
        half = t * float(np.log(draws).std(ddof=1))
        return est * math.exp(-half), est * math.exp(half)
    half = t * float(draws.std(ddof=1))
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
    return _spread(est, draws, t_quantile(max(1, k // b - 1), level))


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
    """a / b with an interval from the two (independent) intervals on the log scale; (None, None) if unknown.

    Finite or absent: a ratio of two recorded numbers can overflow (40 ms over 5e-324 ms), and is then unknown.
    """
    if not a or not b or a <= 0 or b <= 0:
        return None, None
    r = a / b
    if not math.isfinite(r) or r == 0:
        return None, None
    if not a_ci or not b_ci or min(*a_ci, *b_ci) <= 0:
        return r, None
    from statistics import NormalDist

    z = NormalDist().inv_cdf((1 + level) / 2)
    try:
        se = math.hypot(math.log(a_ci[1] / a_ci[0]) / (2 * z), math.log(b_ci[1] / b_ci[0]) / (2 * z))
        ci = (r * math.exp(-z * se), r * math.exp(z * se))
    except (OverflowError, ValueError, ZeroDivisionError):
        return r, None
    return r, (ci if all(math.isfinite(x) for x in ci) else None)


def significant(ci) -> bool | None:
    """True when a ratio's interval excludes 1 (the two differ beyond noise); None without an interval."""
    if not ci:
        return None
    return not (ci[0] <= 1.0 <= ci[1])


# The smallest relative sd of one window's value that a rerun interval assumes (see the module docstring).
MIN_REL_SD = 0.02
# On a contended host a window's value jumps between scheduling regimes (the same ONNX cell beside a one-core hog:
# 37 or 60 ms, whole windows at a time), and five repeats can all land in one regime by chance: the floor grows
# with the measured contention, 0.7 log-sd per unit of other processes' CPU share (calibrated with
# benchmarks/bench_rerun_coverage.py: one-core hog on 2 CPUs, share ~0.37 -> sd >= 0.28).
CONTENDED_SD_PER_SHARE = 0.7


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf((1 + level) / 2)


def _log_var_of(ci, level: float = LEVEL) -> float | None:
    """The variance on the log scale that a (positive) 95 % interval stands for."""
    if not ci or ci[0] is None or ci[1] is None or not (0 < ci[0] <= ci[1]) or not math.isfinite(ci[1]):
        return None
    return (math.log(ci[1] / ci[0]) / (2 * _z(level))) ** 2


def contention_floor(shares) -> float:
    """The smallest log sd of one window on a host whose other processes used ``shares`` of the CPUs (the largest
    counts): ``MIN_REL_SD`` quiet, growing by ``CONTENDED_SD_PER_SHARE`` per unit of share."""
    got = [float(x) for x in (shares or []) if x is not None and x == x and 0 <= x <= 1]
    return math.log1p(MIN_REL_SD) + CONTENDED_SD_PER_SHARE * (max(got) if got else 0.0)


def rerun_interval(values, within=None, level: float = LEVEL, shares=None) -> tuple[float, tuple[float, float]] | None:
    """(geometric mean, 95 % interval of a rerun's geometric mean) of k >= 2 positive repeat values.

    ``within``: each repeat's within-window interval (or None); their mean log variance floors the repeats'
    sample variance, as does ``contention_floor(shares)`` (``shares``: each repeat's other-process CPU share).
    Returns None with fewer than two usable values.
    """
    a = np.asarray([v for v in values if v is not None and math.isfinite(v) and v > 0], dtype=np.float64)
    k = a.size
    if k < 2:
        return None
    logs = np.log(a)
    m = float(logs.mean())
    var = float(logs.var(ddof=1))
    floors = [v for v in (_log_var_of(ci, level) for ci in (within or [])) if v is not None]
    if floors:
        var = max(var, sum(floors) / len(floors))
    var = max(var, contention_floor(shares) ** 2)
    half = t_quantile(k - 1, level) * math.sqrt(2 * var / k)
    try:  # repeats 1e-20 and 1e18 apart (a crafted run) put the interval beyond any float: no interval then
        return math.exp(m), (math.exp(m - half), math.exp(m + half))
    except OverflowError:
        return None


def round_ci(ci):
    return None if ci is None else [round(float(ci[0]), 4), round(float(ci[1]), 4)]


WINDOW_METHOD = "circular block bootstrap over frames (log scale), estimate x/ exp(t(k-1) sd)"
RERUN_METHOD = ("prediction interval of a rerun's geometric mean over {k} interleaved repeats: "
                "exp(m +- t(k-1) sqrt(2v/k)), v = max(repeats' log variance, mean within-window variance, "
                "(log(1+MIN_REL_SD) + CONTENDED_SD_PER_SHARE x max other-process CPU share)^2)")


def latency_uncertainty(total_ms, power=None) -> dict:
    """A record's ``uncertainty`` block from one measurement, before the run knows its repeats: the within-window
    spread only (``kind: window``); ``rerun_uncertainty`` replaces the headline once the repeats are in."""
    a = np.asarray(total_ms, dtype=np.float64)
    if a.size < 8:  # too few frames to resample blocks of: the block says so (a slow cell in a short window)
        return window_only(None)
    b = block_length(a)
    e_ci = getattr(power, "energy_per_frame_ci_mj", None)
    within = {"method": WINDOW_METHOD, "block_frames": b, "resamples": RESAMPLES,
              "latency_p50_ms": round_ci(bootstrap_interval(a, median_rows, b)),
              "latency_mean_ms": round_ci(bootstrap_interval(a, mean_rows, b)),
              "energy_per_frame_mj": e_ci,
              "energy_method": "circular block bootstrap over time slices of one sensor period" if e_ci else None}
    return window_only(within)


def window_only(within: dict | None, repeats: int = 1) -> dict:
    """The ``uncertainty`` block of a cell without a rerun interval (measured once, or too few ok repeats)."""
    return {"level": LEVEL, "kind": "window", "repeats": repeats,
            "method": f"n={repeats}: one window, no rerun interval (set the suite's repeats)",
            "latency_p50_ms": None, "latency_mean_ms": None, "energy_per_frame_mj": None, "within_window": within}
