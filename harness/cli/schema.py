"""``harness schema``: the JSON Schema of a run record (and of a manifest), generated from the record type; the
result columns, from their registry."""

from __future__ import annotations

import typer


def schema_command(what: str = typer.Argument("record", help="record | manifest | columns")) -> None:
    """Print the JSON Schema of a record (records.jsonl lines) or of a manifest, generated from the types; or the
    result columns (summary.csv, the DataFrame): name, unit, how a cell's repeats combine."""
    from harness.cli._console import output
    from harness.errors import ResultsError
    from harness.results.columns import describe
    from harness.results.record import json_schema

    if what not in ("record", "manifest", "columns"):
        raise ResultsError(f"no schema {what!r}", "use `harness schema record`, `manifest` or `columns`")
    output().json(describe() if what == "columns" else json_schema(what))
