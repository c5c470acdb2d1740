"""PNG plots drawn from a run's files rather than its summary rows: per-frame latency distributions,
power and temperature traces, and one frame annotated with every variant's detections and the
ground truth (the second notebook's visual check).

Everything read here came from a device: the CSVs are parsed as numbers only (a cell that is not a
number becomes a gap), and files are read through ``fsutil.read_bounded_text``.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from harness.devtext import open_regular
from harness.errors import ResultsError
from harness.fsutil import read_bounded_text
from harness.mot.files import max_input_bytes
from harness.results.load import Run
from harness.results.render.plots import PALETTE, plt_, save
from harness.results.rows import at

MAX_TRACE_CELLS = 24  # a figure with more stacked traces is unreadable; the rest get their own file
SAMPLE_COLS = 4


MAX_VALUE = 1e15  # a file's number beyond this (or not finite) is read as missing: no axis can hold it


def _num(v) -> float:
    """A number from a run CSV / MOT line; NaN (missing) when it is none, not finite or beyond ``MAX_VALUE``."""
    try:
        x = float(v)
    except (TypeError, ValueError, OverflowError):
        return float("nan")
    return x if -MAX_VALUE <= x <= MAX_VALUE else float("nan")


def _text(path: Path, what: str) -> str:
    return read_bounded_text(path, max_input_bytes(), ResultsError, what, "re-pull the run or remove the file",
                             "set HARNESS_MAX_INPUT_MIB to read larger files")


def _read_csv(path: Path) -> tuple[list[dict], list[str]]:
    """Rows of a run CSV and its ``# ...`` comment lines."""
    text = _text(path, "run CSV")
    lines = text.splitlines()
    comments = [ln for ln in lines if ln.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(ln for ln in lines if not ln.startswith("#"))))), comments


def _cell_file(run: Run, rec: dict, kind: str) -> Path | None:
    rel = at(rec, "files", kind)
    if not rel:
        return None
    try:
        path = (run.root / rel).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    return path if path.is_file() and run.root.resolve() in path.parents else None


def latency_distributions(runs: list[Run], out: Path) -> Path | None:
    """Per-frame end-to-end latency of every ok cell, one horizontal box per cell, a panel per device."""
    per_device: dict[str, list[tuple[str, list[float]]]] = {}
    for run in runs:
        for rec in run.records:
            path = _cell_file(run, rec, "frames") if rec.get("status") == "ok" else None
            if path is None:
                continue
            rows, _ = _read_csv(path)
            vals = [v for v in (_num(r.get("total_ms")) for r in rows) if v == v]
            if vals:
                per_device.setdefault(run.device, []).append((rec.get("cell_id", "?"), vals))
    if not per_device:
        return None
    plt = plt_()
    n = max(len(v) for v in per_device.values())
    fig, axes = plt.subplots(1, len(per_device), figsize=(min(16, 5.0 * len(per_device) + 2), max(2.4, 0.3 * n + 1.4)),
                             squeeze=False)
    fig.suptitle("Per-frame latency (timed frames; box = quartiles, whiskers 1.5 IQR)", fontweight="bold")
    for ax, (dev, cells), color in zip(axes[0], per_device.items(), PALETTE * 8):
        ax.boxplot([v for _, v in cells], orientation="horizontal", widths=0.6, patch_artist=True,
                   boxprops={"facecolor": color, "alpha": 0.5}, flierprops={"markersize": 2})
        ax.set_yticks(range(1, len(cells) + 1))
        ax.set_yticklabels([c for c, _ in cells], fontsize=6)
        ax.invert_yaxis()
        lo = min(min(v) for _, v in cells)
        hi = max(max(v) for _, v in cells)
        if lo > 0 and hi / lo > 10:
            ax.set_xscale("log")
        ax.set_title(dev, fontsize=9)
        ax.set_xlabel("end-to-end latency (ms / frame)" + (" (log)" if ax.get_xscale() == "log" else ""))
    return save(fig, out / "latency_distributions.png")


def _marks(comments: list[str]) -> dict[str, float]:
    marks = {}
    for ln in comments:
        parts = ln.split()
        if len(parts) >= 4 and parts[1] == "mark":
            value = _num(parts[3])
            if value == value:
                marks[parts[2]] = value
    return marks


def _trace_axes(ax, run: Run, rec: dict, path: Path) -> None:
    rows, comments = _read_csv(path)
    marks = _marks(comments)
    t = [_num(r.get("t_s")) for r in rows]
    t0 = next((v for v in t if v == v), 0.0)
    t = [v - t0 for v in t]
    p = [_num(r.get("total_mw")) / 1000 for r in rows]
    temps = []
    for r in rows:
        vals = [x for x in (_num(v) for k, v in r.items() if k and k.startswith("temp_")) if x == x]
        temps.append(max(vals) if vals else float("nan"))
    ax.plot(t, p, color="#C44E52", lw=1, label="power (W)")
    ax.set_ylabel("power (W)")
    for start, end, color, label in (("timed_start", "timed_end", "#55A868", "timed window"),
                                     ("idle_start", "idle_end", "#8C8C8C", "idle window")):
        if start in marks and end in marks:
            ax.axvspan(marks[start] - t0, marks[end] - t0, color=color, alpha=0.15, label=label)
    ax2 = ax.twinx()
    ax2.plot(t, temps, color="#4C72B0", lw=1, ls="--", label="hottest zone (C)")
    ax2.set_ylabel("temp (C)")
    ax.set_title(f"{run.device}: {rec.get('cell_id', '?')}", fontsize=8)
    ax.legend(loc="upper left", fontsize=6)
    ax2.legend(loc="upper right", fontsize=6)


