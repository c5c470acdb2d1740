"""The matching rule against a plain-Python reference, plus hand-made cases."""

import numpy as np
import pytest

from harness.mot.metrics import (
    average_precision,
    descending_order,
    evaluate,
    label_predictions,
    overlapping_pairs,
)
from harness.mot.files import BoxTable, GroundTruth


def table(rows):
    """rows: (frame, x1, y1, x2, y2, score)"""
    if not rows:
        return BoxTable(np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0))
    a = np.array(rows, dtype=float)
    return BoxTable(a[:, 0].astype(np.int64), a[:, 1:5], a[:, 5])


def iou_py(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def reference(gt: GroundTruth, det: BoxTable, thr: float, conf: float):
    """The rule, written as plainly as possible: returns (labels, tp, fp, fn, dropped)."""
    labels = {}
    for f in sorted(set(det.frame.tolist())):
        preds = [i for i in range(det.frame.size) if det.frame[i] == f and det.score[i] >= conf]
        preds.sort(key=lambda i: (-det.score[i], i))  # stable: ties keep file order
        pos = [j for j in range(gt.positives.frame.size) if gt.positives.frame[j] == f]
        ign = [j for j in range(gt.ignore.frame.size) if gt.ignore.frame[j] == f]
        used = set()
        for i in preds:
            best, best_j = -1.0, None
            for j in pos:
                if j in used:
                    continue
                v = iou_py(det.xyxy[i], gt.positives.xyxy[j])
                if v > best:
                    best, best_j = v, j
            if best_j is not None and best >= thr:
                used.add(best_j)
                labels[i] = 1
            elif any(iou_py(det.xyxy[i], gt.ignore.xyxy[j]) >= thr for j in ign):
                labels[i] = -1
            else:
                labels[i] = 0
    tp = sum(v == 1 for v in labels.values())
    fp = sum(v == 0 for v in labels.values())
    return labels, tp, fp, gt.positives.frame.size - tp, sum(v == -1 for v in labels.values())


def reference_ap(labels: dict, det: BoxTable, n_pos: int):
    items = sorted(((det.score[i], i, v) for i, v in labels.items() if v != -1), key=lambda t: (-t[0], t[1]))
    tp = fp = 0
    points = []
    for _, _, v in items:
        tp += v == 1
        fp += v == 0
        points.append((tp / n_pos, tp / (tp + fp)))
    ap, prev_r = 0.0, 0.0
    for k, (r, _) in enumerate(points):
        p_interp = max(p for _, p in points[k:])
        ap += (r - prev_r) * p_interp
        prev_r = r
    return ap


def random_case(rng, n_frames=12):
    pos, ign, det = [], [], []
    for f in range(1, n_frames + 1):
        centres = rng.uniform(0, 200, (rng.integers(0, 9), 2))
        for cx, cy in centres:
            w, h = rng.uniform(10, 40, 2)
            pos.append((f, cx, cy, cx + w, cy + h, 1))
        for _ in range(rng.integers(0, 3)):
            cx, cy = rng.uniform(0, 200, 2)
            ign.append((f, cx, cy, cx + 30, cy + 30, 0))
        for _ in range(rng.integers(0, 12)):
            src = pos + ign
            if src and rng.random() < 0.7:
                b = np.array(src[rng.integers(len(src))][1:5]) + rng.normal(0, 4, 4)
            else:
                cx, cy = rng.uniform(0, 200, 2)
                b = np.array([cx, cy, cx + 25, cy + 25])
            # coarse scores so confidence ties happen often
            det.append((f, *b, round(float(rng.choice([0.3, 0.5, 0.5, 0.9])), 2)))
    return GroundTruth(table(pos), table(ign)), table(det)


@pytest.mark.parametrize("seed", range(60))
def test_vectorised_matches_reference_on_random_inputs(seed):
    rng = np.random.default_rng(seed)
    gt, det = random_case(rng)
    thr = float(rng.choice([0.05, 0.3, 0.5, 0.7, 1.0]))
    conf = float(rng.choice([0.0, 0.4]))
    labels_ref, tp, fp, fn, dropped = reference(gt, det, thr, conf)
    q = evaluate(gt, det, iou_threshold=thr, conf_threshold=conf)
    assert (q.tp, q.fp, q.fn, q.ignored) == (tp, fp, fn, dropped)
    keep = det.score >= conf
    sub = BoxTable(det.frame[keep], det.xyxy[keep], det.score[keep])
    lab = label_predictions(gt, sub, thr)
    kept_idx = np.flatnonzero(keep)
    assert {int(kept_idx[k]): int(v) for k, v in enumerate(lab)} == labels_ref
    if thr == 0.5 and gt.positives.frame.size:
        assert q.ap50 == pytest.approx(reference_ap(labels_ref, det, gt.positives.frame.size))


def test_hand_case_ignore_region_and_greedy_order():
    gt = GroundTruth(
        positives=table([(1, 0, 0, 10, 10, 1), (1, 100, 100, 110, 110, 1)]),
        ignore=table([(1, 50, 50, 60, 60, 0)]),
    )
    det = table([
        (1, 0, 0, 10, 10, 0.6),      # TP on gt 0
        (1, 0, 0, 10, 9, 0.9),       # higher conf: takes gt 0 first -> TP
        (1, 50, 50, 60, 60, 0.8),    # on the ignore region -> dropped
        (1, 200, 200, 210, 210, 0.7),  # nothing there -> FP
    ])
    q = evaluate(gt, det)
    # 0.9 takes gt0; 0.6 finds gt0 used and gt1 too far -> FP
    assert (q.tp, q.fp, q.fn, q.ignored) == (1, 2, 1, 1)
    assert q.precision == pytest.approx(1 / 3) and q.recall == pytest.approx(0.5)
    assert q.f1 == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))


