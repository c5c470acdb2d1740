"""INT8 for CPUs: calibration sets that never touch the evaluated frames, QDQ models that run."""

import shutil

import numpy as np
import pytest
import torch

from harness.models.calibration import calibration_set
from harness.mot.sequence import decode_frame, load_sequence
from harness.errors import BenchmarkError


def test_held_out_frames_follow_the_evaluated_window(small_seq):
    cal = calibration_set(load_sequence(small_seq), eval_frames=10, n_images=300)
    assert cal.describe() == {"source": "held-out frames", "sequence": "SYNTH-0003", "frames": [11, 24], "n_images": 14}
    assert all(int(p.stem) > 10 for p in cal.paths)


def test_another_sequence_can_calibrate(small_seq, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(small_seq, other)
    cal = calibration_set(load_sequence(small_seq), 24, 5, other=str(other))
    assert cal.source == "calibration sequence" and cal.describe()["frames"] == [1, 5]


def test_no_frames_left_is_a_clear_error(small_seq):
    with pytest.raises(BenchmarkError, match=r"no frames left for calibration \(INT8, recovery: bn\) after the 24 evaluated ones"):
        calibration_set(load_sequence(small_seq), 24, 10)


def test_calibration_hash_follows_content(small_seq, tmp_path):
    seq = tmp_path / "s"
    shutil.copytree(small_seq, seq)
    a = calibration_set(load_sequence(seq), 10, 5).sha256
    assert calibration_set(load_sequence(seq), 10, 5).sha256 == a
    (seq / "img1" / "000012.jpg").write_bytes((seq / "img1" / "000001.jpg").read_bytes())
    assert calibration_set(load_sequence(seq), 10, 5).sha256 != a


@pytest.mark.slow
def test_int8_onnx_runs_is_smaller_and_is_cached(small_seq):
    from harness.measure.pipeline import Pipeline
    from harness.models.variants import load_variant
    from harness.config.suite import Cell

    seq = load_sequence(small_seq)
    cal = lambda: calibration_set(seq, 10, 8)  # noqa: E731
    fp32 = load_variant(Cell("q", "yolov8n", "onnx", "fp32"), 160, "cpu", "random")
    int8 = load_variant(Cell("q", "yolov8n", "onnx", "int8"), 160, "cpu", "random", cal)
    info = int8.build["int8"]
    assert info["calibration"]["n_images"] == 8 and info["calibration"]["frames"] == [11, 18]
    assert int8.facts["artifact_bytes"] < 0.4 * fp32.facts["artifact_bytes"]  # int8 weights
    import onnx

    ops = {n.op_type for n in onnx.load(str(int8.artifact)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    pipe = Pipeline(int8.backend, int8.device, int8.fp16, 160, 0.0, 0.7)
    x, lb = pipe.pre(decode_frame(seq.frame_paths[0]))
    raw = pipe.infer(x)
    raw = raw[0] if isinstance(raw, (list, tuple)) else raw
    out = raw.numpy() if isinstance(raw, torch.Tensor) else np.asarray(raw)
    assert out.shape == (1, 84, 525) and np.isfinite(out).all()
    again = load_variant(Cell("q", "yolov8n", "onnx", "int8"), 160, "cpu", "random", cal)
    assert again.build["int8"]["cache_hit"] is True and again.artifact == int8.artifact
    other = load_variant(Cell("q", "yolov8n", "onnx", "int8"), 160, "cpu", "random", lambda: calibration_set(seq, 12, 8))
    assert other.artifact != int8.artifact  # a different calibration set is a different model
