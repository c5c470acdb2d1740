"""Detection quality: greedy IoU matching with ignore regions, P/R/F1 and AP.

The rule (one frame at a time, vectorised across frames):
predictions with ``conf >= conf_threshold`` are taken in descending confidence
(ties keep file order); each takes the still-unmatched positive with the
highest IoU (ties: the earlier GT row); IoU >= threshold makes a TP and uses up
that positive. Otherwise a prediction whose IoU with any ignore region is
>= threshold is dropped (neither TP nor FP); otherwise it is a FP.
FN = positives never matched. AP is the all-point interpolated area under the
precision/recall curve of the same labels, ranked by confidence over the
whole sequence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from harness.bench.motfile import BoxTable, GroundTruth

TP, FP, DROPPED = 1, 0, -1
# Upper bound on elements of one IoU block (frames x preds x gts) held at once.
_BLOCK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class Quality:
    """Sequence-level detection quality (counts are boxes)."""

    tp: int
    fp: int
    fn: int
    ignored: int
    precision: float
    recall: float
    f1: float
    ap50: float | None
    iou_threshold: float
    conf_threshold: float
    n_gt: int
    n_pred: int

    def as_dict(self) -> dict:
        return asdict(self)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of xyxy boxes, broadcasting ``a[..., :, None]`` against ``b[..., None, :]``."""
    ax1, ay1, ax2, ay2 = (a[..., :, None, i] for i in range(4))
    bx1, by1, bx2, by2 = (b[..., None, :, i] for i in range(4))
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0, None)
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    return iou


def _pad(frame_idx: np.ndarray, boxes: np.ndarray, n_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scatter rows (already sorted by frame) into ``[n_frames, max_per_frame, 4]``.

    Returns the padded boxes, a validity mask and each row's rank in its frame.
    """
    counts = np.bincount(frame_idx, minlength=n_frames)
    width = int(counts.max()) if counts.size else 0
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if counts.size else np.zeros(0, np.int64)
    rank = np.arange(frame_idx.size) - starts[frame_idx]
    padded = np.zeros((n_frames, width, 4))
    valid = np.zeros((n_frames, width), bool)
    padded[frame_idx, rank] = boxes
    valid[frame_idx, rank] = True
    return padded, valid, rank


def label_predictions(gt: GroundTruth, det: BoxTable, iou_threshold: float) -> np.ndarray:
    """Label each detection row TP (1), FP (0) or dropped (-1) by the greedy rule."""
    n = det.frame.size
    labels = np.full(n, FP, dtype=np.int8)
    if n == 0:
        return labels
    frames, inv = np.unique(np.concatenate([det.frame, gt.positives.frame, gt.ignore.frame]), return_inverse=True)
    d_f, p_f, i_f = np.split(inv, [n, n + gt.positives.frame.size])
    nf = frames.size
    # Predictions: by frame, then descending confidence, ties in file order.
    order = np.lexsort((np.arange(n), -det.score, d_f))
    pred, pvalid, rank = _pad(d_f[order], det.xyxy[order], nf)
    g_order = np.argsort(p_f, kind="stable")
    gts, gvalid, _ = _pad(p_f[g_order], gt.positives.xyxy[g_order], nf)
    i_order = np.argsort(i_f, kind="stable")
    ign, ivalid, _ = _pad(i_f[i_order], gt.ignore.xyxy[i_order], nf)

    sorted_labels = np.full((nf, pred.shape[1]), FP, dtype=np.int8)
    per_frame = max(1, pred.shape[1] * max(gts.shape[1], ign.shape[1], 1))
    step = max(1, _BLOCK_ELEMENTS // per_frame)
    for lo in range(0, nf, step):
        hi = min(nf, lo + step)
        sorted_labels[lo:hi] = _label_block(
            pred[lo:hi], pvalid[lo:hi], gts[lo:hi], gvalid[lo:hi], ign[lo:hi], ivalid[lo:hi], iou_threshold
        )
    # Back from padded [frame, rank] slots to the caller's row order.
    labels[order] = sorted_labels[d_f[order], rank]
    return labels


def _label_block(pred, pvalid, gts, gvalid, ign, ivalid, thr) -> np.ndarray:
    nf, width = pvalid.shape
    labels = np.full((nf, width), FP, dtype=np.int8)
    if gts.shape[1]:
        iou = box_iou(pred, gts)  # (nf, width, G)
        iou[~np.broadcast_to(gvalid[:, None, :], iou.shape)] = -1.0
        matched = np.zeros(gvalid.shape, bool)
        rows = np.arange(nf)
        for k in range(width):
            cand = np.where(matched, -1.0, iou[:, k, :])
            best = cand.argmax(axis=1)
            hit = pvalid[:, k] & (cand[rows, best] >= thr)
            matched[rows[hit], best[hit]] = True
            labels[hit, k] = TP
    if ign.shape[1]:
        iou_i = box_iou(pred, ign)
        iou_i[~np.broadcast_to(ivalid[:, None, :], iou_i.shape)] = -1.0
        on_ignore = iou_i.max(axis=2) >= thr
        labels[(labels != TP) & on_ignore] = DROPPED
    return labels


def average_precision(labels: np.ndarray, scores: np.ndarray, n_positives: int) -> float | None:
    """All-point interpolated AP of labelled predictions (dropped ones excluded)."""
    if n_positives == 0:
        return None
    keep = labels != DROPPED
    lab, sc = labels[keep], scores[keep]
    if lab.size == 0:
        return 0.0
    order = np.argsort(-sc, kind="stable")
    tp = np.cumsum(lab[order] == TP)
    fp = np.cumsum(lab[order] == FP)
    recall = tp / n_positives
    precision = tp / np.maximum(tp + fp, 1)
    mrec = np.concatenate([[0.0], recall])
    mpre = np.concatenate([[0.0], precision])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    return float(np.sum((mrec[1:] - mrec[:-1]) * mpre[1:]))


def evaluate(gt: GroundTruth, det: BoxTable, iou_threshold: float = 0.5, conf_threshold: float = 0.0) -> Quality:
    """Precision, recall, F1 at ``iou_threshold`` and AP at IoU 0.5 of a sequence."""
    keep = det.score >= conf_threshold
    det = BoxTable(det.frame[keep], det.xyxy[keep], det.score[keep])
    labels = label_predictions(gt, det, iou_threshold)
    n_gt = int(gt.positives.frame.size)
    tp = int((labels == TP).sum())
    fp = int((labels == FP).sum())
    ignored = int((labels == DROPPED).sum())
    fn = n_gt - tp
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / n_gt if n_gt else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    labels50 = labels if iou_threshold == 0.5 else label_predictions(gt, det, 0.5)
    ap50 = average_precision(labels50, det.score, n_gt)
    return Quality(
        tp=tp,
        fp=fp,
        fn=fn,
        ignored=ignored,
        precision=precision,
        recall=recall,
        f1=f1,
        ap50=ap50,
        iou_threshold=iou_threshold,
        conf_threshold=conf_threshold,
        n_gt=n_gt,
        n_pred=int(det.frame.size),
    )
