"""The one place commands print from: a rich console per process (and a wide one for comparisons).

When output is not a terminal (CI logs, pipes) the width is fixed, 180 columns or 220 for wide tables.
Library code never prints; it reports through callbacks the commands pass in.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=2)
def console(wide: bool = False):
    from rich.console import Console

    con = Console()
    return con if con.is_terminal else Console(width=220 if wide else 180)


def print_comparison(run_dir: Path, references: list[Path]) -> None:
    """The closing comparison: this run against the references (baseline = first reference, else this run)."""
    from harness.results.compare import compare
    from harness.results.load import load_runs
    from harness.results.render.compare_table import compare_table

    runs = load_runs([*references, run_dir])
    rows = compare(runs)
    title = f"comparison against {runs[0].device}/{runs[0].run_id}" if references else "comparison (this run is the baseline)"
    console(wide=True).print(compare_table(rows, title=title))
