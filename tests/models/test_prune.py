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
    assert [c.prune_ratio for c in cells] == [0.0, 0.3, 0.5]
    assert all(unsupported_reason(c, torch.device("cpu")) is None for c in cells)
