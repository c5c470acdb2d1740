"""Fine-tuning keeps a pruned structure and really changes the weights (one epoch, tiny data)."""

import pytest
import torch

from harness.models.finetune import finetune
from harness.models.prune import count_params, pruned_weights
from harness.mot.synth import synthesize
from harness.mot.to_yolo import mot_to_yolo
from harness.models.weights import resolve_weights

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ft")
    seq = synthesize(tmp / "train-seq", n_frames=12, size=(320, 192), seed=7)  # not the evaluated sequence
    return mot_to_yolo([seq], tmp / "ds")


def test_one_epoch_changes_the_weights_and_keeps_the_pruned_structure(dataset):
    from ultralytics import YOLO

    src = pruned_weights(resolve_weights("yolov8n", "random"), 0.3, 160).weights
    ft, facts = finetune(src, dataset, epochs=1, imgsz=160, batch=4)
    assert ft.provenance == "fine-tuned" and facts["epochs"] == 1 and facts["build_s"] > 0 and facts["cache_hit"] is False
    a, b = YOLO(str(src.path)).model, YOLO(str(ft.path)).model
    assert count_params(a) == count_params(b)  # the trainer did not rebuild the unpruned architecture
    sa, sb = a.state_dict(), b.state_dict()
    changed = sum(float((sa[k].float() - sb[k].float()).abs().sum()) for k in sa if sa[k].dtype.is_floating_point)
    assert changed > 0
    with torch.no_grad():
        assert b.float().eval()(torch.rand(1, 3, 160, 160))[0].shape[1] == 84
    again, facts2 = finetune(src, dataset, epochs=1, imgsz=160, batch=4)
    assert facts2["cache_hit"] is True and again.sha256 == ft.sha256


def test_missing_dataset_says_how_to_make_one(tmp_path):
    from harness.errors import BenchmarkError

    with pytest.raises(BenchmarkError, match="harness data to-yolo"):
        finetune(resolve_weights("yolov8n", "random"), tmp_path / "none.yaml", 1, 160, 4)
