"""Within-experiment references and accuracy floors.

Each experiment names a reference variant (default: the unpruned PyTorch fp32 cell of the same
model). Every row of the experiment (``results.rows``; a record is flattened first, an aggregate of
repeats is a row too) is set against the reference cell of its model -- the same repeat when there
is one -- as ``reference``: ``speedup`` = ref p50 / p50, ``energy_ratio`` =
energy per frame / ref's, ``f1_delta`` = F1 - ref F1, each ratio with its 95 % interval and
whether it is ``significant`` (the interval excludes 1). The suite's ``accuracy_floor`` (MLPerf
style: ``relative`` x the reference's F1, and/or an ``absolute`` F1) marks ``below_floor``; a
variant below it is fast because it is broken, and is left out of Pareto fronts and every "best".
Random-init weights have no meaningful F1, so no floor applies to them, and the block says so.
"""

from __future__ import annotations

from harness.config.suite import Cell, Suite, cell_key, reference_cell
from harness.results.match import recovery_of
from harness.results.rows import flatten
from harness.results.stats import ratio_of, significant

RANDOM_INIT_NOTE = "no accuracy floor: random-init weights make F1 meaningless"


def _cell_of(row: dict) -> Cell:
    dla = row.get("dla_core")
    return Cell(row["experiment"], row["model"], row["format"], row["precision"], row.get("prune_ratio") or 0.0,
                bool(row.get("finetuned")), 1, row.get("power_mode") or None,
                None if dla is None or dla != dla else int(dla), row.get("gpu_fallback") is not False, recovery_of(row))


def _ci(row: dict, stem: str, unit: str):
    lo, hi = row.get(f"{stem}_ci_lo_{unit}"), row.get(f"{stem}_ci_hi_{unit}")
    return (lo, hi) if lo is not None and hi is not None else None


def compare_to_reference(row: dict, ref: dict | None, suite: Suite, ref_cell: Cell | None = None) -> dict:
    """The ``reference`` block of a flat row (``results.rows``) against its reference cell's row (or None);
    ``ref_cell``: the row's reference cell when the caller has it (``Suite.reference_of``)."""
    ref_cell = ref_cell or suite.reference_of(_cell_of(row))
    block: dict = {"cell_id": ref_cell.cell_id, "is_reference": ref_cell.cell_id == row["cell_id"]}
    if ref is None or ref.get("status") != "ok" or row.get("status") != "ok":
        block["note"] = "the reference cell did not run in this run" if ref is None else f"the reference cell is {ref.get('status')}"
        return block
    speedup, speedup_ci = ratio_of(ref["latency_p50_ms"], _ci(ref, "latency_p50", "ms"), row["latency_p50_ms"],
                                   _ci(row, "latency_p50", "ms"))
    energy, energy_ci = ratio_of(row["energy_per_frame_mj"], _ci(row, "energy_per_frame", "mj"),
                                 ref["energy_per_frame_mj"], _ci(ref, "energy_per_frame", "mj"))
    f1, rf1 = row.get("f1"), ref.get("f1")
    r4 = lambda v: None if v is None else round(v, 4)  # noqa: E731
    block.update(
        speedup=r4(speedup), speedup_ci=[r4(x) for x in speedup_ci] if speedup_ci else None,
        speedup_significant=None if block["is_reference"] else significant(speedup_ci),
        energy_ratio=r4(energy), energy_ratio_ci=[r4(x) for x in energy_ci] if energy_ci else None,
        energy_significant=None if block["is_reference"] else significant(energy_ci),
        f1_delta=r4(f1 - rf1) if f1 is not None and rf1 is not None else None,
    )
    block.update(floor_verdict(row, rf1, suite))
    return block


def floor_verdict(row: dict, ref_f1: float | None, suite: Suite) -> dict:
    """``below_floor`` (True/False/None) and the floor it was held to."""
    floor = suite.accuracy_floor
    if row.get("weights_provenance") == "random-init":
        return {"below_floor": None, "floor_note": RANDOM_INIT_NOTE}
    f1 = row.get("f1")
    if f1 is None:
        return {"below_floor": None, "floor_note": "no F1 measured (no ground truth)"}
    limits = []
    if floor.relative is not None and ref_f1 is not None:
        limits.append((floor.relative * ref_f1, f"{floor.relative:g} x reference F1 {ref_f1:.3f}"))
    if floor.absolute is not None:
        limits.append((floor.absolute, f"F1 {floor.absolute:g}"))
    if not limits:
        return {"below_floor": None, "floor_note": "no floor: no reference F1 and no absolute floor"}
    bound, text = max(limits)
    return {"below_floor": f1 < bound - 1e-12, "floor_f1": round(bound, 4), "floor_note": f"floor {bound:.3f} ({text})"}


def reference_rows(rows: list[dict], suite: Suite) -> list[dict]:
    """Each row of one run with its ``reference`` block (rows matched by cell id and repeat)."""
    by_key = {cell_key(r["cell_id"], r.get("repeat") or 1): r for r in rows}
    references = suite.references()
    out = []
    for row in rows:
        try:
            ref_cell = reference_cell(_cell_of(row), references)
        except (StopIteration, KeyError, TypeError):
            out.append({**row, "reference": None})  # an experiment this suite does not have: nothing to compare with
            continue
        ref = by_key.get(cell_key(ref_cell.cell_id, row.get("repeat") or 1)) or by_key.get(ref_cell.cell_id)
        out.append({**row, "reference": compare_to_reference(row, ref, suite, ref_cell)})
    return out


def annotate_references(records: list[dict], suite: Suite) -> list[dict]:
    """Every record of one run with its ``reference`` block (what the runner writes at the end of a run)."""
    rows = reference_rows([flatten(r) for r in records], suite)
    return [{**rec, "reference": row["reference"]} for rec, row in zip(records, rows)]
