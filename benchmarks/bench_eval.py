"""`harness eval` matching vs the seed notebook's per-box Python loop, measured in one run.

600 frames, ~30 ground-truth boxes and ~30 detections per frame (MOT17-02-like
density). Prints both times and the ratio; goal >= 50x. The notebook's loop
is copied from shared/seeds (its `_box_iou` / `_match`); it has no ignore
regions or confidence order, which only makes it *less* work than ours.

    .venv/bin/python benchmarks/bench_eval.py [--frames 600] [--boxes 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from harness.mot.metrics import evaluate, label_predictions
from harness.mot.files import read_det, read_gt


# --- the seed notebook's code, verbatim in behaviour -------------------------
def _box_iou(b1: list, b2: list) -> float:
    xi1 = max(b1[0], b2[0]); yi1 = max(b1[1], b2[1])  # noqa: E702
    xi2 = min(b1[2], b2[2]); yi2 = min(b1[3], b2[3])  # noqa: E702
    inter = max(0.0, xi2 - xi1) * max(0.0, yi2 - yi1)
    a1 = (b1[2] - b1[0]) * (b1[3] - b1[1])
    a2 = (b2[2] - b2[0]) * (b2[3] - b2[1])
    union = a1 + a2 - inter
    return inter / union if union > 0 else 0.0


def _match(pred_boxes: np.ndarray, gt_boxes: list, iou_thresh: float):
    n_gt, n_pred = len(gt_boxes), len(pred_boxes)
    if n_gt == 0 and n_pred == 0:
        return 0, 0, 0
    if n_gt == 0:
        return 0, n_pred, 0
    if n_pred == 0:
        return 0, 0, n_gt
    matched_gt: set[int] = set()
    tp = 0
    for pred in pred_boxes:
        best_iou, best_j = iou_thresh, -1
        for j, gt in enumerate(gt_boxes):
            if j in matched_gt:
                continue
            iou = _box_iou(pred.tolist(), gt)
            if iou > best_iou:
                best_iou, best_j = iou, j
        if best_j >= 0:
            tp += 1
            matched_gt.add(best_j)
    return tp, n_pred - tp, n_gt - tp


def notebook_load_gt(path: Path) -> dict[int, list]:
    gt: dict[int, list] = {}
    with open(path) as fh:
        for line in fh:
            p = line.strip().split(",")
            if int(p[6]) != 1 or int(p[7]) != 1:
                continue
            x, y, w, h = float(p[2]), float(p[3]), float(p[4]), float(p[5])
            if w <= 0 or h <= 0:
                continue
            gt.setdefault(int(p[0]), []).append([x, y, x + w, y + h])
    return gt


def notebook_eval(gt_by_frame: dict, det_by_frame: dict, n_frames: int):
    tp_t = fp_t = fn_t = 0
    for f in range(1, n_frames + 1):
        tp, fp, fn = _match(det_by_frame.get(f, np.zeros((0, 4))), gt_by_frame.get(f, []), 0.5)
        tp_t += tp; fp_t += fp; fn_t += fn  # noqa: E702
    return tp_t, fp_t, fn_t
# -----------------------------------------------------------------------------


def make_files(d: Path, n_frames: int, n_boxes: int, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    gt_lines, det_lines = [], []
    for f in range(1, n_frames + 1):
        k = rng.poisson(n_boxes)
        xy = rng.uniform(0, 1800, (k, 2))
        wh = rng.uniform(20, 120, (k, 2)) * [1, 2.5]
        for i in range(k):
            gt_lines.append(f"{f},{i + 1},{xy[i, 0]:.1f},{xy[i, 1]:.1f},{wh[i, 0]:.1f},{wh[i, 1]:.1f},1,1,1.0")
            if rng.random() < 0.85:
                j = rng.normal(0, 0.06, 4) * [wh[i, 0], wh[i, 1], wh[i, 0], wh[i, 1]]
                det_lines.append(f"{f},-1,{xy[i, 0] + j[0]:.1f},{xy[i, 1] + j[1]:.1f},{wh[i, 0] + j[2]:.1f},"
                                 f"{wh[i, 1] + j[3]:.1f},{rng.uniform(0.25, 1):.3f},-1,-1,-1")
        for _ in range(rng.poisson(n_boxes * 0.15)):
            x, y = rng.uniform(0, 1800, 2)
            det_lines.append(f"{f},-1,{x:.1f},{y:.1f},50,120,{rng.uniform(0.25, 1):.3f},-1,-1,-1")
    (d / "gt.txt").write_text("\n".join(gt_lines) + "\n")
    (d / "det.txt").write_text("\n".join(det_lines) + "\n")
    return d / "gt.txt", d / "det.txt"


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--boxes", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        gt_path, det_path = make_files(Path(tmp), args.frames, args.boxes)
        gt, det = read_gt(gt_path), read_det(det_path)
        gt_nb = notebook_load_gt(gt_path)
        det_nb: dict[int, np.ndarray] = {}
        for f in np.unique(det.frame):
            det_nb[int(f)] = det.xyxy[det.frame == f]
        n_gt, n_det = gt.positives.frame.size, det.frame.size

        t_labels = best_of(lambda: label_predictions(gt, det, 0.5), args.repeat)
        t_ours = best_of(lambda: evaluate(gt, det), args.repeat)
        t_nb = best_of(lambda: notebook_eval(gt_nb, det_nb, args.frames), args.repeat)
        t_ours_e2e = best_of(lambda: evaluate(read_gt(gt_path), read_det(det_path)), args.repeat)
        t_nb_e2e = best_of(lambda: notebook_eval(notebook_load_gt(gt_path), det_nb, args.frames), args.repeat)
        q = evaluate(gt, det)
        nb = notebook_eval(gt_nb, det_nb, args.frames)

    print(f"sequence: {args.frames} frames, {n_gt} GT boxes ({n_gt / args.frames:.1f}/frame), "
          f"{n_det} detections ({n_det / args.frames:.1f}/frame); best of {args.repeat}")
    print(f"counts   harness tp/fp/fn = {q.tp}/{q.fp}/{q.fn}   notebook tp/fp/fn = {nb[0]}/{nb[1]}/{nb[2]}")
    print(f"TP/FP/FN only        harness {t_labels * 1e3:9.2f} ms   notebook {t_nb * 1e3:9.2f} ms   "
          f"speed-up {t_nb / t_labels:6.1f}x   (same work as the notebook)")
    print(f"full evaluate        harness {t_ours * 1e3:9.2f} ms   notebook {t_nb * 1e3:9.2f} ms   "
          f"speed-up {t_nb / t_ours:6.1f}x   (harness also ranks for AP50)")
    print(f"parse + match (gt)   harness {t_ours_e2e * 1e3:9.2f} ms   notebook {t_nb_e2e * 1e3:9.2f} ms   "
          f"speed-up {t_nb_e2e / t_ours_e2e:6.1f}x")
    print(f"goal >= 50x (full evaluate vs notebook loop): {'met' if t_nb / t_ours >= 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
