"""``harness compare``: one table across runs and devices, ratios against references and a baseline, Pareto marks."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import output


def compare_command(
    runs: list[Path] = typer.Argument(..., help="Run directories (results/<run-id>)."),
    baseline: str = typer.Option(None, "--baseline", help="Run dir, run id or device name the ratios are against (default: the first run)."),
    sort: str = typer.Option("energy", "--sort", help="energy | latency | f1 | fps_per_w (energy falls back to latency without power data)."),
    filter_expr: str = typer.Option(None, "--filter", help="e.g. 'format=onnx, f1>=0.5, p50<25, device~orin' (AND)."),
    wide: bool = opts.WIDE,
    as_json: bool = opts.JSON,
    csv_path: Path = typer.Option(None, "--csv", help="Also write the rows as CSV (summary.csv's columns, then the comparison's)."),
    parquet_path: Path = typer.Option(None, "--parquet", help="Also write the rows as Parquet (the same columns)."),
    include_contended: bool = typer.Option(False, "--include-contended", metavar="",
                                           help="Let cells measured on a busy host into the Pareto fronts and the winners."),
) -> None:
    """Compare runs: latency with 95 % intervals, F1/AP50, power, energy per frame, FPS/W; ratios vs references and a baseline.

    Cells are matched across runs by configuration (model and weights, format, precision, pruning, fine-tune, imgsz,
    power mode, engine target), not by experiment name.
    """

    from harness.results.compare import compare, contended_counted, pick_baseline
    from harness.results.select import filter_rows, rows_frame, sort_key, sort_rows
    from harness.results.load import load_runs
    from harness.results.store import atomic_write_text

    loaded = load_runs(runs)
    rows = compare(loaded, baseline, include_contended)
    notes = rows.notes  # of the whole comparison, before --filter
    if filter_expr:
        rows = filter_rows(rows, filter_expr)
    used = sort_key(rows, sort)
    rows = sort_rows(rows, used)
    if csv_path is not None:
        from harness.results.rows import csv_text

        atomic_write_text(csv_path, csv_text(rows_frame(rows)))
    if parquet_path is not None:
        import io

        from harness.fsutil import atomic_write_bytes

        buf = io.BytesIO()
        rows_frame(rows).to_parquet(buf, index=False)
        atomic_write_bytes(parquet_path, buf.getvalue())
    out = output(as_json)
    if as_json:  # one object, as `run --json` prints: the rows and what they are
        base = pick_baseline(loaded, baseline)
        out.json({"runs": [{"run_id": r.run_id, "device": r.device, "run_dir": str(r.root)} for r in loaded],
                  "baseline": f"{base.device}/{base.run_id}", "sorted_by": used, "filter": filter_expr,
                  "notes": list(notes), "rows": rows})
        out.notes(notes)  # also on stderr, for a person: stdout stays one JSON document
        return
    why = f"sorted by {used}" + (f" ({sort} has no values in these runs)" if used != sort else "")
    with contended_counted(include_contended):  # the winners' table below the rows counts them as the fronts do
        out.results(rows, f"{len(rows)} rows from {len(runs)} run(s), {why}", wide)
    if not rows:
        out.line("no rows (check --filter)")
    out.notes(notes)
