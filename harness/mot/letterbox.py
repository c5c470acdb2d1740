"""Square letterbox: a frame resized keeping its aspect ratio and padded to ``size`` x ``size`` (grey 114).

What every variant's pre-processing does (and INT8 calibration with it), exactly as ultralytics'
``LetterBox`` centres it, so static-shape exports and eager models see the same input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAD_VALUE = 114


@dataclass(frozen=True)
class Letterbox:
    """Scale and padding applied to a frame (to undo on boxes)."""

    gain: float
    pad_x: float
    pad_y: float
    width: int
    height: int


def letterbox(frame: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping aspect ratio and pad to ``size`` x ``size`` (grey 114)."""
    import cv2

    h, w = frame.shape[:2]
    gain = min(size / h, size / w)
    nw, nh = round(w * gain), round(h * gain)
    resized = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nw, nh) != (w, h) else frame
    px, py = (size - nw) / 2, (size - nh) / 2
    top, left = round(py - 0.1), round(px - 0.1)
    out = cv2.copyMakeBorder(
        resized, top, size - nh - top, left, size - nw - left, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
    )
    return out, Letterbox(gain, left, top, w, h)
