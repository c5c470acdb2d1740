"""``harness report``: PNG plots and a self-contained HTML page for one or more runs."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli._console import output


def report_command(
    runs: list[Path] = typer.Argument(..., help="Run directories (results/<run-id>)."),
    out: Path = typer.Option(None, "--out", help="Directory for report.html and the PNG plots (default: <first run>/report)."),
    baseline: str = typer.Option(None, "--baseline", help="Run dir, run id or device name the ratios are against."),
    include_contended: bool = typer.Option(False, "--include-contended", metavar="",
                                           help="Let cells measured on a busy host into the Pareto fronts and the winners."),
) -> None:
    """Plots (speed/F1/params bars, frontiers, latency distributions, power traces, sample frames) + report.html."""
    from harness.results.compare import contended_counted
    from harness.results.load import load_runs
    from harness.results.render.html import build_report

    from harness.catalogue.render import since_section

    out = out if out is not None else Path(runs[0]) / "report"
    with contended_counted(include_contended):  # every front and pick the report draws
        res = build_report(load_runs(runs), out, baseline, since_section(runs))
    out = output()
    out.line(f"wrote {res['html']} with {len(res['plots'])} plots:")
    for p in res["plots"]:
        out.line(f"  {p}")
