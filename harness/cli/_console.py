"""The rich console every command prints through."""

from __future__ import annotations


def console(wide: bool = False):
    """A rich console; when output is not a terminal (CI logs, pipes) 180 columns, or 220 for wide tables."""
    from rich.console import Console

    con = Console()
    return con if con.is_terminal else Console(width=220 if wide else 180)