def test_a_prediction_that_matches_a_positive_is_a_tp_even_over_an_ignore_region():
    gt = GroundTruth(table([(1, 0, 0, 10, 10, 1)]), table([(1, 0, 0, 10, 10, 0)]))
    q = evaluate(gt, table([(1, 0, 0, 10, 10, 0.5)]))
    assert (q.tp, q.fp, q.ignored) == (1, 0, 0)


def test_confidence_ties_keep_file_order():
    gt = GroundTruth(table([(1, 0, 0, 10, 10, 1)]), table([]))
    det = table([(1, 0, 0, 10, 8, 0.5), (1, 0, 0, 10, 10, 0.5)])
    # first row (IoU 0.8) wins the only positive, the perfect box comes second -> FP
    assert label_predictions(gt, det, 0.5).tolist() == [1, 0]


def test_empty_inputs():
    q = evaluate(GroundTruth(table([]), table([])), table([]))
    assert (q.tp, q.fp, q.fn, q.f1, q.ap50) == (0, 0, 0, 0.0, None)
    q = evaluate(GroundTruth(table([(1, 0, 0, 5, 5, 1)]), table([])), table([]))
    assert (q.fn, q.recall, q.ap50) == (1, 0.0, 0.0)


def test_perfect_detections_give_ap_one():
    gt = GroundTruth(table([(f, 0, 0, 10, 10, 1) for f in range(1, 6)]), table([]))
    det = table([(f, 0, 0, 10, 10, 0.9) for f in range(1, 6)])
    q = evaluate(gt, det)
    assert q.f1 == 1.0 and q.ap50 == pytest.approx(1.0)


def test_average_precision_hand_computed():
    # ranking: TP, FP, TP with 2 positives: P/R points (0.5,1), (0.5,.5), (1,.667)
    ap = average_precision(np.array([1, 0, 1]), np.array([0.9, 0.8, 0.7]), 2)
    assert ap == pytest.approx(0.5 * 1.0 + 0.5 * (2 / 3))


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of xyxy boxes, broadcasting ``a[..., :, None]`` against ``b[..., None, :]`` (the dense oracle the pair
    search is checked against)."""
    ax1, ay1, ax2, ay2 = (a[..., :, None, i] for i in range(4))
    bx1, by1, bx2, by2 = (b[..., None, :, i] for i in range(4))
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0, None)
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    return iou


def test_box_iou_broadcasts():
    a = np.array([[0, 0, 10, 10], [5, 5, 15, 15]], float)
    b = np.array([[0, 0, 10, 10]], float)
    assert box_iou(a, b)[:, 0] == pytest.approx([1.0, 25 / 175])


@pytest.mark.parametrize("seed", range(5))
def test_descending_order_is_a_stable_sort(seed):
    x = np.random.default_rng(seed).choice([0.1, 0.5, 0.5, 0.9, -2.0], 500)
    assert descending_order(x).tolist() == np.argsort(-x, kind="stable").tolist()


def test_pairs_never_cross_frames_and_respect_the_threshold():
    rng = np.random.default_rng(1)
    gt, det = random_case(rng, n_frames=30)
    p, g, iou = overlapping_pairs(det.frame, det.xyxy, gt.positives.frame, gt.positives.xyxy, 0.3)
    assert (det.frame[p] == gt.positives.frame[g]).all() and (iou >= 0.3).all()
    dense = box_iou(det.xyxy, gt.positives.xyxy)
    same = det.frame[:, None] == gt.positives.frame[None, :]
    want = set(zip(*np.nonzero(same & (dense >= 0.3))))
    assert set(zip(p.tolist(), g.tolist())) == {(int(a), int(b)) for a, b in want}


def test_threshold_must_be_positive():
    with pytest.raises(ValueError, match="must be > 0"):
        label_predictions(GroundTruth(table([]), table([])), table([(1, 0, 0, 1, 1, 0.5)]), 0.0)
