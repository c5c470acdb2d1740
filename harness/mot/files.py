"""Parsing of MOT-format text files (``gt/gt.txt``, ``det/det.txt``).

Both are comma-separated numeric tables. Ground truth rows are
``frame,id,x,y,w,h,flag,class,visibility``; detection rows are
``frame,id,x,y,w,h,conf[,x,y,z]``. Parsing is vectorised on the happy path
and falls back to a line-by-line pass only to name the first bad line; a line
longer than ``devtext.MAX_LINE_CHARS`` is refused before either (linear, and
in milliseconds, on any file).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness import devtext
from harness.errors import DataError
from harness.fsutil import mib_from_env, read_bounded_text

GT_FIELDS = 9
DET_MIN_FIELDS = 7

# MOT17 classes: 1 pedestrian, 2 person on vehicle, 7 static person,
# 8 distractor, 12 reflection. Positives are class 1 with flag 1.
PEDESTRIAN = 1
IGNORE_CLASSES = (2, 7, 8, 12)


@dataclass(frozen=True)
class BoxTable:
    """Boxes of one file: frame ids, xyxy boxes (px) and per-row scores."""

    frame: np.ndarray  # int64 (n,)
    xyxy: np.ndarray  # float64 (n, 4)
    score: np.ndarray  # float64 (n,): confidence for detections, flag for gt

    def restrict(self, frame_ids: np.ndarray) -> BoxTable:
        keep = np.isin(self.frame, frame_ids)
        return BoxTable(self.frame[keep], self.xyxy[keep], self.score[keep])


@dataclass(frozen=True)
class GroundTruth:
    """Positives and ignore regions of a sequence, split as the metric needs."""

    positives: BoxTable
    ignore: BoxTable

    @property
    def frames(self) -> np.ndarray:
        return np.unique(np.concatenate([self.positives.frame, self.ignore.frame]))

    def restrict(self, frame_ids) -> GroundTruth:
        """Only the rows of the given frames (e.g. the timed window of a run)."""
        ids = np.asarray(list(frame_ids), dtype=np.int64)
        return GroundTruth(self.positives.restrict(ids), self.ignore.restrict(ids))


NUMBER = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")
MAX_FRAME = 10_000_000  # MOT17's longest sequence has 1 050 frames
MAX_COORD_PX = 1e6  # a box coordinate or size beyond a million pixels is an error, not an image


def max_input_bytes() -> int:
    """Largest gt/det file read (``HARNESS_MAX_INPUT_MIB``, default 512 MiB, 1 MiB to 1 TiB; MOT17's largest gt is
    ~4 MB). A value that is not such a size is refused naming the variable (NaN and inf included)."""
    return mib_from_env("HARNESS_MAX_INPUT_MIB", 512, DataError)


def _read_text(path: Path, fix: str) -> str:
    """A regular file of bounded size as UTF-8 text (``--det /dev/zero`` or a FIFO is refused, not read forever)."""
    return read_bounded_text(path, max_input_bytes(), DataError, "", fix, "set HARNESS_MAX_INPUT_MIB to read larger files")


def _read_table(path: Path, min_fields: int, kind: str, fix: str) -> np.ndarray:
    """Read a numeric CSV into a 2-D float array, naming the first bad line (blank lines are skipped)."""
    text = _read_text(path, fix)
    numbered = [(no, ln) for no, ln in enumerate(text.splitlines(), start=1) if ln and not ln.isspace()]
    if not numbered:
        return np.zeros((0, min_fields))
    if long := next(((no, ln) for no, ln in numbered if len(ln) > devtext.MAX_LINE_CHARS), None):
        raise DataError(f"{path}:{long[0]}: the line is {len(long[1])} characters long, over the "
                        f"{devtext.MAX_LINE_CHARS >> 10} KiB a {kind} line can be", fix)
    try:  # fast path: numpy's C parser
        arr = np.loadtxt(io.StringIO("\n".join(ln for _, ln in numbered)), delimiter=",", ndmin=2, dtype=np.float64,
                         comments=None)
    except ValueError:
        arr = None
    if arr is not None and arr.shape[1] >= min_fields and np.isfinite(arr).all():
        _check_values(arr, path, kind, fix, [no for no, _ in numbered])
        return arr
    n_fields = numbered[0][1].count(",") + 1
    # Slow path: find and name the first offending line.
    for no, ln in numbered:
        parts = ln.split(",")
        if len(parts) < min_fields:
            raise DataError(
                f"{path}:{no}: {kind} line has {len(parts)} fields, expected at least {min_fields}: {ln.strip()[:80]!r}",
                fix,
            )
        if len(parts) != n_fields:
            raise DataError(f"{path}:{no}: {kind} line has {len(parts)} fields, the first line has {n_fields}", fix)
        for col, part in enumerate(parts, start=1):
            if not NUMBER.match(part):
                word = part.strip().lower().lstrip("+-")
                what = "is not finite" if word in ("nan", "inf", "infinity") else "is not a number"
                raise DataError(f"{path}:{no}: field {col} {what}: {part.strip()[:40]!r}", fix)
    raise DataError(f"{path}: cannot parse {kind} file", fix)  # pragma: no cover - every failure is named above


def _check_values(arr: np.ndarray, path: Path, kind: str, fix: str, line_nos: list[int]) -> None:
    """Frame numbers are integers in [1, MAX_FRAME]; boxes lie within +-MAX_COORD_PX with sizes >= 0.

    Out-of-range values are refused rather than computed with: ``w=1e308`` would overflow the
    matching windows and silently zero the true positives of the whole file.
    """
    frame = arr[:, 0]
    bad_frame = np.flatnonzero((frame < 1) | (frame > MAX_FRAME) | (frame != np.round(frame)))
    if bad_frame.size:
        i = int(bad_frame[0])
        raise DataError(f"{path}:{line_nos[i]}: frame number must be an integer >= 1 and <= {MAX_FRAME}, got {arr[i, 0]:g}", fix)
    bad_size = np.flatnonzero((arr[:, 4] < 0) | (arr[:, 5] < 0))
    if bad_size.size:
        i = int(bad_size[0])
        raise DataError(
            f"{path}:{line_nos[i]}: negative box size w={arr[i, 4]:g} h={arr[i, 5]:g} in {kind} line", fix
        )
    bad_box = np.flatnonzero((np.abs(arr[:, 2:6]) > MAX_COORD_PX).any(axis=1))
    if bad_box.size:
        i = int(bad_box[0])
        raise DataError(f"{path}:{line_nos[i]}: box x={arr[i, 2]:g} y={arr[i, 3]:g} w={arr[i, 4]:g} h={arr[i, 5]:g} "
                        f"is beyond +-{MAX_COORD_PX:g} px", fix)


def _xyxy(arr: np.ndarray) -> np.ndarray:
    x, y, w, h = arr[:, 2], arr[:, 3], arr[:, 4], arr[:, 5]
    return np.stack([x, y, x + w, y + h], axis=1)


def read_gt(path: str | Path) -> GroundTruth:
    """Parse a MOT ground-truth file into positives and ignore regions.

    Positives: class 1 with flag 1 and w, h > 0. Ignore regions: class 1 with
    flag 0 and classes 2, 7, 8, 12. Other classes (vehicles, occluders) are
    neither.
    """
    path = Path(path)
    fix = "each line must be frame,id,x,y,w,h,flag,class,visibility with numbers"
    arr = _read_table(path, GT_FIELDS, "ground-truth", fix)
    flag = arr[:, 6].astype(np.int64) if arr.size else np.zeros(0, np.int64)
    cls = arr[:, 7].astype(np.int64) if arr.size else np.zeros(0, np.int64)
    has_area = (arr[:, 4] > 0) & (arr[:, 5] > 0) if arr.size else np.zeros(0, bool)
    pos = (cls == PEDESTRIAN) & (flag == 1) & has_area
    ign = (((cls == PEDESTRIAN) & (flag == 0)) | np.isin(cls, IGNORE_CLASSES)) & has_area
    return GroundTruth(_table(arr, pos, 6), _table(arr, ign, 6))


def read_det(path: str | Path) -> BoxTable:
    """Parse a MOT detection file (MOT17 public ``det/det.txt`` works)."""
    path = Path(path)
    fix = "each line must be frame,id,x,y,w,h,conf[,x,y,z] with numbers"
    arr = _read_table(path, DET_MIN_FIELDS, "detection", fix)
    return _table(arr, np.ones(arr.shape[0], bool), 6)


def _table(arr: np.ndarray, keep: np.ndarray, score_col: int) -> BoxTable:
    if arr.shape[0] == 0:
        return BoxTable(np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0))
    sub = arr[keep]
    return BoxTable(sub[:, 0].astype(np.int64), _xyxy(sub), sub[:, score_col].copy())


def format_det(frame: np.ndarray, xyxy: np.ndarray, conf: np.ndarray) -> str:
    """Detections as MOT det text (``frame,-1,x,y,w,h,conf,-1,-1,-1`` lines)."""
    lines = [
        f"{int(f)},-1,{b[0]:.2f},{b[1]:.2f},{b[2] - b[0]:.2f},{b[3] - b[1]:.2f},{c:.5f},-1,-1,-1"
        for f, b, c in zip(frame, xyxy, conf)
    ]
    return "\n".join(lines) + ("\n" if lines else "")
