"""``harness data``: make and check MOT-format sequences."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import output

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
    frames: int = typer.Option(60, "--frames", callback=opts.between(2, 100_000), help="Number of frames."),
    size: str = typer.Option("1280x720", "--size", help="Frame size WIDTHxHEIGHT."),
    seed: int = typer.Option(0, "--seed", callback=opts.between(0, 2**32 - 1), help="Random seed (same seed, same sequence)."),
    walkers: int = typer.Option(8, "--people", callback=opts.between(0, 1000), help="Number of walking people."),
    force: bool = typer.Option(False, "--force", help="Replace OUT_DIR if it exists.", metavar=""),
) -> None:
    """Write a synthetic MOT sequence with exact ground truth (and noisy det/det.txt)."""
    from harness.mot.synth import synthesize

    out = synthesize(out_dir, n_frames=frames, size=parse_size(size), seed=seed, n_walkers=walkers, overwrite=force)
    output().line(f"wrote {frames} frames, gt/gt.txt, det/det.txt and seqinfo.ini to {out}")


@app.command("check")
def check(
    seq_dir: Path = typer.Argument(..., help="MOT sequence directory."),
    decode: bool = typer.Option(True, "--decode/--no-decode", help="Decode every frame (slower, finds corrupt images).", metavar=""),
    as_json: bool = opts.JSON,
) -> None:
    """Validate a sequence: seqinfo.ini, frames, numbering, gt/gt.txt. Exit 1 if problems, 2 if it is not there."""
    from harness.errors import DataError
    from harness.mot.check import check_sequence

    if not seq_dir.is_dir():
        raise DataError(f"{seq_dir}: not a directory", "pass a MOT sequence directory (seqinfo.ini, img1/, gt/gt.txt)")
    report = check_sequence(seq_dir, decode=decode)
    if as_json:
        output().json({"sequence": str(seq_dir), "ok": not report.errors, "facts": report.facts, "warnings": report.warnings,
                    "errors": report.errors})
        if report.errors:
            raise typer.Exit(1)
        return
    out = output()
    for line in report.facts:
        out.line(f"  {line}")
    for p in report.warnings:  # one line each, never wrapped: grep-able, paths intact
        out.flagged("warning", "yellow", p)
    for p in report.errors:
        out.flagged("problem", "red", p)
    if report.errors:
        out.flagged(f"{len(report.errors)} problem(s)", "red", f"in {seq_dir}")
        raise typer.Exit(1)
    out.flagged("ok", "green", str(seq_dir))


@app.command("to-yolo")
def to_yolo(
    sequences: list[Path] = typer.Argument(..., help="MOT sequence directories."),
    out: Path = typer.Option(..., "--out", help="Dataset directory to create (images/, labels/, data.yaml)."),
    val_fraction: float = typer.Option(0.1, "--val-fraction", callback=opts.between(0, 0.9), help="Last fraction of each sequence used for val."),
    min_visibility: float = typer.Option(0.25, "--min-visibility", callback=opts.between(0, 1), help="Skip pedestrians less visible than this."),
    max_frames: int = typer.Option(None, "--max-frames", callback=opts.between(1, 10_000_000), help="Use only the first N frames of each sequence."),
) -> None:
    """Convert MOT sequences to a YOLO-format dataset (class 0 = person) for fine-tuning and calibration."""
    import yaml

    from harness.mot.to_yolo import mot_to_yolo

    data = mot_to_yolo(sequences, out, val_fraction, min_visibility, max_frames)
    counts = yaml.safe_load(data.read_text())["harness"]
    output().line(f"wrote {data}: {counts['train']} train / {counts['val']} val images, {counts['boxes']} boxes")
