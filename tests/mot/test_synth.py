import numpy as np
import pytest

from harness.mot.files import read_det, read_gt
from harness.mot.check import check_sequence
from harness.mot.sequence import decode_frame, load_sequence
from harness.mot.synth import synthesize
from harness.errors import DataError


def test_synthetic_sequence_passes_the_checker(small_seq):
    rep = check_sequence(small_seq)
    assert rep.errors == [] and rep.warnings == []


def test_ground_truth_has_positives_ignores_and_other_classes(small_seq):
    rows = np.loadtxt(small_seq / "gt" / "gt.txt", delimiter=",")
    classes = set(rows[:, 7].astype(int))
    assert {1, 3, 7, 8, 9} <= classes
    gt = read_gt(small_seq / "gt" / "gt.txt")
    assert gt.positives.frame.size > 24 and gt.ignore.frame.size >= 24 * 2  # static person + poster each frame
    vis = rows[rows[:, 7] == 1, 8]
    assert ((0 <= vis) & (vis <= 1)).all() and (vis < 1).any()  # some occlusion happens
    low = rows[(rows[:, 7] == 1) & (rows[:, 8] < 0.10)]
    assert (low[:, 6] == 0).all()  # barely visible pedestrians are ignore regions


def test_boxes_are_tight_around_the_drawn_figure(tmp_path):
    # Same seed with and without the one walker: the pixels that differ are the walker's.
    with_walker = synthesize(tmp_path / "a", n_frames=1, size=(320, 192), seed=11, n_walkers=1)
    without = synthesize(tmp_path / "b", n_frames=1, size=(320, 192), seed=11, n_walkers=0)
    gt = np.loadtxt(with_walker / "gt" / "gt.txt", delimiter=",", ndmin=2)
    ped = gt[(gt[:, 7] == 1) & (gt[:, 8] > 0.9)]
    assert len(ped) == 1, "seed 11 puts one fully visible walker in frame 1"
    diff = np.abs(decode_frame(with_walker / "img1" / "000001.jpg").astype(int)
                  - decode_frame(without / "img1" / "000001.jpg").astype(int)).max(axis=2) > 60
    ys, xs = np.nonzero(diff)
    x, y, w, h = ped[0, 2:6]
    # JPEG smears edges by a pixel or two; the box must match the changed region that closely.
    assert abs(xs.min() - x) <= 2 and abs(ys.min() - y) <= 2
    assert abs(xs.max() + 1 - (x + w)) <= 2 and abs(ys.max() + 1 - (y + h)) <= 2


def test_same_seed_same_sequence(tmp_path):
    a = synthesize(tmp_path / "a", n_frames=3, size=(160, 96), seed=5)
    b = synthesize(tmp_path / "b", n_frames=3, size=(160, 96), seed=5)
    assert (a / "gt" / "gt.txt").read_text() == (b / "gt" / "gt.txt").read_text()
    assert np.array_equal(decode_frame(a / "img1" / "000002.jpg"), decode_frame(b / "img1" / "000002.jpg"))


def test_detections_file_is_valid(small_seq):
    """The public-detector stand-in: on every frame, confidences in [0, 1], most walkers found, some false alarms."""
    from harness.mot.metrics import evaluate

    det = read_det(small_seq / "det" / "det.txt")
    assert set(det.frame.tolist()) == set(range(1, 25))  # every frame has detections, none outside the sequence
    assert ((det.score >= 0) & (det.score <= 1)).all()
    w, h = det.xyxy[:, 2] - det.xyxy[:, 0], det.xyxy[:, 3] - det.xyxy[:, 1]
    assert (w >= 1).all() and (h >= 1).all()
    q = evaluate(read_gt(small_seq / "gt" / "gt.txt"), det)
    assert q.recall > 0.6 and q.fp > 0 and 0.3 < q.precision < 1.0


def test_refuses_to_overwrite_without_force(tmp_path):
    synthesize(tmp_path / "s", n_frames=1, size=(96, 96))
    with pytest.raises(DataError, match="already exists"):
        synthesize(tmp_path / "s", n_frames=1, size=(96, 96))
    synthesize(tmp_path / "s", n_frames=2, size=(96, 96), overwrite=True)
    assert len(load_sequence(tmp_path / "s").frame_ids) == 2


@pytest.mark.parametrize("kw, msg", [({"n_frames": 0}, "at least 1 frame"), ({"size": (32, 32)}, "too small")])
def test_bad_parameters(tmp_path, kw, msg):
    with pytest.raises(DataError, match=msg):
        synthesize(tmp_path / "s", **kw)
