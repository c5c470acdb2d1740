"""TensorRT on the DLA without a Jetson: layer placement from real public TensorRT logs, cache keys, the export
arguments and the equivalent trtexec argv, DLA-only engines refused when layers fell back, skips without a DLA."""

import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.config.suite import Cell, Suite, VariantSpec
from harness.errors import BenchmarkError
from harness.models.backends.support import dla as D
from harness.models.backends import tensorrt as T
from harness.testing.attacks import attacks, timed

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "trt_logs"


@pytest.mark.parametrize("name, dla, gpu, fell_back", [
    ("trt8_trtexec_int8_dla_fallback.log", 2, 2, 0),  # TensorRT 8.x trtexec: [DlaLayer] / [GpuLayer] lines
    ("trt85_python_everything_on_gpu.log", 0, 10, 0),  # an empty DLA section: nothing ran there
    ("trt7_legacy_deepstream_all_gpu.log", 0, 16, 0),  # TensorRT 7: a comma list after the GPU header
    ("trt7_legacy_yolov4_xavier_nx_dla0.log", 8, 0, 0),  # TensorRT 7: {..} groups, wrapped lines
])
def test_layer_placement_from_real_builder_logs(name, dla, gpu, fell_back):
    got = D.parse_layer_placement((LOGS / name).read_text())
    assert (got["dla_layers"], got["gpu_layers"], got["fell_back"]) == (dla, gpu, fell_back)


def test_placement_names_the_first_layers():
    got = D.parse_layer_placement((LOGS / "trt8_trtexec_int8_dla_fallback.log").read_text())
    assert got["dla_first"] == ["{ForeignNode[/cnn/cnn.0/Conv.../cnn/cnn.11/Relu]}", "{ForeignNode[/linear/Gemm]}"]
    assert got["gpu_first"] == ["POOLING: /pool/GlobalAveragePool", "SHUFFLE: reshape_after_/linear/Gemm"]
    legacy = D.parse_layer_placement((LOGS / "trt7_legacy_yolov4_xavier_nx_dla0.log").read_text())
    assert legacy["dla_first"][1].startswith("{003_convolutional_tanh,003_convolutional_mish")  # a wrapped group joined


def test_fallback_warnings_alone_are_counted():
    # ultralytics' DLA export of yolov8m on an AGX Orin: the head's layers fall back to the GPU
    got = D.parse_layer_placement((LOGS / "trt86_ultralytics_yolov8m_dla_warnings.log").read_text())
    assert got == {"dla_layers": None, "gpu_layers": None, "fell_back": 5}
    assert D.parse_layer_placement("[I] [TRT] building FP16 engine\n") is None


def test_engine_keys_include_the_dla_core_and_fallback_and_gpu_keys_are_unchanged():
    base = ("sha", "10.3.0", "L4T 36.4.0", "int8", 640, 1, 4.0, "cal")
    gpu = T.engine_key(*base)
    assert gpu == T.engine_key(*base, None, True) == "8586c73c1c725a3b"  # the key the previous release computed
    keys = {gpu, T.engine_key(*base, 0, True), T.engine_key(*base, 1, True), T.engine_key(*base, 0, False)}
    assert len(keys) == 4
    assert T.engine_path("yolov8n", "int8", 640, "k", 1).name == "yolov8n-int8-640-dla1-k.engine"


def test_export_arguments_and_the_equivalent_trtexec_argv():
    assert T.export_kwargs("int8", 640, 4.0, Path("d.yaml"), 1)["device"] == "dla:1"
    assert T.export_kwargs("fp16", 640, 4.0, None)["device"] == 0
    argv = D.trtexec_equivalent("m.onnx", "m.engine", "int8", 0, True, 4.0, "cal.cache")
    assert argv == ["trtexec", "--onnx=m.onnx", "--saveEngine=m.engine", "--useDLACore=0", "--memPoolSize=workspace:4096",
                    "--int8", "--fp16", "--calib=cal.cache", "--allowGPUFallback"]
    strict = D.trtexec_equivalent("m.onnx", "m.engine", "fp16", 1, False, 2.0)
    assert "--allowGPUFallback" not in strict and "--useDLACore=1" in strict and "--fp16" in strict


