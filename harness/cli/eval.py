"""``harness eval``: detection quality of a MOT det file against MOT ground truth."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli._options import between

from harness.cli._console import output


def eval_command(
    gt: Path = typer.Option(..., "--gt", help="MOT ground truth (gt/gt.txt)."),
    det: Path = typer.Option(..., "--det", help="MOT detections (frame,id,x,y,w,h,conf,...)."),
    iou: float = typer.Option(0.5, "--iou", callback=between(0, 1), help="IoU threshold for a true positive."),
    conf: float = typer.Option(0.0, "--conf", callback=between(0, 1), help="Ignore detections below this confidence."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object.", metavar=""),
) -> None:
    """Precision / recall / F1 at --iou and AP50, with MOT17 ignore regions honoured."""
    from harness.mot.metrics import evaluate
    from harness.mot.files import read_det, read_gt

    q = evaluate(read_gt(gt), read_det(det), iou_threshold=iou, conf_threshold=conf)
    if as_json:
        output().json(q.as_dict())
        return
    from rich.table import Table

    t = Table(title=f"{det} vs {gt}", header_style="bold")
    for c in ("TP", "FP", "FN", "ignored", "precision", "recall", f"F1@{iou:g}", "AP50"):
        t.add_column(c, justify="right")
    t.add_row(str(q.tp), str(q.fp), str(q.fn), str(q.ignored), f"{q.precision:.4f}", f"{q.recall:.4f}",
              f"{q.f1:.4f}", "—" if q.ap50 is None else f"{q.ap50:.4f}")
    output().show(t)
