"""``harness suites``: the built-in suites, listed and shown (a starting point for your own)."""

from __future__ import annotations

import typer

from harness.cli import _options as opts
from harness.cli._console import output

app = typer.Typer(help="List and show the built-in suites.", invoke_without_command=True)


@app.callback()
def list_suites(ctx: typer.Context) -> None:
    """List the built-in suites with their cells and windows."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from harness.config.suite import builtin_suites, load_suite

    t = Table(title="built-in suites (harness suites show NAME > mine.yaml to start your own)", header_style="bold")
    for c in ("name", "cells", "frames", "window", "description"):
        t.add_column(c)
    for name in builtin_suites():
        s = load_suite(name)
        window = f">= {s.min_duration_s:g} s" if s.min_duration_s else "profile's"
        t.add_row(s.name, str(len(s.cells())), f"{s.frames} ({s.warmup} warm-up)", window, s.description)
    output().show(t)


@app.command("show")
def show(name: str = typer.Argument(..., help="Suite name or path to a YAML file."), as_json: bool = opts.JSON) -> None:
    """Print one suite, validated, with every default filled in (YAML, or JSON with --json)."""
    from harness.config.suite import load_suite

    output(as_json).document(load_suite(name).model_dump())
