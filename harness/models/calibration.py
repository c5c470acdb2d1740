"""Calibration images for INT8: never the frames being evaluated.

Default: a held-out frame range of the evaluated sequence -- the frames after
the timed window. A suite can name another sequence (``calibration.sequence``).
The set is described in every INT8 record (source, sequence, frame range,
count) and hashed by content, so a different set rebuilds the quantized model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.mot.sequence import Sequence, load_sequence
from harness.errors import BenchmarkError
from harness.fsutil import files_sha256


@dataclass(frozen=True)
class CalibrationSet:
    paths: tuple[Path, ...]
    source: str  # "held-out frames" | "calibration sequence"
    sequence: str
    first_frame: int
    last_frame: int

    @property
    def sha256(self) -> str:
        return files_sha256(self.paths)

    def describe(self) -> dict:
        return {"source": self.source, "sequence": self.sequence, "frames": [self.first_frame, self.last_frame],
                "n_images": len(self.paths)}


def calibration_set(seq: Sequence, eval_frames: int, n_images: int, other: str | None = None) -> CalibrationSet:
    """``n_images`` frames from ``other`` if given, else those after the evaluated window of ``seq``."""
    if other:
        cal = load_sequence(other)
        ids, paths = cal.frame_ids[:n_images], cal.frame_paths[:n_images]
        source = "calibration sequence"
    else:
        cal = seq
        ids, paths = seq.frame_ids[eval_frames:eval_frames + n_images], seq.frame_paths[eval_frames:eval_frames + n_images]
        source = "held-out frames"
    if not paths:
        raise BenchmarkError(
            f"{cal.root}: no frames left for calibration (INT8, recovery: bn) after the {eval_frames} evaluated ones",
            "set calibration.sequence in the suite to another MOT sequence, or use a longer sequence",
        )
    return CalibrationSet(tuple(paths), source, cal.name, ids[0], ids[-1])
