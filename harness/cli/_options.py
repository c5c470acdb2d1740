"""Options shared by commands that run a suite (``run``, ``deploy``): one definition, one help text."""

from __future__ import annotations

from pathlib import Path

import typer

SUITE = typer.Option("quick", "--suite", envvar="HARNESS_SUITE", help="quick | seed | path to a suite YAML.")
FRAMES = typer.Option(None, "--frames", help="Frames per cell, warm-up included (overrides the suite).")
IMGSZ = typer.Option(None, "--imgsz", help="Input size in px, a multiple of 32 (overrides the suite).")
OUT = typer.Option(Path("results"), "--out", envvar="HARNESS_RESULTS_DIR", help="Where run directories go.")
RUN_ID = typer.Option(None, "--run-id", help="Name of the run directory (default: time-profile-suite).")
WIDE = typer.Option(False, "--wide", help="Every column, whatever the terminal's width.", metavar="")
JSON = typer.Option(False, "--json", help="Print JSON on stdout (progress goes to stderr).", metavar="")


def between(lo: float, hi: float, unit: str = ""):
    """An option callback: a number from ``lo`` to ``hi`` (NaN and inf refused; click's own min/max let NaN in)."""

    def check(value):
        if value is not None and not lo <= value <= hi:
            raise typer.BadParameter(f"{value!r} is not allowed: use a number from {_plain(lo)} to {_plain(hi)}{unit}")
        return value

    return check


def _plain(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"
