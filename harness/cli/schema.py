"""``harness schema``: the JSON Schema of a run record (and of a manifest), generated from the record type."""

from __future__ import annotations

import typer


def schema_command(what: str = typer.Argument("record", help="record | manifest")) -> None:
    """Print the JSON Schema of a record (records.jsonl lines) or of a manifest, generated from the types."""
    from harness.cli._console import print_json
    from harness.errors import ResultsError
    from harness.results.record import json_schema

    if what not in ("record", "manifest"):
        raise ResultsError(f"no schema {what!r}", "use `harness schema record` or `harness schema manifest`")
    print_json(json_schema(what))
