import pytest
import torch

from harness.models import variants as V
from harness.models.backends import onnx as onnx_backend
from harness.errors import BenchmarkError
from harness.config.suite import Cell

CPU = torch.device("cpu")


@pytest.mark.parametrize("cell, fragment", [
    (Cell("q", "yolov8n", "tensorrt", "fp16"), "TensorRT is not installed here"),
    (Cell("q", "yolov8n", "pytorch", "int8"), "pytorch int8 is not available here"),
    (Cell("q", "yolov8n", "pytorch", "fp16"), "PyTorch fp16 needs a CUDA device"),
])
def test_cells_that_cannot_run_on_a_cpu_say_why(cell, fragment):
    assert fragment in V.unsupported_reason(cell, CPU)


@pytest.mark.parametrize("cell", [Cell("b", "yolov8n", "pytorch", "fp32"), Cell("q", "yolov8n", "onnx", "fp16")])
def test_runnable_cells_have_no_reason(cell):
    assert V.unsupported_reason(cell, CPU) is None


def test_skipped_cells_never_resolve_weights(monkeypatch):
    monkeypatch.setattr(V, "resolve_weights", lambda *a: pytest.fail("weights resolved for a skipped cell"))
    with pytest.raises(V.CellSkipped):
        V.load_variant(Cell("q", "yolov8n", "tensorrt", "int8"), 64, "cpu")


def test_cuda_profile_without_cuda_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(BenchmarkError, match="compute: cuda but torch sees no CUDA device"):
        V.pick_device("cuda")
    assert V.pick_device("auto") == CPU


@pytest.mark.slow
def test_onnx_export_is_cached_by_content():
    cell = Cell("q", "yolov8n", "onnx", "fp32")
    first = V.load_variant(cell, 64, "cpu", "random")
    second = V.load_variant(cell, 64, "cpu", "random")
    assert second.build["cache_hit"] is True and second.build["build_s"] == 0.0
    assert first.artifact == second.artifact and first.artifact.suffix == ".onnx"
    assert second.runtime == "CPUExecutionProvider" and second.fp16 is False
    opts = onnx_backend._session(second.backend).get_session_options()
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"  # no busy-wait threads
    other = V.load_variant(Cell("q", "yolov8n", "onnx", "fp32"), 96, "cpu", "random")
    assert other.artifact != first.artifact  # imgsz is part of the key
    fp16 = V.load_variant(Cell("q", "yolov8n", "onnx", "fp16"), 64, "cpu", "random")
    import onnx

    weights = onnx.load(str(fp16.artifact)).graph.initializer
    kinds = [w.data_type for w in weights]
    assert kinds.count(onnx.TensorProto.FLOAT16) > 10 * kinds.count(onnx.TensorProto.FLOAT)  # weights really fp16
    assert fp16.facts["artifact_bytes"] < 0.6 * first.facts["artifact_bytes"]
    assert fp16.fp16 == ("float16" in onnx_backend._session(fp16.backend).get_inputs()[0].type)


def test_person_class_lookup():
    assert V._person_class({0: "person", 1: "bicycle"}) == 0
    assert V._person_class({0: "car", 1: "person"}) == 1
    assert V._person_class(None) == 0


def test_the_format_matrix_says_what_runs_on_this_cpu_and_why_not():
    """``harness models formats``: every format x precision, asked of the same backends a run asks."""
    import importlib.util
    import json

    from harness.models.variants import format_matrix
    from tests.cli.conftest import harness

    rows = {(r["format"], r["precision"]): r for r in format_matrix("cpu")}
    assert len(rows) == 9 and all(r["device"] == "cpu" for r in rows.values())
    assert rows["pytorch", "fp32"]["available"] and all(rows["onnx", p]["available"] for p in ("fp32", "fp16", "int8"))
    assert "needs a CUDA device" in rows["pytorch", "fp16"]["reason"]
    if importlib.util.find_spec("tensorrt") is None:
        assert not rows["tensorrt", "fp16"]["available"] and "TensorRT is not installed" in rows["tensorrt", "fp16"]["reason"]
    p = harness("models", "formats", "--compute", "cpu", "--json")
    assert p.returncode == 0, p.stderr
    assert {(r["format"], r["precision"], r["available"]) for r in json.loads(p.stdout)["rows"]} == \
        {(f, pr, r["available"]) for (f, pr), r in rows.items()}
