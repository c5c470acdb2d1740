"""Structured pruning of YOLOv8 / YOLO11 / YOLO26: really smaller, reloadable, exportable."""

import numpy as np
import pytest
import torch

from harness.models.prune import C2fSplit, count_params, pruned_weights, split_c2f
from harness.models.weights import resolve_weights

pytestmark = pytest.mark.slow


def model_of(name):
    from ultralytics import YOLO

    return YOLO(str(resolve_weights(name, "random").path)).model.eval()


@pytest.mark.parametrize("name", ["yolov8n", "yolo11n"])
def test_splitting_c2f_keeps_the_outputs(name):
    torch.manual_seed(0)
    model = model_of(name)
    x = torch.rand(1, 3, 128, 128)
    with torch.no_grad():
        before = model(x)[0]
        n = split_c2f(model)
        after = model(x)[0]
    assert n >= 8 and any(isinstance(m, C2fSplit) for m in model.modules())
    assert torch.allclose(before, after, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", ["yolov8n", "yolo11n", "yolo26n"])
def test_half_the_channels_cut_well_over_a_third_of_everything(name):
    from ultralytics import YOLO

    res = pruned_weights(resolve_weights(name, "random"), 0.5, 160)
    f = res.facts
    assert f["params_after"] < (2 / 3) * f["params_before"]
    assert f["gflops_after"] < (2 / 3) * f["gflops_before"]
    assert f["file_bytes_after"] < (2 / 3) * f["file_bytes_before"]
    reloaded = YOLO(str(res.weights.path)).model.eval()  # a checkpoint ultralytics loads
    assert count_params(reloaded) == f["params_after"]
    with torch.no_grad():
        out = reloaded(torch.rand(1, 3, 160, 160))[0]
    assert out.shape[1] == 84  # head untouched: 4 box + 80 class channels
    assert res.weights.provenance == "random-init" and res.weights.source == "pruned:architecture"


def test_pruning_shrinks_with_the_ratio_and_is_cached():
    w = resolve_weights("yolov8n", "random")
    p30 = pruned_weights(w, 0.3, 160)
    p50 = pruned_weights(w, 0.5, 160)
    assert p50.facts["params_after"] < p30.facts["params_after"] < p30.facts["params_before"]
    again = pruned_weights(w, 0.3, 160)
    assert again.facts["cache_hit"] is True and again.weights.sha256 == p30.weights.sha256


def test_pruned_model_exports_to_onnx_with_the_same_outputs():
    from harness.models.variants import load_variant
    from harness.config.suite import Cell

    pt = load_variant(Cell("p", "yolov8n", "pytorch", "fp32", 0.3), 160, "cpu", "random")
    ox = load_variant(Cell("p", "yolov8n", "onnx", "fp32", 0.3), 160, "cpu", "random")
    assert ox.artifact.suffix == ".onnx" and ox.facts["pruning"]["params_after"] == pt.facts["params"]
    x = torch.rand(1, 3, 160, 160, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        a = pt.backend(x)
        b = ox.backend(x)
    a = (a[0] if isinstance(a, (list, tuple)) else a).numpy()
    b = (b[0] if isinstance(b, (list, tuple)) else b)
    b = b.numpy() if hasattr(b, "numpy") else np.asarray(b)
    assert a.shape == b.shape
    assert np.abs(a - b).max() < 1e-2 * max(1.0, np.abs(a).max())  # same boxes and scores


def test_seed_suite_pruning_cells_are_no_longer_skipped():
    from harness.models.variants import unsupported_reason
    from harness.config.suite import load_suite

    cells = [c for c in load_suite("seed").cells() if c.experiment == "pruning"]
    assert [(c.prune_ratio, c.recovery) for c in cells] == [(0.0, "none"), (0.1, "none"), (0.1, "bn"), (0.3, "none"),
                                                            (0.5, "none")]  # the notebooks' 30 / 50 % kept
    assert all(unsupported_reason(c, torch.device("cpu")) is None for c in cells)


@pytest.mark.parametrize("method", ["l1", "l2_group", "bn_scale"])
def test_dead_channels_are_the_ones_removed_and_removing_them_changes_nothing(method):
    """Channels made exactly dead (their conv rows, BN scale and shift, and what reads them all zero) have the
    lowest importance under every method; pruning one layer by their share removes exactly them and the
    outputs stay the same within float tolerance."""
    from harness.models.prune import prune_model

    torch.manual_seed(0)
    model = model_of("yolov8n")
    split_c2f(model)
    target, reader = model.model[1], model.model[2]  # Conv 16->32 (stride 2), then the C2f reading it
    dead = torch.tensor([1, 5, 6, 11, 17, 20, 26, 31])
    with torch.no_grad():
        target.conv.weight[dead] = 0
        target.bn.weight[dead] = 0
        target.bn.bias[dead] = 0
        for conv in (reader.cv0.conv, reader.cv1.conv):
            conv.weight[:, dead] = 0
        x = torch.rand(2, 3, 160, 160)
        before = model(x)[0]
    alive = [i for i in range(32) if i not in set(dead.tolist())]
    kept_weights = target.conv.weight[alive].clone()
    others = tuple(m for i, m in enumerate(model.model) if i != 1)
    prune_model(model, 0.25, imgsz=160, method=method, round_to=None, also_ignored=others)
    assert target.conv.out_channels == 24 and reader.cv0.conv.in_channels == 24
    assert torch.equal(target.conv.weight, kept_weights)  # the survivors are exactly the live channels, in order
    with torch.no_grad():
        after = model(x)[0]
    assert torch.allclose(before, after, atol=1e-5, rtol=1e-5)


def test_the_achieved_channel_ratio_is_recorded_and_rounding_inflates_small_ratios():
    from harness.config.suite import Pruning

    w = resolve_weights("yolov8n", "random")
    rounded = pruned_weights(w, 0.05, 160, Pruning(round_to=8)).facts
    exact = pruned_weights(w, 0.05, 160, Pruning(round_to=None)).facts
    assert rounded["method"] == exact["method"] == "l1" and rounded["round_to"] == 8 and exact["round_to"] is None
    assert abs(exact["channel_ratio"] - 0.05) < 0.02
    assert rounded["channel_ratio"] > 1.5 * exact["channel_ratio"]  # multiples of 8 in small layers cost more
    other = pruned_weights(w, 0.05, 160, Pruning(method="bn_scale", round_to=None))
    assert other.weights.sha256 != pruned_weights(w, 0.05, 160, Pruning(round_to=None)).weights.sha256  # own cache key


@pytest.mark.parametrize("name", ["yolov8n", "yolo11n"])
def test_merging_a_pruned_split_c2f_back_keeps_the_outputs_and_can_be_pruned_again(name):
    from harness.models.prune import C2fMerged, merge_c2f, prune_model

    torch.manual_seed(0)
    model = prune_model(model_of(name), 0.3, imgsz=160)
    x = torch.rand(1, 3, 160, 160)
    with torch.no_grad():
        before = model(x)[0]
        n = merge_c2f(model)
        after = model(x)[0]
    assert n >= 8 and not any(isinstance(m, C2fSplit) for m in model.modules())
    merged = [m for m in model.modules() if isinstance(m, C2fMerged)]
    assert merged and all(m.cv1.conv.out_channels == m.c0 + m.c1 for m in merged)
    assert torch.allclose(before, after, atol=1e-4, rtol=1e-4)
    prune_model(model, 0.2, imgsz=160)  # a merged model splits again for the next pruning
    with torch.no_grad():
        assert model(x)[0].shape == before.shape
