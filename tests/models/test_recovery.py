"""Recovery without training: BatchNorm statistics corrected on unlabelled images (``recovery: bn``), and the plain
re-estimation the fine-tune recipe ends with.

The accuracy effect is measured on the reference detector (test_reference.py); here the mechanics: each running
statistic moves by exactly the shift pruning caused on the images; an unpruned model is left as it is; a pruned
checkpoint keeps its structure, changes only its statistics, and is cached by content."""

import random

import pytest
import torch

from harness.models.prune import count_params, pruned_weights
from harness.errors import BenchmarkError
from harness.models.recovery import VAR_RATIO_CLAMP, bn_input_moments, bn_recovered, recalibrate_bn, transfer_bn_shift
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

    base = resolve_weights("yolov8n", "random")
    pruned = pruned_weights(base, 0.3, 160).weights
    rec, facts = bn_recovered(pruned, base, frames, 160, "held-out frames of cal-seq")
    assert facts["method"] == "bn" and facts["images"] == 8 and facts["imgsz"] == 160 and facts["cache_hit"] is False
    assert "shift from the unpruned model" in facts["estimator"]
    assert rec.source == f"bn-recovered:{pruned.source}" and rec.sha256 != pruned.sha256
    a, b = YOLO(str(pruned.path)).model, YOLO(str(rec.path)).model
    assert count_params(a) == count_params(b)
    sa, sb = a.state_dict(), b.state_dict()
    stats = [k for k in sa if k.endswith(("running_mean", "running_var"))]
    weights = [k for k in sa if k.endswith(".weight") or k.endswith(".bias")]
    assert all(torch.equal(sa[k], sb[k]) for k in weights)  # no training: weights as pruned
    assert sum(not torch.equal(sa[k], sb[k]) for k in stats) > 0.5 * len(stats)  # BNs after a pruned layer moved
    again, facts2 = bn_recovered(pruned, base, frames, 160, "held-out frames of cal-seq")
    assert facts2["cache_hit"] is True and again.sha256 == rec.sha256
    other, _ = bn_recovered(pruned, base, frames[:4], 160, "held-out frames of cal-seq")
    assert other.sha256 != rec.sha256  # other images: another entry


def _tiny():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                               torch.nn.Conv2d(4, 4, 3), torch.nn.BatchNorm2d(4)).eval()


def _pruned(model, drop: int):
    """``model`` with channel ``drop`` of the first layer removed, as structured pruning does it."""
    keep = [i for i in range(4) if i != drop]
    n = len(keep)
    p = torch.nn.Sequential(torch.nn.Conv2d(3, n, 3), torch.nn.BatchNorm2d(n), torch.nn.ReLU(),
                            torch.nn.Conv2d(n, 4, 3), torch.nn.BatchNorm2d(4)).eval()
    with torch.no_grad():
        p[0].weight.copy_(model[0].weight[keep])
        p[0].bias.copy_(model[0].bias[keep])
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(p[1], name).copy_(getattr(model[1], name)[keep])
        p[3].weight.copy_(model[3].weight[:, keep])
        p[3].bias.copy_(model[3].bias)
        p[4].load_state_dict(model[4].state_dict())
    return p


def _trained_statistics(model):
    with torch.no_grad():
        for bn in (model[1], model[4]):
            bn.running_mean.copy_(torch.tensor([0.3, -0.2, 0.1, 0.5]))
            bn.running_var.copy_(torch.tensor([2.0, 0.5, 1.5, 1.0]))
    return model


def test_each_statistic_moves_by_the_shift_pruning_caused_on_the_images(frames):
    """A kept channel's statistics stay where training put them when its input did not change (layer 1), and
    move by the measured difference of means and ratio of variances where it did (layer 2)."""
    model = _trained_statistics(_tiny())
    pruned = _pruned(model, drop=1)
    before = bn_input_moments(model, frames, 64)  # in the batches transfer_bn_shift uses
    after = bn_input_moments(pruned, frames, 64)
    assert transfer_bn_shift(model, pruned, frames, 64) == 8
    keep = [0, 2, 3]
    assert torch.allclose(pruned[1].running_mean, model[1].running_mean[keep], atol=1e-5)
    assert torch.allclose(pruned[1].running_var, model[1].running_var[keep], rtol=1e-5)
    mean_u, var_u = before["4"]
    mean_p, var_p = after["4"]
    assert torch.allclose(pruned[4].running_mean.double(), model[4].running_mean.double() + mean_p - mean_u,
                          atol=1e-4)
    ratio = (var_p / var_u).clamp(1 / VAR_RATIO_CLAMP, VAR_RATIO_CLAMP)
    assert torch.allclose(pruned[4].running_var.double(), model[4].running_var.double() * ratio, rtol=1e-4)
    assert not torch.equal(mean_p, mean_u)  # the second layer's input did move


def test_an_unpruned_model_keeps_its_statistics(frames):
    """Correcting a model against itself changes nothing: training's statistics are kept, not replaced by the
    calibration frames' (what plain re-estimation does, at a cost of 0.1 F1 on the reference detector)."""
    model = _trained_statistics(_tiny())
    same = _pruned(model, drop=-1)  # nothing dropped
    transfer_bn_shift(model, same, frames, 64)
    for i in (1, 4):
        assert torch.allclose(same[i].running_mean, model[i].running_mean, atol=1e-6)
        assert torch.allclose(same[i].running_var, model[i].running_var, rtol=1e-6)


def test_weights_not_pruned_from_the_given_model_are_refused(frames):
    model = _trained_statistics(_tiny())
    other = _pruned(model, drop=1)
    with torch.no_grad():
        other[1].running_mean.add_(1.0)  # e.g. fine-tuned since
    with pytest.raises(BenchmarkError, match="recovery: bn.*re-prune"):
        transfer_bn_shift(model, other, frames, 64)
