"""MOT-format sequence directories: ``seqinfo.ini``, ``img1/*.jpg``, ``gt/gt.txt``.

MOT17/MOT20 train directories load unchanged. Frames are numbered by file stem
(``000001.jpg`` is frame 1). Decoding happens once, before any timing.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.errors import DataError

IMAGE_EXTS = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Sequence:
    """A MOT sequence on disk; ``frames`` is sorted by frame number."""

    root: Path
    name: str
    frame_ids: tuple[int, ...]
    frame_paths: tuple[Path, ...]
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    info: dict = field(default_factory=dict)

    @property
    def gt_path(self) -> Path | None:
        p = self.root / "gt" / "gt.txt"
        return p if p.is_file() else None

    def window(self, n_frames: int | None) -> tuple[tuple[int, ...], tuple[Path, ...]]:
        """The first ``n_frames`` frames (all when None)."""
        n = len(self.frame_ids) if n_frames is None else min(n_frames, len(self.frame_ids))
        return self.frame_ids[:n], self.frame_paths[:n]


def read_seqinfo(root: Path) -> dict:
    """The ``[Sequence]`` section of ``seqinfo.ini`` as a dict ({} when absent)."""
    ini = root / "seqinfo.ini"
    if not ini.is_file():
        return {}
    cp = configparser.ConfigParser()
    try:
        cp.read(ini)
    except configparser.Error as e:
        raise DataError(f"{ini}: not a valid ini file ({e.message.splitlines()[0]})", "fix or delete seqinfo.ini") from e
    if not cp.has_section("Sequence"):
        raise DataError(f"{ini}: missing [Sequence] section", "MOT seqinfo.ini starts with [Sequence]")
    return dict(cp.items("Sequence"))


def _int_or_none(info: dict, key: str, ini: Path) -> int | None:
    if key not in info:
        return None
    try:
        return int(float(info[key]))
    except ValueError:
        raise DataError(f"{ini}: {key}={info[key]!r} is not a number", f"set {key} to an integer") from None


def load_sequence(root: str | Path) -> Sequence:
    """Index a MOT sequence directory; raise DataError if it has no usable frames."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: sequence directory not found", "pass a MOT sequence dir (with img1/) or run `harness data synth DIR`")
    info = read_seqinfo(root)
    ini = root / "seqinfo.ini"
    img_dir = root / info.get("imdir", "img1")
    if not img_dir.is_dir():
        raise DataError(f"{img_dir}: image directory not found", "a MOT sequence keeps its frames in img1/")
    ext = info.get("imext", "").lower()
    exts = (ext,) if ext else IMAGE_EXTS
    paths = [p for p in img_dir.iterdir() if p.suffix.lower() in exts and p.is_file()]
    if not paths:
        raise DataError(f"{img_dir}: no frames ({'/'.join(exts)}) found", "the sequence is empty; regenerate or re-extract it")
    numbered = []
    for p in paths:
        try:
            numbered.append((int(p.stem), p))
        except ValueError:
            raise DataError(f"{p}: frame file name is not a frame number", "MOT frames are named 000001.jpg, 000002.jpg, ...") from None
    numbered.sort()
    fr = info.get("framerate")
    return Sequence(
        root=root,
        name=info.get("name", root.name),
        frame_ids=tuple(i for i, _ in numbered),
        frame_paths=tuple(p for _, p in numbered),
        width=_int_or_none(info, "imwidth", ini),
        height=_int_or_none(info, "imheight", ini),
        frame_rate=float(fr) if fr else None,
        info=info,
    )


def decode_frame(path: Path) -> np.ndarray:
    """Decode one frame to a BGR uint8 array; DataError naming the file if corrupt."""
    import cv2

    data = np.fromfile(path, dtype=np.uint8) if path.is_file() else None
    if data is None:
        raise DataError(f"{path}: frame file missing", "re-extract the sequence or run `harness data check`")
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise DataError(f"{path}: cannot decode frame (corrupt or truncated image)", "replace the file or run `harness data check` on the sequence")
    return img


def decode_frames(paths: tuple[Path, ...] | list[Path]) -> list[np.ndarray]:
    """Decode frames once, before timing."""
    return [decode_frame(p) for p in paths]
