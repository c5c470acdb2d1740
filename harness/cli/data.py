"""``harness data``: make and check MOT-format sequences."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli._console import console

from harness.errors import DataError

app = typer.Typer(help="Make and check MOT-format sequences.", no_args_is_help=True)


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise DataError(f"--size {text!r}: expected WIDTHxHEIGHT", "for example --size 1280x720") from None
    return w, h


@app.command("synth")
def synth(
    out_dir: Path = typer.Argument(..., help="Directory to create (a MOT sequence)."),
    frames: int = typer.Option(60, "--frames", help="Number of frames."),
    size: str = typer.Option("1280x720", "--size", help="Frame size WIDTHxHEIGHT."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same sequence)."),
    walkers: int = typer.Option(8, "--people", help="Number of walking people."),
    force: bool = typer.Option(False, "--force", help="Replace OUT_DIR if it exists."),
) -> None:
    """Write a synthetic MOT sequence with exact ground truth (and noisy det/det.txt)."""
    from harness.bench.synth import synthesize

    out = synthesize(out_dir, n_frames=frames, size=parse_size(size), seed=seed, n_walkers=walkers, overwrite=force)
    print(f"wrote {frames} frames, gt/gt.txt, det/det.txt and seqinfo.ini to {out}")


@app.command("check")
def check(
    seq_dir: Path = typer.Argument(..., help="MOT sequence directory."),
    decode: bool = typer.Option(True, "--decode/--no-decode", help="Decode every frame (slower, finds corrupt images)."),
) -> None:
    """Validate a sequence: seqinfo.ini, frames, numbering, gt/gt.txt. Exit 1 if problems."""
    from harness.bench.seqcheck import check_sequence

    report = check_sequence(seq_dir, decode=decode)
    con = console()
    for line in report.facts:
        con.print(f"  {line}")
    for p in report.warnings:
        con.print(f"[yellow]warning[/]: {p}")
    for p in report.errors:
        con.print(f"[red]problem[/]: {p}")
    if report.errors:
        con.print(f"[red]{len(report.errors)} problem(s)[/] in {seq_dir}")
        raise typer.Exit(1)
    con.print(f"[green]ok[/]: {seq_dir}")