def test_a_dla_only_engine_with_gpu_layers_is_refused(tmp_path):
    log = (LOGS / "trt8_trtexec_int8_dla_fallback.log").read_text()
    strict = Cell("q", "yolov8n", "tensorrt", "int8", dla_core=0, gpu_fallback=False)
    with pytest.raises(BenchmarkError, match=r"2 layer\(s\) need the GPU \(first: POOLING: /pool/GlobalAveragePool"):
        T.dla_facts(strict, tmp_path / "e.engine", log, tmp_path / "yolov8n.pt")
    ok = T.dla_facts(Cell("q", "yolov8n", "tensorrt", "int8", dla_core=0), tmp_path / "f.engine", log, tmp_path / "yolov8n.pt")
    assert ok["placement"]["dla_layers"] == 2 and ok["gpu_fallback"] is True and "--allowGPUFallback" in ok["trtexec_equivalent"]
    # a cache hit reads the placement recorded when the engine was built
    again = T.dla_facts(Cell("q", "yolov8n", "tensorrt", "int8", dla_core=0), tmp_path / "f.engine", None, tmp_path / "yolov8n.pt")
    assert again["placement"] == ok["placement"]


def dla_tree(root, cores):
    for c in cores:
        (root / f"sys/devices/platform/bus@0/158{8 + 4 * c:x}0000.nvdla{c}").mkdir(parents=True)
    return root


def test_boards_without_dla_skip_the_cell_with_the_reason(tmp_path, monkeypatch):
    cell = Cell("q", "yolov8n", "tensorrt", "fp16", dla_core=1)
    monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(tmp_path / "nano"))  # an Orin Nano: no nvdla devices
    assert "no DLA cores" in D.unsupported(cell)
    assert "no DLA cores" in T.unsupported(cell, None)  # before TensorRT or CUDA are looked at
    monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(dla_tree(tmp_path / "xnx", [0])))
    assert D.dla_cores() == 1 and "has 1 DLA core (0..0)" in D.unsupported(cell)
    monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(dla_tree(tmp_path / "agx", [0, 1])))
    assert D.dla_cores() == 2 and D.unsupported(cell) is None


def test_load_variant_skips_a_dla_cell_here(tmp_path, monkeypatch):
    from harness.models.variants import CellSkipped, load_variant

    monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(tmp_path))
    with pytest.raises(CellSkipped, match="no DLA cores"):
        load_variant(Cell("q", "yolov8n", "tensorrt", "int8", dla_core=0), 320)


@pytest.mark.parametrize("spec, message", [
    ({"format": "onnx", "precision": "fp16", "dla_core": 0}, "dla_core needs format: tensorrt"),
    ({"format": "tensorrt", "precision": "fp32", "dla_core": 0}, "fp16 or int8 only"),
    ({"format": "tensorrt", "precision": "fp16", "gpu_fallback": False}, "only means something with dla_core"),
    ({"format": "tensorrt", "precision": "fp16", "dla_core": 2}, "dla_core"),
])
def test_dla_variants_are_validated(spec, message):
    with pytest.raises(ValidationError, match=message):
        VariantSpec.model_validate(spec)


def test_dla_cells_have_their_own_ids():
    s = Suite.model_validate({"name": "d", "experiments": [{"name": "q", "models": ["yolov8n"], "variants": [
        {"format": "tensorrt", "precision": "int8"}, {"format": "tensorrt", "precision": "int8", "dla_core": 0},
        {"format": "tensorrt", "precision": "int8", "dla_core": 1, "gpu_fallback": False}]}]})
    assert [c.cell_id for c in s.cells()] == ["q.yolov8n.tensorrt-int8", "q.yolov8n.tensorrt-int8-dla0",
                                              "q.yolov8n.tensorrt-int8-dla1-nofb"]
    assert [c.target for c in s.cells()] == ["gpu", "dla0", "dla1"]
    c = s.cells()[2]
    assert Cell.from_dict(c.as_dict()) == c


