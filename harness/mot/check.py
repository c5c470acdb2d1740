"""``harness data check``: everything wrong with a MOT sequence, in one report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.mot.files import read_det, read_gt
from harness.mot.sequence import decode_frame, load_sequence
from harness.errors import DataError

REQUIRED_INFO = ("name", "imdir", "framerate", "seqlength", "imwidth", "imheight", "imext")


@dataclass
class CheckReport:
    facts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def check_sequence(root: str | Path, decode: bool = True) -> CheckReport:
    """Validate layout, numbering, frames and annotation files; never raises DataError."""
    root = Path(root)
    rep = CheckReport()
    try:
        seq = load_sequence(root)
    except DataError as e:
        rep.errors.append(str(e))
        return rep
    if not seq.info:
        rep.warnings.append(f"{root / 'seqinfo.ini'}: missing; frame size and rate unknown")
    else:
        missing = [k for k in REQUIRED_INFO if k not in seq.info]
        if missing:
            rep.warnings.append(f"{root / 'seqinfo.ini'}: missing keys {', '.join(missing)}")
    ids = np.asarray(seq.frame_ids)
    rep.facts.append(f"sequence {seq.name}: {ids.size} frames ({ids.min()}..{ids.max()}), "
                     f"{seq.width or '?'}x{seq.height or '?'} @ {seq.frame_rate or '?'} fps")
    expected = np.arange(1, ids.size + 1)
    if not np.array_equal(ids, expected):
        gaps = sorted(set(range(1, int(ids.max()) + 1)) - set(ids.tolist()))
        rep.errors.append(f"{seq.frame_paths[0].parent}: frame numbers are not 1..{ids.size}"
                          + (f" (missing {gaps[:5]}{'...' if len(gaps) > 5 else ''})" if gaps else ""))
    length = seq.info.get("seqlength")
    if length and length.isdigit() and int(length) != ids.size:
        rep.errors.append(f"{root / 'seqinfo.ini'}: seqLength={length} but img1 has {ids.size} frames")
    if decode:
        for path in seq.frame_paths:
            try:
                img = decode_frame(path)
            except DataError as e:
                rep.errors.append(str(e))
                continue
            h, w = img.shape[:2]
            if seq.width and seq.height and (w, h) != (seq.width, seq.height):
                rep.errors.append(f"{path}: {w}x{h}, seqinfo.ini says {seq.width}x{seq.height}")
    _check_gt(root, seq, ids, rep)
    det = root / "det" / "det.txt"
    if det.is_file():
        try:
            d = read_det(det)
            rep.facts.append(f"det/det.txt: {d.frame.size} detections")
        except DataError as e:
            rep.errors.append(str(e))
    return rep


def _check_gt(root: Path, seq, ids: np.ndarray, rep: CheckReport) -> None:
    gt_path = seq.gt_path
    if gt_path is None:
        rep.warnings.append(f"{root / 'gt' / 'gt.txt'}: missing; runs on this sequence measure speed only")
        return
    try:
        gt = read_gt(gt_path)
    except DataError as e:
        rep.errors.append(str(e))
        return
    rep.facts.append(f"gt/gt.txt: {gt.positives.frame.size} positives, {gt.ignore.frame.size} ignore regions")
    frames = gt.frames
    beyond = frames[frames > ids.max()]
    if beyond.size:
        rep.errors.append(f"{gt_path}: annotations for frames {int(beyond.min())}..{int(beyond.max())} beyond the last image ({int(ids.max())})")
    if gt.positives.frame.size == 0:
        rep.warnings.append(f"{gt_path}: no positives (class 1, flag 1); F1 will be 0")
    if seq.width and seq.height and gt.positives.frame.size:
        b = gt.positives.xyxy
        outside = (b[:, 2] <= 0) | (b[:, 3] <= 0) | (b[:, 0] >= seq.width) | (b[:, 1] >= seq.height)
        if outside.any():
            rep.warnings.append(f"{gt_path}: {int(outside.sum())} positive boxes lie entirely outside the image")
