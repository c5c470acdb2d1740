"""Recovery without training: BatchNorm statistics re-estimated on unlabelled images (``recovery: bn``).

The accuracy effect is measured on the reference detector (test_reference.py); here the mechanics: the statistics
are those of the images, in batches drawn from across the set; a pruned checkpoint keeps its structure, changes
only its statistics, and is cached by content."""

import random

import pytest
import torch

from harness.models.prune import count_params, pruned_weights
from harness.models.recovery import bn_recovered, recalibrate_bn
from harness.models.weights import resolve_weights
from harness.mot.synth import synthesize

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    seq = synthesize(tmp_path_factory.mktemp("cal") / "cal-seq", n_frames=8, size=(320, 192), seed=7)
    return sorted((seq / "img1").glob("*.jpg"))


def test_bn_statistics_are_those_of_the_images_in_shuffled_batches(frames):
    """After recalibration each BN's running mean / variance are those of its input over the images, the variance
    the average over batches drawn from across the set (seeded), and the trainer's momentum is back."""
    import cv2
    import numpy as np

    from harness.mot.letterbox import letterbox

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4, momentum=0.03)).eval()
    bn = model[1]
    bn.running_mean.fill_(5.0)
    bn.running_var.fill_(9.0)  # stale statistics, as after pruning
    assert recalibrate_bn(model, frames, 64, batch=4) == len(frames) == 8
    order = random.Random(0).sample(frames, len(frames))
    x = torch.from_numpy(np.stack([letterbox(cv2.imread(str(p)), 64)[0][:, :, ::-1] for p in order]).copy())
    with torch.no_grad():
        y = model[0](x.permute(0, 3, 1, 2).float() / 255)
    assert torch.allclose(bn.running_mean, y.mean(dim=(0, 2, 3)), atol=1e-4)
    per_batch = torch.stack([y[i:i + 4].var(dim=(0, 2, 3), unbiased=True) for i in (0, 4)]).mean(0)
    assert torch.allclose(bn.running_var, per_batch, rtol=1e-3)  # the cumulative average of the batches
    assert bn.momentum == 0.03 and not model.training


def test_a_recovered_checkpoint_keeps_the_pruned_structure_changes_its_statistics_and_is_cached(frames):
    from ultralytics import YOLO

    pruned = pruned_weights(resolve_weights("yolov8n", "random"), 0.3, 160).weights
    rec, facts = bn_recovered(pruned, frames, 160, "held-out frames of cal-seq")
    assert facts["method"] == "bn" and facts["images"] == 8 and facts["imgsz"] == 160 and facts["cache_hit"] is False
    assert rec.source == f"bn-recovered:{pruned.source}" and rec.sha256 != pruned.sha256
    a, b = YOLO(str(pruned.path)).model, YOLO(str(rec.path)).model
    assert count_params(a) == count_params(b)
    sa, sb = a.state_dict(), b.state_dict()
    stats = [k for k in sa if k.endswith(("running_mean", "running_var"))]
    weights = [k for k in sa if k.endswith(".weight") or k.endswith(".bias")]
    assert all(torch.equal(sa[k], sb[k]) for k in weights)  # no training: weights as pruned
    assert sum(not torch.equal(sa[k], sb[k]) for k in stats) > 0.9 * len(stats)  # every BN re-estimated
    again, facts2 = bn_recovered(pruned, frames, 160, "held-out frames of cal-seq")
    assert facts2["cache_hit"] is True and again.sha256 == rec.sha256
    other, _ = bn_recovered(pruned, frames[:4], 160, "held-out frames of cal-seq")
    assert other.sha256 != rec.sha256  # other images: another entry