def test_the_preflight_counts_dla_cores(tmp_path):
    from harness.remote.preflight import FACTS_SCRIPT, evaluate, parse_facts
    from harness.config.profiles import DeviceProfile

    root = dla_tree(tmp_path, [0, 1])
    out = subprocess.run(["sh", "-c", FACTS_SCRIPT], capture_output=True, text=True,
                         env={"HARNESS_PROBE_ROOT": str(root), "PATH": "/usr/bin:/bin"}).stdout
    facts = parse_facts(out)
    assert facts["dla_cores"] == "2"
    check = next(c for c in evaluate(DeviceProfile.model_validate({"name": "x", "kind": "jetson"}), facts) if c.name == "dla")
    assert check.info and check.detail == "2 DLA cores"


def test_the_builder_log_is_captured_at_the_file_descriptor_level():
    import os

    with D.captured_fds() as box:
        os.write(1, b"[I] [TRT] ---------- Layers Running on DLA ----------\n")  # as TensorRT's C++ logger writes
        os.write(2, b"[I] [TRT] [DlaLayer] {ForeignNode[/model.0/conv/Conv...]}\n")
    assert D.parse_layer_placement(box[0])["dla_layers"] == 1


# --- a device's log is untrusted: the placement parser is linear on anything (docs/architecture.md) -------------------

LAYER_WARNING = ("[W] [TRT] Layer '" + "-" * 100_000 + "' (CONSTANT): Unsupported on DLA. Switching this layer's "
                 "device type to GPU.\n")
PLACEMENT_ATTACKS = attacks("-----", "----- Layers Running on DLA", "[I] [TRT] ", "[I]", "[DlaLayer] {",
                            "{a,", "Switching this layer's device type to GPU", LAYER_WARNING)
PLACEMENT_ATTACKS["200 000 dashes, then a header"] = "-" * 200_000 + " Layers Running on DLA\n"
PLACEMENT_ATTACKS["100 000-dash layer names in warnings"] = LAYER_WARNING * 40
TRT7_GROUPS = 50_000  # += on a str joined them in quadratic time: 6 GB copied
PLACEMENT_ATTACKS["a TensorRT 7 section of 50 000 groups"] = (
    "--------------- Layers running on DLA:\n" + "{a},\n" * TRT7_GROUPS)


@pytest.mark.parametrize("name", sorted(PLACEMENT_ATTACKS))
def test_the_placement_parser_is_linear_on_hostile_logs(name):
    got = timed(D.parse_layer_placement, PLACEMENT_ATTACKS[name])
    assert got is None or set(got) >= {"dla_layers", "gpu_layers", "fell_back"}


def test_a_header_after_tens_of_thousands_of_dashes_is_still_a_header():
    log = "-" * 30_000 + " Layers Running on DLA " + "-" * 30_000 + "\n[I] [TRT] [DlaLayer] {ForeignNode[a]}\n"
    got = timed(D.parse_layer_placement, log)
    assert (got["dla_layers"], got["gpu_layers"], got["dla_first"]) == (1, 0, ["{ForeignNode[a]}"])
    assert timed(D.parse_layer_placement, "-" * 4 + " Layers Running on DLA\n") is None  # four dashes: no header


def test_a_huge_tensorrt7_section_is_counted_in_linear_time():
    got = timed(D.parse_layer_placement, PLACEMENT_ATTACKS["a TensorRT 7 section of 50 000 groups"])
    assert got["dla_layers"] == TRT7_GROUPS and got["dla_first"] == ["{a}", "{a}", "{a}"]


def test_lines_past_the_cap_are_skipped_not_scanned():
    log = LAYER_WARNING + "[W] [TRT] Layer 'x' (CONSTANT): Unsupported on DLA. Switching this layer's device type to GPU.\n"
    assert timed(D.parse_layer_placement, log) == {"dla_layers": None, "gpu_layers": None, "fell_back": 1}
