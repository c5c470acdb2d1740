"""``harness compare``: one table across runs and devices, ratios against a baseline, Pareto marks."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import typer

from harness.cli._console import console


def compare_command(
    runs: list[Path] = typer.Argument(..., help="Run directories (results/<run-id>)."),
    baseline: str = typer.Option(None, "--baseline", help="Run dir, run id or device name the ratios are against (default: the first run)."),
    sort: str = typer.Option("energy", "--sort", help="energy | latency | f1"),
    filter_expr: str = typer.Option(None, "--filter", help="e.g. 'format=onnx, f1>=0.5, device~orin' (AND)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array of row objects."),
    csv_path: Path = typer.Option(None, "--csv", help="Also write the rows as CSV."),
) -> None:
    """Compare runs: latency, F1/AP50, power, energy per frame, FPS/W; speed-up and energy ratio vs a baseline."""
    from harness.results.compare import compare, parse_filter, sort_rows
    from harness.results.render.compare_table import compare_table
    from harness.results.load import load_runs
    from harness.results.store import atomic_write_text

    rows = compare(load_runs(runs), baseline)
    if filter_expr:
        pred = parse_filter(filter_expr)
        rows = [r for r in rows if pred(r)]
    rows = sort_rows(rows, sort)
    if csv_path is not None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["cell_id"])
        w.writeheader()
        w.writerows(rows)
        atomic_write_text(csv_path, buf.getvalue())
    if as_json:
        print(json.dumps(rows))
        return
    console(wide=True).print(compare_table(rows, title=f"{len(rows)} rows from {len(runs)} run(s), sorted by {sort}"))
