"""The one place commands print from: one rich console per process.

Its width is the terminal's, or ``COLUMNS`` when output is piped (rich's default 80 otherwise), and
the results table fits it (``--wide`` for every column). Library code never prints; it reports
through callbacks the commands pass in.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=2)
def console(stderr: bool = False):
    """The console (on stderr when stdout is reserved for JSON)."""
    from rich.console import Console

    return Console(stderr=stderr)


def print_json(obj) -> None:
    """One JSON document on stdout (numbers as numbers, anything else as its text)."""
    sys.stdout.write(json.dumps(obj, default=str) + "\n")


def print_results(rows: list[dict], title: str | None, wide: bool = False) -> None:
    from harness.results.render.table import results_table
    from harness.results.render.winners import best_table

    con = console()
    con.print(results_table(rows, con.width, title=title, wide=wide))
    best = best_table(rows, con.width)
    if best is not None:
        con.print(best)


def print_comparison(run_dir: Path, references: list[Path], title: str, wide: bool = False) -> list[dict]:
    """The closing table of a run: this run, against the references when there are any (baseline = the first)."""
    from harness.results.compare import compare
    from harness.results.load import load_runs

    runs = load_runs([*references, run_dir])
    rows = compare(runs)
    if references:
        title += f" — against {runs[0].device}/{runs[0].run_id}"
    print_results(rows, title, wide)
    print_notes(rows.notes)
    return rows


def print_notes(notes: list[str], stderr: bool = False) -> None:
    """What holds for a comparison as a whole (``compare``'s notes), one yellow line each, printed literally."""
    from rich.text import Text

    for note in notes:
        console(stderr=stderr).print(Text(note, style="yellow"))


def print_document(data: dict, as_json: bool) -> None:
    """A validated config (profile, suite) with every default filled in: YAML, or JSON with ``--json``."""
    if as_json:
        print_json(data)
        return
    import yaml

    print(yaml.safe_dump(data, sort_keys=False), end="")
