"""The cross-run comparison: one row per (run, cell) with derived columns, built on the results DataFrame.

The rows (``results.frame``: the records flattened, repeats folded into one row with intervals from
the repeats) gain, all from recorded values:
- against the experiment's own reference cell (``results.refs``): ``speedup_vs_ref``,
  ``energy_ratio_vs_ref``, ``f1_delta_vs_ref``, whether each ratio is significant, ``below_floor``;
- against the baseline run (default the first; or a run / device name), the same configuration there
  (``config_key``: model and weights, format, precision, pruning, fine-tune, imgsz, power mode, engine target --
  not the experiment's name): ``speedup_vs_baseline`` = baseline p50 / p50 and ``energy_ratio_vs_baseline`` =
  energy per frame / baseline's, each with ``..._significant`` (its 95 % interval excludes 1);
- ``pareto_f1_energy`` / ``pareto_f1_latency``: no other ok row of the same device that may hold a front has
  F1 >= and energy (latency) <= with one of them strictly better. Rows below the accuracy floor, with random-init
  weights (F1 means nothing) or measured on a busy host (``contended``, unless ``include_contended``) never count.
  Power modes and engine targets (GPU, DLA cores) are dimensions of a cell, so a board's front runs across them;
- ``settings_note``: imgsz / frames / sequence that differ from the baseline run (not comparable).
Rows are plain dicts (None where unknown) with snake_case keys and units in the names; ``compare`` returns them
as a list whose ``notes`` say what holds for the comparison as a whole (``comparison_notes``).
"""

from __future__ import annotations

import math

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from harness.config.suite import Experiment, Suite
from harness.errors import ResultsError
from harness.results.frame import fold_repeats, run_rows
from harness.results.load import Run
from harness.results.match import by_config, match_config
from harness.results.refs import reference_rows
from harness.results.columns import reference_columns
from harness.results.stats import ratio_of, significant
from harness.telemetry.rails import rail_sets_differ

COMPARED_SETTINGS = ("imgsz", "frames", "warmup", "sequence_name", "conf", "iou")
COMPARE_COLUMNS = ["repeats", "ci_method", "speedup_vs_baseline", "speedup_vs_baseline_significant",
                   "energy_ratio_vs_baseline", "energy_vs_baseline_significant", "baseline", "pareto_f1_energy",
                   "pareto_f1_latency", "settings_note"]
DERIVED = {"speedup_vs_baseline": None, "speedup_vs_baseline_significant": None, "energy_ratio_vs_baseline": None,
           "energy_vs_baseline_significant": None, "baseline": None, "pareto_f1_energy": False,
           "pareto_f1_latency": False, "settings_note": None}


def suite_of(run: Run, rows: list[dict]) -> Suite:
    """The run's suite from its manifest; for a run whose manifest lacks one, the experiments its records name
    (with the default reference and floor)."""
    try:
        return Suite.model_validate(run.manifest.get("suite") or {})
    except ValueError:
        exps: dict[str, list[str]] = {}
        for r in rows:  # a record's model text is free (a path, a hub name): the ones a suite could not name are left
            model = r["model"]
            exps.setdefault(r["experiment"], [])
            if isinstance(model, str) and model not in exps[r["experiment"]] and _nameable(model):
                exps[r["experiment"]].append(model)
        return Suite(name=run.run_id, experiments=[x for x in (_experiment(e, m) for e, m in exps.items() if m) if x]
                     or [Experiment(name="none", models=["none"])])


def _experiment(name, models: list[str]) -> Experiment | None:
    """An experiment a suite accepts, or None (a record's experiment name is a safe name, a suite's is stricter)."""
    try:
        return Experiment(name=name, models=models)
    except ValueError:
        return None


def _nameable(model: str) -> bool:
    """A model text a suite accepts (``config.suite.Experiment``)."""
    try:
        Experiment(name="x", models=[model])
    except ValueError:
        return False
    return True


def _plain(rows: list[dict]) -> list[dict]:
    """Rows with None for every missing or non-finite number (what a row's reader may rely on)."""
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in rows]


def pick_baseline(runs: list[Run], baseline: str | None) -> Run:
    """A run by path or run id, else the first run of a device name; default the first run."""
    if baseline is None:
        return runs[0]
    for r in runs:
        if baseline in (str(r.root), r.root.name, r.run_id) or r.root.resolve() == _resolve(baseline):
            return r
    for r in runs:
        if r.device == baseline:
            return r
    known = ", ".join(sorted({r.device for r in runs} | {r.run_id for r in runs}))
    raise ResultsError(f"--baseline {baseline!r}: not one of the runs or devices given ({known})",
                       "pass one of the run directories or a device profile name")


def _resolve(p: str):
    try:
        return Path(p).resolve()
    except OSError:
        return None


# --- rows a front or a pick may use --------------------------------------------------------------

_INCLUDE_CONTENDED: ContextVar[bool] = ContextVar("include_contended", default=False)


