"""What changed since last time: the latest run of each configuration against its previous comparable runs.

Comparable: the same ``config`` (device, model, variant with its power mode, image size, sequence). The baseline
of a number is the median of the previous ``window`` runs (default 5) that measured it. A change is **outside the
noise** when it is larger than the widest of three bands:

1. the floor: ``min_change`` (3 %) of the baseline for latency and energy, 0.01 for F1 -- a smaller change is not
   worth a morning's look even when it is real;
2. the intervals: the half-width of the latest run's 95 % rerun interval plus the median half-width of the
   previous runs' (both relative; runs with repeats have them) -- the two intervals do not overlap;
3. the history: three robust standard deviations (1.4826 x the median absolute deviation) of the previous runs'
   values, when there are at least three -- the night-to-night spread no single run's interval shows.

Both directions are listed (slower / faster, more / less energy, F1 down / up); a cell that was ok in the previous
run and now failed or was skipped is listed, and one that now passes again. A run measured once, with fewer than
three previous runs, is guarded by the floor alone: give cells repeats to narrow that.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass

from harness.catalogue.history import changed, load_rows, per_run
from harness.catalogue.store import Catalogue
from harness.catalogue.table import config_label

MIN_CHANGE = 0.03
F1_FLOOR = 0.01
WINDOW = 5
# number -> (interval bounds, which way is worse, words for (up, down))
METRICS = {
    "latency_p50_ms": (("latency_p50_ci_lo_ms", "latency_p50_ci_hi_ms"), "up", ("slower", "faster")),
    "energy_per_frame_mj": (("energy_per_frame_ci_lo_mj", "energy_per_frame_ci_hi_mj"), "up",
                            ("more energy", "less energy")),
    "f1": ((), "down", ("F1 up", "F1 down")),
}


@dataclass(frozen=True)
class Change:
    config: str
    label: str
    what: str  # slower, faster, more energy, less energy, F1 up, F1 down, now failed, now skipped, passes again
    metric: str  # latency_p50_ms, energy_per_frame_mj, f1, status
    worse: bool
    before: float | str | None  # the baseline (median of the previous runs), or the previous status
    now: float | str | None
    change: float | None  # relative for latency and energy, absolute for F1
    band: float | None  # the noise band it is outside of, in the same terms
    run_id: str
    previous_runs: int
    since: str  # what else changed since the previous run (versions, clocks)
    reason: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _num(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v else None


def _half_width(r: dict, bounds: tuple[str, ...], value: float) -> float | None:
    if not bounds or not value:
        return None
    lo, hi = _num(r.get(bounds[0])), _num(r.get(bounds[1]))
    return (hi - lo) / 2 / abs(value) if lo is not None and hi is not None else None


def noise_band(metric: str, latest: dict, previous: list[dict], min_change: float = MIN_CHANGE) -> float | None:
    """The band a change of ``metric`` must leave to count (relative for latency and energy, absolute for F1);
    None when no previous run measured it."""
    bounds, _, _ = METRICS[metric]
    values = [v for v in (_num(r.get(metric)) for r in previous) if v is not None]
    if not values:
        return None
    base = statistics.median(values)
    rel = metric != "f1"
    bands = [min_change if rel else F1_FLOOR]
    now = _num(latest.get(metric))
    hw_now = _half_width(latest, bounds, now) if now else None
    hws = [h for h in (_half_width(r, bounds, _num(r.get(metric)) or 0) for r in previous) if h is not None]
    if hw_now is not None or hws:
        bands.append((hw_now or 0) + (statistics.median(hws) if hws else 0))
    if len(values) >= 3:
        mad = statistics.median(abs(v - base) for v in values)
        bands.append(3 * 1.4826 * mad / (abs(base) if rel and base else 1))
    return max(bands)


def compare_runs(latest: dict, previous: list[dict], min_change: float = MIN_CHANGE) -> list[Change]:
    """The changes outside the noise between ``latest`` and ``previous`` (newest first) of one configuration."""
    if not previous:
        return []
    common = dict(config=latest["config"], label=config_label(latest["config"]), run_id=latest["run_id"],
                  previous_runs=len(previous), since=changed(previous[0], latest))
    last_status, status = previous[0]["status"], latest["status"]
    if status != "ok" and last_status == "ok":
        return [Change(what=f"now {status}", metric="status", worse=True, before="ok", now=status, change=None,
                       band=None, reason=latest.get("reason"), **common)]
    out = []
    if status == "ok" and last_status != "ok":
        out.append(Change(what="passes again", metric="status", worse=False, before=last_status, now="ok",
                          change=None, band=None, **common))
    if status != "ok":
        return out
    ok = [r for r in previous if r["status"] == "ok"]
    for metric, (_, worse_way, (up, down)) in METRICS.items():
        now = _num(latest.get(metric))
        band = noise_band(metric, latest, ok, min_change)
        if now is None or band is None:
            continue
        base = statistics.median(v for v in (_num(r.get(metric)) for r in ok) if v is not None)
        delta = (now / base - 1) if metric != "f1" else now - base
        if metric != "f1" and not base:
            continue
        if abs(delta) > band:
            went_up = delta > 0
            out.append(Change(what=up if went_up else down, metric=metric, worse=went_up == (worse_way == "up"),
                              before=base, now=now, change=delta, band=band, **common))
    return out


def regressions(cat: Catalogue, window: int = WINDOW, min_change: float = MIN_CHANGE, device: str | None = None,
                run_dirs: list[str] | None = None) -> list[Change]:
    """The changes of the latest run of each configuration (or, with ``run_dirs``, of those runs' configurations,
    each against the runs before it) outside the noise; the worse ones first."""
    con_rows = _rows(cat, window, device, run_dirs)
    by_config: dict[str, list[dict]] = {}
    for r in per_run(con_rows):
        by_config.setdefault(r["config"], []).append(r)
    out: list[Change] = []
    wanted = set(run_dirs or [])
    for runs in by_config.values():
        runs = runs[::-1]  # newest first
        if wanted:
            idx = next((i for i, r in enumerate(runs) if r["run_dir"] in wanted), None)
            if idx is None:
                continue
            runs = runs[idx:]
        out.extend(compare_runs(runs[0], runs[1:window + 1], min_change))
    return sorted(out, key=lambda c: (not c.worse, c.label, c.metric))


def _rows(cat: Catalogue, window: int, device: str | None, run_dirs: list[str] | None) -> list[dict]:
    """The rows of the newest ``window + 1`` runs of each configuration (with ``run_dirs``: of the configurations
    those runs measured, every run): DuckDB picks them, so the rows read grow with the configurations, not the
    catalogue."""
    dev = "device = ? AND " if device else ""
    params: list = [device] if device else []
    if run_dirs:
        marks = ", ".join("?" for _ in run_dirs)
        cond = f"{dev}config IN (SELECT DISTINCT config FROM cells WHERE run_dir IN ({marks}))"
        return load_rows(cat, cond, [*params, *run_dirs], device)
    cond = (f"{dev}true QUALIFY dense_rank() OVER (PARTITION BY config ORDER BY run_created_at DESC, run_dir DESC) "
            "<= ?")  # one scan: a run's rows share its time and directory, so they share a rank
    return load_rows(cat, cond, [*params, window + 1], device)


def since_last_time(run_dirs: list) -> tuple[list[Change], int] | None:
    """The changes of these runs' configurations against the earlier runs in their catalogue, and how many
    configurations they measured; None when they have no catalogue (``harness results index`` makes one)."""
    from pathlib import Path

    from harness.catalogue.store import catalogue_for

    if not run_dirs:
        return None
    cat = catalogue_for(Path(run_dirs[0]))
    if not cat.exists():
        return None
    dirs = [cat.key(d) for d in run_dirs]
    marks = ", ".join("?" for _ in dirs)
    configs = cat.connect().execute(f"SELECT count(DISTINCT config) FROM cells WHERE run_dir IN ({marks})", dirs).fetchone()[0]
    return regressions(cat, run_dirs=dirs), int(configs)