def power_traces(run: Run, out: Path) -> list[Path]:
    """Power (W) and the hottest temperature (C) over each cell's telemetry, the idle and timed windows shaded.

    At most ``MAX_TRACE_CELLS`` cells per figure; a longer run gets ``traces_<run>_2.png`` and so on.
    """
    cells = [(rec, p) for rec in run.records if (p := _cell_file(run, rec, "telemetry")) is not None]
    paths = []
    for part, first in enumerate(range(0, len(cells), MAX_TRACE_CELLS), start=1):
        chunk = cells[first:first + MAX_TRACE_CELLS]
        plt = plt_()
        fig, axes = plt.subplots(len(chunk), 1, figsize=(9, 2.0 * len(chunk) + 0.4), squeeze=False)
        for ax, (rec, path) in zip(axes[:, 0], chunk):
            _trace_axes(ax, run, rec, path)
        axes[-1, 0].set_xlabel("time since the cell's first sample (s)")
        suffix = "" if part == 1 else f"_{part}"
        paths.append(save(fig, out / f"traces_{run.run_id}{suffix}.png"))
    return paths


def _timed_frame(run: Run, records: list[dict]) -> tuple[int, Path] | None:
    seq = Path(str(run.manifest.get("sequence", "")))
    if not (seq / "img1").is_dir():
        return None
    st = records[0].get("settings") or {}
    ids = [_num(st.get(k, 1)) for k in ("timed_first", "frame_last")]
    first, last = (int(v) if v == v and 1 <= v <= 10_000_000 else 1 for v in ids)
    frame_id = max(1, (first + last) // 2)
    img = next(iter(sorted((seq / "img1").glob(f"{frame_id:06d}.*"))), None)
    return (frame_id, img) if img is not None and _image_file(img) else None


MAX_IMAGE_BYTES = 64 << 20  # a frame file the report decodes: a MOT frame is ~100 KB
MAX_IMAGE_PIXELS = 40_000_000  # ... and its decoded size (a 4K frame is 8.3 MP)


def _image_file(path: Path) -> bool:
    """A regular file of a sane size (the manifest names the sequence: a FIFO there would block the decoder)."""
    try:
        fd = open_regular(path)
    except OSError:
        return False
    try:
        return 0 < os.fstat(fd).st_size <= MAX_IMAGE_BYTES
    finally:
        os.close(fd)


def _boxes(path: Path, frame_id: int, gt: bool) -> list[tuple[float, float, float, float]]:
    """xywh boxes of one frame from a MOT det file (or, ``gt``, positives of a gt file)."""
    boxes = []
    text = _text(path, "MOT")
    for line in text.splitlines():
        p = line.split(",")
        if len(p) < 6 or _num(p[0]) != frame_id:
            continue
        if gt and len(p) >= 8 and (_num(p[6]) != 1 or _num(p[7]) != 1):
            continue
        x, y, w, h = (_num(v) for v in p[2:6])
        if all(v == v and abs(v) <= 1e6 for v in (x, y, w, h)) and w > 0 and h > 0:  # pixels, as mot.files bounds them
            boxes.append((x, y, w, h))
    return boxes


def _image_shape(path: Path) -> tuple[int, int] | None:
    """(height, width) a PNG / JPEG declares, read from its header without decoding; None when unknown."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.height, im.width
    except Exception:  # noqa: BLE001 -- any unreadable header: not a frame
        return None


def sample_frames(run: Run, out: Path) -> Path | None:
    """One timed frame per variant: its detections (green) over the ground truth (white, dashed)."""
    import cv2

    ok = [r for r in run.records if r.get("status") == "ok" and _cell_file(run, r, "detections") is not None]
    if not ok:
        return None
    found = _timed_frame(run, ok)
    if found is None:
        return None
    frame_id, img_path = found
    if (shape := _image_shape(img_path)) is None or shape[0] * shape[1] > MAX_IMAGE_PIXELS or max(shape) > 20 * min(shape):
        return None  # not a frame a figure can hold (a tiny file can declare gigapixels)
    base = cv2.imread(str(img_path))
    if base is None:
        return None
    gt_path = Path(str(run.manifest.get("sequence", ""))) / "gt" / "gt.txt"
    gt = _boxes(gt_path, frame_id, gt=True) if gt_path.is_file() else []
    plt = plt_()
    cols = min(SAMPLE_COLS, len(ok))
    nrows = (len(ok) + cols - 1) // cols
    aspect = base.shape[0] / max(1, base.shape[1])
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, (4.2 * aspect + 0.6) * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, rec in zip(axes.ravel(), ok):
        img = base.copy()
        for x, y, w, h in gt:
            cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), (255, 255, 255), 1, lineType=cv2.LINE_4)
        dets = _boxes(_cell_file(run, rec, "detections"), frame_id, gt=False)
        for x, y, w, h in dets:
            cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), (0, 200, 0), 2)
        ax.imshow(img[..., ::-1])
        ax.set_title(f"{rec.get('cell_id', '?')}\n{len(dets)} detections, {len(gt)} people", fontsize=7)
    fig.suptitle(f"{run.device}: frame {frame_id}, detections (green) over ground truth (white)", fontweight="bold")
    return save(fig, out / f"samples_{run.run_id}.png")


def run_plots(runs: list[Run], out: Path) -> list[Path]:
    """All of the above for the given runs, in the report's order."""
    paths = [p for p in [latency_distributions(runs, out)] if p is not None]
    for run in runs:
        paths += power_traces(run, out)
        sample = sample_frames(run, out)
        if sample is not None:
            paths.append(sample)
    return paths
