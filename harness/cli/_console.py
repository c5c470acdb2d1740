"""The rich console every command prints through."""

from __future__ import annotations


def console():
    """A rich console; 180 columns when output is not a terminal (CI logs, pipes)."""
    from rich.console import Console

    con = Console()
    return con if con.is_terminal else Console(width=180)