@contextmanager
def contended_counted(include: bool = True) -> Iterator[None]:
    """Inside the block, a function whose ``include_contended`` is left at None counts contended rows (``include``).

    How ``--include-contended`` reaches every pick a command renders (the table, the report, its modes section)
    without threading the flag through each renderer.
    """
    token = _INCLUDE_CONTENDED.set(include)
    try:
        yield
    finally:
        _INCLUDE_CONTENDED.reset(token)


def counting_contended(include_contended: bool | None) -> bool:
    """The flag as given, or the enclosing ``contended_counted`` block's (default: contended rows are left out)."""
    return _INCLUDE_CONTENDED.get() if include_contended is None else include_contended


def counts(row: dict, include_contended: bool | None = None) -> bool:
    """The row may enter a pick or a front as far as the host goes: not measured on a busy host, or asked for."""
    return row.get("contended") is not True or counting_contended(include_contended)


def pareto(rows: list[dict], better_low: str, include_contended: bool | None = None) -> set[int]:
    """Indices of rows not dominated on (F1 high, ``better_low`` low) among the rows that may hold a front: ok,
    at or above the accuracy floor, real weights (random-init F1 means nothing), not contended unless included.

    One sort and one sweep (n log n): by F1 descending, then cost ascending, a row is on the front when its cost
    is below every cost seen at a higher F1, or equals the lowest one at its own F1 (ties are all kept)."""
    pts = sorted(((r["f1"], r[better_low], i) for i, r in enumerate(rows)
                  if r["status"] == "ok" and r["f1"] is not None and r[better_low] is not None
                  and r.get("below_floor") is not True and r.get("weights_provenance") != "random-init"
                  and counts(r, include_contended)), key=lambda p: (-p[0], p[1]))
    front: set[int] = set()
    best_above = float("inf")  # lowest cost among rows of strictly higher F1
    k = 0
    while k < len(pts):
        f1, j = pts[k][0], k
        while j < len(pts) and pts[j][0] == f1:
            j += 1
        lowest = pts[k][1]  # the group is sorted by cost: its first is its lowest
        if lowest < best_above:
            front.update(i for f, c, i in pts[k:j] if c == lowest)
        best_above = min(best_above, lowest)
        k = j
    return front


def _settings_note(row: dict, ref: dict) -> str | None:
    diffs = [f"{k} {row.get(k)} vs {ref.get(k)}" for k in COMPARED_SETTINGS
             if ref.get(k) is not None and row.get(k) is not None and row.get(k) != ref.get(k)]
    return "; ".join(diffs) or None


def _settings(row: dict) -> dict:
    return {k: row.get(k if k == "imgsz" else f"settings_{k}") for k in COMPARED_SETTINGS}


def _ci(row: dict, lo: str, hi: str):
    return (row[lo], row[hi]) if row.get(lo) is not None and row.get(hi) is not None else None


class Comparison(list):
    """``compare``'s rows (a list of dicts) and its ``notes``: what holds for the comparison as a whole."""

    def __init__(self, rows: list[dict], notes: list[str]):
        super().__init__(rows)
        self.notes = notes


def compare(runs: list[Run], baseline: str | None = None, include_contended: bool | None = None) -> Comparison:
    """All rows of all runs (repeats folded) with reference and baseline ratios, Pareto marks and notes.

    A row's baseline is the baseline run's row of the same configuration (``match_config``). Contended rows stay
    off the Pareto fronts unless ``include_contended`` (None: as ``contended_counted`` says, default off).
    """
    base = pick_baseline(runs, baseline)
    rows: list[dict] = []
    for run in runs:
        own = _plain(fold_repeats(run_rows(run)))
        for row in reference_rows(own, suite_of(run, own)):
            rows.append({**row, **reference_columns(row.pop("reference")), **DERIVED})
    base_rows = by_config([r for r in rows if r["run_id"] == base.run_id and r["status"] == "ok"])
    ref_settings = next((_settings(r) for r in rows if r["run_id"] == base.run_id), {})
    p50_ci, e_ci = ("latency_p50_ci_lo_ms", "latency_p50_ci_hi_ms"), ("energy_per_frame_ci_lo_mj", "energy_per_frame_ci_hi_mj")
    scope_pairs: dict[tuple[str, str], tuple[str, str]] = {}
    for row in rows:
        b = match_config(row, base_rows)
        if b is not None and row["status"] == "ok":
            if rail_sets_differ(row.get("power_scope"), b.get("power_scope")):
                scope_pairs.setdefault((row["power_scope"], b["power_scope"]), (f"{row['device']}/{row['run_id']}",
                                                                                f"{b['device']}/{b['run_id']}"))
            row["baseline"] = f"{base.device}/{base.run_id}"
            s, s_ci = ratio_of(b["latency_p50_ms"], _ci(b, *p50_ci), row["latency_p50_ms"], _ci(row, *p50_ci))
            e, e_int = ratio_of(row["energy_per_frame_mj"], _ci(row, *e_ci), b["energy_per_frame_mj"], _ci(b, *e_ci))
            same = row is b
            row.update(speedup_vs_baseline=None if s is None else round(s, 4),
                       speedup_vs_baseline_significant=None if same else significant(s_ci),
                       energy_ratio_vs_baseline=None if e is None else round(e, 4),
                       energy_vs_baseline_significant=None if same else significant(e_int))
        row["settings_note"] = _settings_note(_settings(row), ref_settings)
    per_device: dict[str, list[dict]] = {}
    for r in rows:
        per_device.setdefault(r["device"], []).append(r)
    for mine in per_device.values():  # a front per device: across its modes and targets
        for i in pareto(mine, "energy_per_frame_mj", include_contended):
            mine[i]["pareto_f1_energy"] = True
        for i in pareto(mine, "latency_p50_ms", include_contended):
            mine[i]["pareto_f1_latency"] = True
    notes = comparison_notes(rows, include_contended)
    notes += [f"{mine} summed other rails than the baseline {theirs} ({scope} vs {base_scope}): its E/base compares "
              "different parts of the board (AGX Orin sums 4 rails on JetPack 5, 3 on JetPack 6)"
              for (scope, base_scope), (mine, theirs) in scope_pairs.items()]
    return Comparison(rows, notes)


