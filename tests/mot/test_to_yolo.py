import numpy as np
import pytest
import yaml

from harness.mot.files import read_gt
from harness.mot.to_yolo import mot_to_yolo
from harness.errors import DataError


def test_mot_sequence_becomes_a_yolo_dataset(small_seq, tmp_path):
    data = mot_to_yolo([small_seq], tmp_path / "ds", val_fraction=0.25, min_visibility=0.0)
    cfg = yaml.safe_load(data.read_text())
    assert cfg["names"][0] == "person" and len(cfg["names"]) == 80  # COCO ids: the head is fine-tuned, not replaced
    assert cfg["harness"]["train"] == 18 and cfg["harness"]["val"] == 6
    # val is the tail of the sequence, never interleaved with train
    val = sorted(p.stem for p in (tmp_path / "ds" / "images" / "val").iterdir())
    assert val[0].endswith("000019") and val[-1].endswith("000024")
    # every positive (class 1, flag 1) of frame 1 is a normalised class-0 box
    gt = read_gt(small_seq / "gt" / "gt.txt")
    want = gt.positives.xyxy[gt.positives.frame == 1]
    lab = np.loadtxt(tmp_path / "ds" / "labels" / "train" / "SYNTH-0003_000001.txt", ndmin=2)
    assert len(lab) == len(want) and (lab[:, 0] == 0).all() and (lab[:, 1:] <= 1).all() and (lab[:, 1:] >= 0).all()
    x1 = np.clip(want[:, 0], 0, 320)
    assert sorted(np.round((lab[:, 1] - lab[:, 3] / 2) * 320, 2)) == pytest.approx(sorted(np.round(x1, 2)), abs=0.01)


def test_to_yolo_errors(small_seq, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(DataError, match="already exists"):
        mot_to_yolo([small_seq], tmp_path / "full")
    with pytest.raises(DataError, match="no sequences given"):
        mot_to_yolo([], tmp_path / "new")


def test_to_yolo_cli(run_harness, small_seq, tmp_path):
    p = run_harness("data", "to-yolo", small_seq, "--out", tmp_path / "ds", "--max-frames", "10")
    assert p.returncode == 0, p.stderr
    assert "9 train / 1 val images" in p.stdout
