import shutil

import numpy as np
import pytest

from harness.mot.sequence import decode_frame, decode_frames, load_sequence
from harness.errors import DataError


def test_loads_a_mot_directory(small_seq):
    seq = load_sequence(small_seq)
    assert seq.name == "SYNTH-0003"
    assert seq.frame_ids == tuple(range(1, 25))
    assert (seq.width, seq.height, seq.frame_rate) == (320, 192, 30.0)
    assert seq.gt_path == small_seq / "gt" / "gt.txt"
    ids, paths = seq.window(5)
    assert ids == (1, 2, 3, 4, 5) and paths[0].name == "000001.jpg"


def test_decoded_frames_have_the_declared_size(small_seq):
    frames = decode_frames(load_sequence(small_seq).frame_paths[:2])
    assert frames[0].shape == (192, 320, 3) and frames[0].dtype == np.uint8


def test_works_without_seqinfo(tmp_path, small_seq):
    seq_dir = tmp_path / "MOT17-XX"
    shutil.copytree(small_seq, seq_dir)
    (seq_dir / "seqinfo.ini").unlink()
    seq = load_sequence(seq_dir)
    assert seq.name == "MOT17-XX" and seq.width is None and len(seq.frame_ids) == 24


@pytest.mark.parametrize("setup, message", [
    (lambda d: None, "sequence directory not found"),
    (lambda d: d.mkdir(), "image directory not found"),
    (lambda d: (d / "img1").mkdir(parents=True), "no frames"),
    (lambda d: ((d / "img1").mkdir(parents=True), (d / "img1" / "frame_a.jpg").write_bytes(b"x")), "not a frame number"),
])
def test_unusable_directories_raise_data_errors(tmp_path, setup, message):
    d = tmp_path / "seq"
    setup(d)
    with pytest.raises(DataError, match=message):
        load_sequence(d)


def test_corrupt_frame_names_the_file(tmp_path):
    p = tmp_path / "000001.jpg"
    p.write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(DataError, match=r"000001.jpg: cannot decode frame"):
        decode_frame(p)


def test_bad_seqinfo_is_reported(tmp_path, small_seq):
    seq_dir = tmp_path / "s"
    shutil.copytree(small_seq, seq_dir)
    (seq_dir / "seqinfo.ini").write_text("[Sequence]\nimWidth=wide\n")
    with pytest.raises(DataError, match="imwidth='wide' is not a number"):
        load_sequence(seq_dir)