MATCHED_BY = "model and weights, format, precision, pruning, fine-tune, imgsz, power mode and engine target"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def contended_why(rows: list[dict]) -> str:
    """What made rows contended, in one short line: the range of other processes' CPU share, steal where it was the
    cause, else the first recorded reason (bounded: a device wrote it)."""
    busy = [r for r in rows if r.get("contended") is True]
    shares = [float(r["other_cpu_share"]) for r in busy if isinstance(r.get("other_cpu_share"), (int, float))
              and r["other_cpu_share"] == r["other_cpu_share"]]
    parts = []
    if shares:
        lo, hi = min(shares), max(shares)
        parts.append(f"other processes used {lo:.0%} of the CPUs" if hi - lo < 0.005 else
                     f"other processes used {lo:.0%}-{hi:.0%} of the CPUs")
    if any("steal" in str(r.get("contended_reason") or "") for r in busy):
        parts.append("CPU steal (VM neighbours)")
    if not parts:
        first = next((str(r["contended_reason"])[:160] for r in busy if r.get("contended_reason")), None)
        parts.append(first or "no reason recorded")
    return "; ".join(parts)


def comparison_notes(rows: list[dict], include_contended: bool | None = None) -> list[str]:
    """What a reader must know about the comparison as a whole, from its rows alone (any order, unfiltered):
    runs that share no configuration with the baseline (so no ``x base``), and contended rows left out of (or,
    asked for, counted in) the fronts and picks."""
    notes = []
    runs = {r["run_id"]: r["device"] for r in rows}
    if len(runs) > 1:
        # a baseline row matches itself, so the baseline run is the one whose rows name their own run
        base = next((r["run_id"] for r in rows if r.get("baseline") == f"{r['device']}/{r['run_id']}"), None)
        if base is None and any(r["status"] == "ok" for r in rows):
            notes.append(f"the baseline run has no cell that ran: no x base / E/base (cells are matched by {MATCHED_BY})")
        elif base is not None:
            label = f"{runs[base]}/{base}"
            ran = {r["run_id"] for r in rows if r["status"] == "ok" and r["run_id"] != base}
            matched = {r["run_id"] for r in rows if r.get("baseline") and r["run_id"] != base}
            if ran and not matched:
                notes.append(f"these runs have no configuration in common with the baseline {label}: no x base / E/base "
                             f"(cells are matched by {MATCHED_BY}, not by experiment name)")
            else:
                notes += [f"{runs[run]}/{run} has no configuration in common with the baseline {label}: "
                          "no x base / E/base for its rows" for run in runs if run in ran - matched]
    simulated = sorted({f"{r['device']}/{r['run_id']}" for r in rows if r.get("simulated") is True})
    if simulated:
        notes.append(f"simulated board: not a measurement ({', '.join(simulated)}: `harness sim`, a loopback board whose "
                     "power follows a model of its load)")
    busy = [r for r in rows if r["status"] == "ok" and r.get("contended") is True]
    if busy:
        n, why = _plural(len(busy), "contended row"), contended_why(busy)
        notes.append(f"{n} counted in the Pareto fronts and best picks (--include-contended): the host was busy "
                     f"during the timed window ({why})" if counting_contended(include_contended) else
                     f"{n} left out of the Pareto fronts and every best pick: the host was busy during the timed "
                     f"window ({why}); --include-contended counts {'it' if len(busy) == 1 else 'them'}")
    return notes


def device_labels(rows: list[dict]) -> list[str]:
    """The device of each row, with the run id added when a device appears in several runs."""
    several = len({r["run_id"] for r in rows}) > len({r["device"] for r in rows})
    return [f"{r['device']}/{r['run_id']}" if several else r["device"] for r in rows]
