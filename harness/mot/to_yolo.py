"""``harness data to-yolo``: MOT sequences -> a YOLO-format detection dataset (one class: person).

Used for fine-tuning (and INT8 calibration on devices). Labels use COCO's
class ids (person = 0, all 80 names in data.yaml) so a COCO-pretrained head is
fine-tuned, not replaced. Positives (class 1,
flag 1, visibility >= ``min_visibility``) become ``0 cx cy w h`` label lines,
normalised and clipped to the image. Frames are split into train/val by
position in each sequence (the last ``val_fraction`` of every sequence is
val), so val frames are never neighbours of train frames. Images are
hard-linked when possible (no copy), else copied.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import yaml

from harness.mot.sequence import load_sequence
from harness.errors import DataError


def _place(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def mot_to_yolo(sequences: list[str | Path], out: str | Path, val_fraction: float = 0.1, min_visibility: float = 0.25,
                max_frames: int | None = None, names: dict[int, str] | None = None) -> Path:
    """Write ``out/{images,labels}/{train,val}`` and ``out/data.yaml``; returns the data.yaml path.

    ``names``: the class names in data.yaml (default the 80 COCO names; ``{0: "person"}`` for a one-class head)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: already exists and is not empty", "choose a new --out directory")
    if not sequences:
        raise DataError("no sequences given", "pass one or more MOT sequence directories")
    counts = {"train": 0, "val": 0, "boxes": 0}
    for split in ("train", "val"):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    for s in sequences:
        seq = load_sequence(s)
        if seq.gt_path is None:
            raise DataError(f"{seq.root}: no gt/gt.txt", "to-yolo needs ground truth to write labels")
        rows = np.loadtxt(seq.gt_path, delimiter=",", ndmin=2)
        keep = (rows[:, 7] == 1) & (rows[:, 6] == 1) & (rows[:, 4] > 0) & (rows[:, 5] > 0) & (rows[:, 8] >= min_visibility)
        rows = rows[keep]
        ids, paths = seq.window(max_frames)
        n_val = max(1, round(len(ids) * val_fraction)) if len(ids) > 1 else 0
        w_img, h_img = _size(seq, paths[0])
        for k, (fid, path) in enumerate(zip(ids, paths)):
            split = "val" if k >= len(ids) - n_val else "train"
            name = f"{seq.name}_{fid:06d}"
            _place(path, out / "images" / split / f"{name}{path.suffix}")
            r = rows[rows[:, 0] == fid]
            x1 = np.clip(r[:, 2], 0, w_img)
            y1 = np.clip(r[:, 3], 0, h_img)
            x2 = np.clip(r[:, 2] + r[:, 4], 0, w_img)
            y2 = np.clip(r[:, 3] + r[:, 5], 0, h_img)
            ok = (x2 > x1) & (y2 > y1)
            lines = [f"0 {(a + c) / 2 / w_img:.6f} {(b + d) / 2 / h_img:.6f} {(c - a) / w_img:.6f} {(d - b) / h_img:.6f}"
                     for a, b, c, d in zip(x1[ok], y1[ok], x2[ok], y2[ok])]
            (out / "labels" / split / f"{name}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
            counts[split] += 1
            counts["boxes"] += len(lines)
    data = out / "data.yaml"
    data.write_text(yaml.safe_dump({"path": str(out.resolve()), "train": "images/train", "val": "images/val",
                                    "names": names or coco_names(), "harness": counts}, sort_keys=False))
    return data


def coco_names() -> dict[int, str]:
    """The 80 COCO class names (person = 0), so a COCO-pretrained head fine-tunes without being replaced."""
    from importlib import resources

    with resources.as_file(resources.files("ultralytics") / "cfg" / "datasets" / "coco.yaml") as f:
        return {int(k): v for k, v in yaml.safe_load(Path(f).read_text())["names"].items()}


def _size(seq, first: Path) -> tuple[int, int]:
    if seq.width and seq.height:
        return seq.width, seq.height
    from harness.mot.sequence import decode_frame

    h, w = decode_frame(first).shape[:2]
    return w, h
