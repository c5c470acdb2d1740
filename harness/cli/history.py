"""``harness history``, ``harness regressions`` and ``harness results index|query``: the results catalogue."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import output

RESULTS = typer.Option(Path("results"), "--results", envvar="HARNESS_RESULTS_DIR",
                       help="The results directory whose catalogue to read (<results>/catalogue).")
app = typer.Typer(help="The results catalogue: rebuild it, query it with SQL.", no_args_is_help=True)


def _catalogue(results: Path):
    from harness.catalogue.store import Catalogue
    from harness.errors import ResultsError

    cat = Catalogue(results)
    if not cat.exists():
        raise ResultsError(f"{cat.root}: no catalogue yet",
                           f"runs are added as they finish; `harness results index {results}` adds the ones already there")
    return cat


def history_command(
    results: Path = RESULTS,
    device: str = typer.Option(None, "--device", help="Only this device (its profile name)."),
    model: str = typer.Option(None, "--model", help="Only this model (yolov8n, ...)."),
    variant: str = typer.Option(None, "--variant", help="Variants containing this text ('tensorrt int8', '@15W')."),
    config: str = typer.Option(None, "--config", help="Configurations containing this text (device, model, variant, imgsz)."),
    where: str = typer.Option(None, "--where", help="A SQL condition on the catalogue's columns ('imgsz = 640')."),
    last: int = typer.Option(10, "--last", callback=opts.between(1, 100_000), help="The last N runs of each configuration."),
    plot: Path = typer.Option(None, "--plot", help="Also draw p50, mJ/frame, FPS/W and F1 over time to this PNG."),
    as_json: bool = opts.JSON,
) -> None:
    """One configuration (or a filter) over time: p50, energy per frame, FPS/W and F1 per run with their 95 %
    intervals, and what changed between runs (L4T, TensorRT, torch, ultralytics, harness, nvpmodel, clocks)."""
    from harness.catalogue.history import history
    from harness.catalogue.render import history_plot, history_tables

    df = history(_catalogue(results), device, model, variant, config, where, last)
    out = output(as_json)
    if plot is not None and not df.empty:
        history_plot(df, plot)
    if as_json:
        out.json({"results": str(results), "rows": df.assign(run_created_at=df.run_created_at.astype(str)).to_dict("records")})
        return
    if df.empty:
        out.line("no runs match (check --device / --model / --variant / --config / --where)")
        return
    for table in history_tables(df, out.width):
        out.show(table)
    out.line(f"{df.config.nunique()} configuration(s), {df.run_dir.nunique()} run(s)"
             + (f"; plot: {plot}" if plot is not None else ""))


def regressions_command(
    results: Path = RESULTS,
    device: str = typer.Option(None, "--device", help="Only this device (its profile name)."),
    window: int = typer.Option(5, "--window", callback=opts.between(1, 1000), help="Previous runs the latest is compared with."),
    min_change: float = typer.Option(3.0, "--min-change", callback=opts.between(0, 100, "%"),
                                     help="Latency and energy changes smaller than this many percent are never listed."),
    fail: bool = typer.Option(False, "--fail", metavar="", help="Exit 1 when anything got worse (for a CI job)."),
    as_json: bool = opts.JSON,
) -> None:
    """The latest run of each configuration against its previous comparable runs (same device, model, variant,
    power mode, image size, sequence): the changes outside the noise, both ways.

    Outside the noise: larger than the widest of --min-change (F1: 0.01), the two runs' 95 % rerun intervals
    added, and three robust standard deviations of the previous runs' values."""
    from harness.catalogue.regressions import regressions
    from harness.catalogue.render import regressions_table, summary_line

    changes = regressions(_catalogue(results), window, min_change / 100, device)
    worse = any(c.worse for c in changes)
    out = output(as_json)
    if as_json:
        out.json({"worse": sum(c.worse for c in changes), "better": sum(not c.worse for c in changes),
                  "changes": [c.as_dict() for c in changes]})
    else:
        if changes:
            out.show(regressions_table(changes))
        out.line(summary_line(changes))
    if fail and worse:
        raise typer.Exit(1)


@app.command("index")
def index_command(results: Path = typer.Argument(Path("results"), help="The results directory.")) -> None:
    """Rebuild the catalogue from the run directories (and remove what a killed write left)."""
    from harness.catalogue.store import Catalogue

    done = Catalogue(results).index()
    out = output()
    for why in done.skipped:
        out.flagged("skipped", "yellow", why)
    out.line(f"{done.runs} run(s), {done.rows} row(s) in {results / 'catalogue'}"
             + (f"; removed {done.temps_removed} unfinished write(s)" if done.temps_removed else ""))


@app.command("query")
def query_command(
    sql: str = typer.Argument(..., help="SQL over the view `cells` (one row per cell and repeat)."),
    results: Path = RESULTS,
    csv_path: Path = typer.Option(None, "--csv", help="Write the result as CSV here."),
    parquet_path: Path = typer.Option(None, "--parquet", help="Write the result as Parquet here."),
    as_json: bool = opts.JSON,
) -> None:
    """Anything else: `harness results query "SELECT device, avg(fps_per_w) FROM cells GROUP BY device"`."""
    import io

    import duckdb

    from harness.errors import ResultsError
    from harness.fsutil import atomic_write_bytes, atomic_write_text
    from harness.results.rows import csv_text

    try:
        df = _catalogue(results).connect().execute(sql).df()
    except duckdb.Error as e:
        raise ResultsError(f"the query failed: {str(e).splitlines()[0]}",
                           "the view is `cells`; `harness schema columns` lists its columns") from None
    if csv_path is not None:
        atomic_write_text(csv_path, csv_text(df))
    if parquet_path is not None:
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        atomic_write_bytes(parquet_path, buf.getvalue())
    out = output(as_json)
    if as_json:
        out.json({"query": sql, "rows": df.astype(object).where(df.notna(), None).to_dict("records")})
        return
    from harness.catalogue.render import frame_table

    out.show(frame_table(df))
    out.line(f"{len(df)} row(s)")
