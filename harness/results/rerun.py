"""Rerun intervals of a run's cells: every repeat record of a cell gets the cell's rerun interval as its headline.

The runner measures each cell ``repeats`` times, interleaved across the suite, and every record first carries
its own window's spread only (``stats.latency_uncertainty``: ``kind: window``). At the end of the run (and of
every resume) ``with_rerun_intervals`` groups the records by cell and writes, into each, the cell's
``uncertainty`` block: ``kind: rerun`` with the prediction intervals of ``stats.rerun_interval`` for p50 latency,
mean latency and energy per frame (and the geometric means they are centred on), or ``kind: window`` with
``n=1`` where a cell has fewer than two ok repeats. Each record keeps its own ``within_window`` spread.
"""

from __future__ import annotations

from harness.results.rows import at
from harness.results.stats import LEVEL, MIN_REL_SD, RERUN_METHOD, rerun_interval, round_ci, window_only


def _energy(r: dict):
    return at(r, "power", "energy_per_frame_mj") if at(r, "power", "status") in (None, "ok") else None


# the headline values of a record that get a rerun interval: uncertainty key -> how to read it from a record
HEADLINES = {"latency_p50_ms": lambda r: at(r, "latency", "total", "p50_ms"),
             "latency_mean_ms": lambda r: at(r, "latency", "total", "mean_ms"), "energy_per_frame_mj": _energy}


def within_of(rec: dict) -> dict | None:
    """A record's own within-window spread (records from before rerun intervals kept it as the headline)."""
    u = rec.get("uncertainty")
    if not isinstance(u, dict):
        return None
    if "kind" not in u:
        return u
    w = u.get("within_window")
    return w if isinstance(w, dict) else None


def cell_uncertainty(repeats: list[dict], level: float = LEVEL) -> dict:
    """The block shared by the repeat records of one cell (without their own ``within_window``)."""
    ok = [r for r in repeats if r.get("status") == "ok"]
    if len(ok) < 2:
        block = window_only(None, len(ok))
        block.pop("within_window")
        return block
    win = [within_of(r) or {} for r in ok]
    block: dict = {"level": level, "kind": "rerun", "repeats": len(ok), "method": RERUN_METHOD.format(k=len(ok)),
                   "min_rel_sd": MIN_REL_SD, "geomean": {}}
    shares = [(r.get("host_state") or {}).get("other_cpu_share") for r in ok]
    block["max_other_cpu_share"] = max((x for x in shares if isinstance(x, (int, float))), default=None)
    for key, read in HEADLINES.items():
        vals = [read(r) for r in ok]
        got = rerun_interval(vals, [w.get(key) for w in win], level, shares) if all(v is not None for v in vals) else None
        block[key] = round_ci(got[1]) if got else None
        block["geomean"][key] = round(got[0], 4) if got else None
    return block


def with_rerun_intervals(records: list[dict]) -> list[dict]:
    """Every record with its cell's ``uncertainty`` block (records that did not measure anything are left as they are)."""
    cells: dict[str, list[dict]] = {}
    for r in records:
        cells.setdefault(r["cell_id"], []).append(r)
    shared = {cell: cell_uncertainty(group) for cell, group in cells.items()}
    out = []
    for r in records:
        if r.get("status") != "ok" or r.get("uncertainty") is None:
            out.append(r)
            continue
        out.append({**r, "uncertainty": {**shared[r["cell_id"]], "within_window": within_of(r)}})
    return out
