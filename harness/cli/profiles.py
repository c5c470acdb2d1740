"""``harness profiles``: list and show device profiles."""

from __future__ import annotations

import typer

from harness.cli import _options as opts
from harness.cli._console import output

app = typer.Typer(help="List and show device profiles.", invoke_without_command=True)


@app.callback()
def list_profiles(ctx: typer.Context) -> None:
    """List the profiles in device_profiles/ (or HARNESS_PROFILES_DIR)."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from harness.config.profiles import load_profile, profile_names, profiles_dir

    t = Table(title=f"device profiles ({profiles_dir()})", header_style="bold")
    for c in ("name", "kind", "runtime", "compute", "host", "description"):
        t.add_column(c)
    for name in profile_names():
        p = load_profile(name)
        c = p.connection
        host = "(this machine)" if c is None else c.host if not c.pooled else \
            f"{c.pool}: " + ",".join(f"{k}={v}" for k, v in c.tags.items())
        t.add_row(p.name, p.kind, p.runtime, p.compute, host, p.description)
    output().show(t)


@app.command("show")
def show(name: str = typer.Argument(..., help="Profile name or path to a YAML file."), as_json: bool = opts.JSON) -> None:
    """Print one profile, validated, with every default filled in (YAML, or JSON with --json)."""
    from harness.config.profiles import load_profile

    output(as_json).document(load_profile(name).model_dump())
