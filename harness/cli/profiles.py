"""``harness profiles``: list and show device profiles."""

from __future__ import annotations

import typer

from harness.cli import _options as opts
from harness.cli._console import output

app = typer.Typer(help="List and show device profiles.", invoke_without_command=True)


COLUMNS = ("name", "kind", "runtime", "compute", "host", "description")
LEFT_OUT_FIRST = ("compute", "runtime", "description", "kind")  # on a narrow terminal; name and host always stay
DESCRIPTION_MIN = 24  # cells a description wraps within before it is left out instead


def profiles_table(rows: list[dict], width: int, title: str):
    """The profiles as a table for ``width`` columns of terminal: a name and a host are never cut or wrapped (they
    are what one types); the description wraps, and on a narrow terminal whole columns are left out instead, the
    table saying which."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    from harness.results.render.table import Unsqueezed

    def cells(c: str) -> int:  # the width a column takes (its border and padding included)
        wanted = max([cell_len(c), *(cell_len(r[c]) for r in rows)])
        return (min(wanted, DESCRIPTION_MIN) if c == "description" else wanted) + 3

    shown, hidden = list(COLUMNS), []
    for c in LEFT_OUT_FIRST:
        if sum(map(cells, shown)) + 1 <= width:
            break
        shown.remove(c)
        hidden.append(c)
    t = Table(title=title, header_style="bold")
    for c in shown:
        t.add_column(c, no_wrap=c != "description", min_width=cells(c) - 3 if c == "description" else None)
    for r in rows:
        t.add_row(*(Text(r[c]) for c in shown))  # a profile's text, printed literally
    if hidden:
        t.caption = f"hidden: {', '.join(hidden)} — widen the terminal, or `harness profiles show NAME`"
        t.caption_justify = "left"
    return Unsqueezed(t, sum(map(cells, shown)) + 1)  # name and host whole, even past a very narrow terminal's edge


@app.callback()
def list_profiles(ctx: typer.Context) -> None:
    """List the profiles in device_profiles/ (or HARNESS_PROFILES_DIR)."""
    if ctx.invoked_subcommand is not None:
        return
    from harness.config.profiles import load_profile, profile_names, profiles_dir

    rows = []
    for name in profile_names():
        p = load_profile(name)
        c = p.connection
        host = "(this machine)" if c is None else c.host if not c.pooled else \
            f"{c.pool}: " + ",".join(f"{k}={v}" for k, v in c.tags.items())
        rows.append({"name": p.name, "kind": p.kind, "runtime": p.runtime, "compute": p.compute, "host": host,
                     "description": p.description or ""})
    out = output()
    out.show(profiles_table(rows, out.width, f"device profiles ({profiles_dir()})"), crop=False)


@app.command("show")
def show(name: str = typer.Argument(..., help="Profile name or path to a YAML file."), as_json: bool = opts.JSON) -> None:
    """Print one profile, validated, with every default filled in (YAML, or JSON with --json)."""
    from harness.config.profiles import load_profile

    output(as_json).document(load_profile(name).model_dump())
