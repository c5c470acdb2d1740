"""The one owner of what commands print: ``output()`` gives a command its ``Output``; no other ``cli/`` module
prints, makes a console or touches ``sys.stdout`` (``tests/test_boundaries.py`` reads the code to keep it so).

An ``Output`` writes tables and lines to stdout, or to stderr when stdout carries a JSON document (``--json``:
stdout is then that document alone). Its width is the terminal's, or ``COLUMNS`` when output is piped (rich's
default 80 otherwise), and the results table fits it, naming the columns it left out (``--wide`` for every
column, at their full width even past the terminal's edge). Text that came from a record
or a device is printed literally (never read as markup). Library code never prints; it reports through callbacks
the commands pass in.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=2)
def console(stderr: bool = False):
    """The rich console (on stderr when stdout is reserved for JSON); for ``Output`` and the progress renderers."""
    from rich.console import Console

    return Console(stderr=stderr)


class Output:
    """What one command shows. ``as_json``: stdout is for one JSON document, everything else goes to stderr."""

    def __init__(self, as_json: bool = False) -> None:
        self.as_json = as_json
        self.con = console(stderr=as_json)

    @property
    def width(self) -> int:
        return self.con.width

    def show(self, *renderables, **options) -> None:
        """Tables, rich Text, or a string with rich markup the command wrote itself."""
        self.con.print(*renderables, **options)

    def line(self, text: str, style: str | None = None) -> None:
        """One line printed literally (names and reasons from records or devices: never markup): wrapped at words in a
        terminal, never broken when piped (a log or grep sees the line whole)."""
        from rich.text import Text

        self.con.print(Text(text, style=style or ""), soft_wrap=not self.con.is_terminal)

    def flagged(self, label: str, style: str, text: str = "") -> None:
        """``label: text``: the label styled, the text literal (a path, a device's reason), on one line."""
        from rich.text import Text

        self.con.print(Text.assemble((label, style), f": {text}" if text else ""), soft_wrap=not self.con.is_terminal)

    def text(self, text: str, stderr: bool = False) -> None:
        """Raw text exactly as given (YAML, a tag, a device's log lines): no styling, no wrapping."""
        (sys.stderr if stderr else sys.stdout).write(text if text.endswith("\n") else text + "\n")

    def json(self, obj, sort_keys: bool = False) -> None:
        """One JSON document on stdout (numbers as numbers, anything else as its text)."""
        sys.stdout.write(json.dumps(obj, default=str, sort_keys=sort_keys) + "\n")

    def document(self, data: dict) -> None:
        """A validated config (profile, suite) with every default filled in: YAML, or JSON with ``--json``."""
        if self.as_json:
            self.json(data)
            return
        import yaml

        self.text(yaml.safe_dump(data, sort_keys=False))

    def results(self, rows: list[dict], title: str | None, wide: bool = False) -> None:
        from harness.results.render.table import results_table
        from harness.results.render.winners import best_table

        # --wide may run past the terminal's edge: uncropped, so a number is never cut (the terminal wraps the line)
        self.con.print(results_table(rows, self.width, title=title, wide=wide), crop=False)
        best = best_table(rows, self.width)
        if best is not None:
            self.con.print(best)

    def notes(self, notes: list[str]) -> None:
        """What holds for a comparison as a whole (``compare``'s notes), one yellow line each, printed literally."""
        for note in notes:
            self.line(note, "yellow")

    def comparison(self, run_dir: Path, references: list[Path], title: str, wide: bool = False) -> list[dict]:
        """The closing table of a run: this run, against the references when there are any (baseline = the first)."""
        from harness.results.compare import compare
        from harness.results.load import load_runs

        runs = load_runs([*references, run_dir])
        rows = compare(runs)
        if references:
            title += f" — against {runs[0].device}/{runs[0].run_id}"
        self.results(rows, title, wide)
        self.notes(rows.notes)
        return rows

    def closing(self, run_dir: Path, records: list[dict], title: str, references: list[Path] | None = None,
                wide: bool = False) -> int:
        """The end of ``run`` and ``deploy``: the table (or the JSON document) and the counts; the exit code (1 when a
        cell failed)."""
        counts = {k: sum(r["status"] == k for r in records) for k in ("ok", "skipped", "failed")}
        if self.as_json:
            from harness.results.compare import compare
            from harness.results.load import load_runs

            self.json({"run_dir": str(run_dir), "counts": counts, "rows": compare(load_runs([*(references or []), run_dir]))})
        else:
            self.comparison(run_dir, references or [], title, wide)
            self.line(f"{counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed — run directory: {run_dir}")
        return 1 if counts["failed"] else 0


def output(as_json: bool = False) -> Output:
    return Output(as_json)
