"""Turning a Cell into something that runs: weights -> format/precision -> backend.

Supported here: PyTorch fp32 (fp16 on CUDA), ONNX Runtime fp32/fp16 (exported
through ultralytics, cached by content), ONNX int8 (static QDQ, calibrated),
structured pruning at any ratio and fine-tuning, combined with any of those.
Everything else is *skipped with the reason*, never silently dropped: TensorRT
where it is not installed or there is no CUDA device, PyTorch int8/CPU fp16.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import paths
from harness.fsutil import ContentCache, scratch_dir
from harness.models.weights import Weights, WeightsPolicy, resolve_weights
from harness.errors import BenchmarkError
from harness.config.suite import Cell


class CellSkipped(BenchmarkError):
    """The cell's variant cannot run on this machine; the message is the reason."""


@dataclass
class LoadedVariant:
    backend: object  # ultralytics AutoBackend
    device: object  # torch.device
    fp16: bool
    runtime: str  # "torch" or the onnxruntime provider actually used
    artifact: Path  # the file that runs (.pt, .onnx, .engine)
    weights: Weights
    facts: dict = field(default_factory=dict)  # params, gflops, file sizes
    build: dict = field(default_factory=dict)  # export/build timing and cache use
    person_class: int = 0


def pick_device(compute: str):
    """torch.device for a profile's ``compute`` (auto: CUDA when available)."""
    import torch

    if compute == "cuda" and not torch.cuda.is_available():
        raise BenchmarkError("profile asks for compute: cuda but torch sees no CUDA device", "use a CPU profile (local, desktop-cpu) or fix the CUDA install")
    if compute == "cuda" or (compute == "auto" and torch.cuda.is_available()):
        return torch.device("cuda:0")
    return torch.device("cpu")


def _unsupported_reason(cell: Cell, device) -> str | None:
    cuda = device.type == "cuda"
    if cell.format == "tensorrt":
        try:
            import tensorrt  # noqa: F401
        except ImportError:
            return "TensorRT is not installed here (import tensorrt failed); run this cell on a Jetson or CUDA desktop"
        if not cuda:
            return "TensorRT needs a CUDA device and this run is on the CPU"
        return None
    if cell.precision == "int8" and cell.format != "onnx":
        return f"{cell.format} int8 is not available here (INT8 runs as ONNX QDQ on CPUs, as TensorRT on GPUs)"
    if cell.format == "pytorch" and cell.precision == "fp16" and not cuda:
        return "PyTorch fp16 needs a CUDA device; CPU half-precision is not a deployment target"
    return None


def _person_class(names: dict | list | None) -> int:
    if isinstance(names, dict):
        for k, v in names.items():
            if str(v).lower() == "person":
                return int(k)
    return 0  # COCO order: class 0 is person


def _model_facts(torch_model, imgsz: int, weights: Weights) -> dict:
    from ultralytics.utils.torch_utils import get_flops

    params = sum(p.numel() for p in torch_model.parameters())
    gflops = get_flops(torch_model, imgsz) or None
    return {
        "params": int(params),
        "gflops": round(float(gflops), 3) if gflops else None,
        "weights_file_bytes": weights.path.stat().st_size,
        "weights_provenance": weights.provenance,
        "weights_source": weights.source,
        "weights_sha256": weights.sha256,
        "weights_path": str(weights.path),
    }


def _onnx_export(weights: Weights, imgsz: int, precision: str, device) -> tuple[Path, dict]:
    """ONNX file for (weights, imgsz, precision), exported once into the cache."""
    import ultralytics

    stem = weights.path.stem

    def build(tmp: Path) -> None:
        from ultralytics import YOLO

        with scratch_dir(tmp.parent) as work:  # ultralytics writes the .onnx beside the .pt it exports
            src = work / f"{stem}.pt"
            shutil.copy2(weights.path, src)
            try:
                got = YOLO(str(src)).export(
                    format="onnx", imgsz=imgsz, quantize=16 if precision == "fp16" else None,
                    dynamic=False, simplify=True, device=str(device), verbose=False,
                )
            except Exception as e:  # noqa: BLE001 - export errors come in many types
                raise BenchmarkError(f"ONNX export of {weights.path.name} ({precision}) failed: {e}",
                                     "see the log; try another opset or ultralytics version") from e
            os.replace(got, tmp)

    entry = ContentCache("onnx").entry(lambda key: f"{stem}-{precision}-{imgsz}-{key}.onnx",
                                       (weights.sha256, imgsz, precision, f"ultralytics={ultralytics.__version__}"), build)
    return entry.path, entry.facts()


def load_variant(cell: Cell, imgsz: int, compute: str = "auto", weights_policy: WeightsPolicy = "auto",
                 calibration=None, finetune_cfg=None) -> LoadedVariant:
    """Resolve weights and build the cell's backend; CellSkipped when it cannot run here.

    ``calibration`` is a callable returning the CalibrationSet, asked for only by INT8 cells;
    ``finetune_cfg`` (a suite's ``finetune`` block) is used by fine-tuned cells.
    """
    device = pick_device(compute)
    reason = _unsupported_reason(cell, device)
    if reason:
        raise CellSkipped(reason)
    weights = resolve_weights(cell.model, weights_policy)
    pruning = None
    if cell.prune_ratio > 0:
        from harness.models.prune import pruned_weights

        res = pruned_weights(weights, cell.prune_ratio, imgsz)
        weights, pruning = res.weights, res.facts
    tuning = None
    if cell.finetuned:
        if finetune_cfg is None or not finetune_cfg.data:
            raise CellSkipped("fine-tuning needs training data: set finetune.data in the suite to a data.yaml "
                              "from `harness data to-yolo` (other sequences than the evaluated one)")
        from harness.models.finetune import finetune

        weights, tuning = finetune(weights, finetune_cfg.data, finetune_cfg.epochs, finetune_cfg.imgsz or imgsz,
                                   finetune_cfg.batch, "0" if device.type == "cuda" else "cpu")
    from ultralytics import YOLO
    from ultralytics.nn.autobackend import AutoBackend

    yolo = YOLO(str(weights.path))
    torch_model = yolo.model.eval()
    facts = _model_facts(torch_model, imgsz, weights)
    if pruning is not None:
        facts["pruning"] = pruning
    if tuning is not None:
        facts["finetune"] = tuning
    person = _person_class(getattr(torch_model, "names", None))
    fp16 = cell.precision == "fp16"
    if cell.format == "tensorrt":
        return _tensorrt_variant(cell, imgsz, device, weights, facts, person, calibration)
    if cell.format == "pytorch":
        t0 = time.perf_counter()
        backend = AutoBackend(torch_model, device=device, fp16=fp16, fuse=True, verbose=False).eval()
        facts["artifact_bytes"] = facts["weights_file_bytes"]
        return LoadedVariant(backend, device, fp16, "torch", weights.path, weights, facts,
                             {"load_s": round(time.perf_counter() - t0, 3)}, person)
    # ONNX (INT8: quantize the fp32 export on calibration frames)
    onnx_path, build = _onnx_export(weights, imgsz, "fp32" if cell.precision == "int8" else cell.precision, device)
    if cell.precision == "int8":
        if calibration is None:
            raise CellSkipped("ONNX int8 needs calibration frames (run it through `harness run`)")
        from harness.models.backends.onnx_int8 import quantize_int8

        onnx_path, qinfo = quantize_int8(onnx_path, calibration(), imgsz)
        build = {**build, "int8": qinfo}
    t0 = time.perf_counter()
    backend = _onnx_autobackend()(str(onnx_path), device=device, fp16=False, verbose=False)
    build["ort_session_config"] = dict(ORT_SESSION_CONFIG)
    build["load_s"] = round(time.perf_counter() - t0, 3)
    facts["artifact_bytes"] = onnx_path.stat().st_size
    provider = _onnx_provider(backend)
    # The fp16 ONNX graph takes fp32 inputs only if exported so; feed what it declares.
    return LoadedVariant(backend, device, _onnx_wants_fp16(backend), provider, onnx_path, weights, facts, build, person)


TRT_WORKSPACE_GB = 4.0


def _tensorrt_variant(cell, imgsz, device, weights, facts, person, calibration) -> LoadedVariant:
    """Build (or reuse) the engine on this device, load it, and time it with trtexec when present."""
    import tensorrt as trt
    from ultralytics.nn.autobackend import AutoBackend

    from harness.models.backends import tensorrt as T
    from harness.platform import collect_environment

    env = collect_environment()
    where = f"L4T {env['l4t']}" if env.get("l4t") else (env.get("gpu_name") or "cuda")
    cal, data = None, None
    if cell.precision == "int8":
        if calibration is None:
            raise CellSkipped("TensorRT int8 needs calibration frames (run it through `harness run`)")
        cal = calibration()
        data = T.calibration_dataset(list(cal.paths), paths.cache_dir() / "calib" / cal.sha256[:16])
    key = T.engine_key(weights.sha256, trt.__version__, where, cell.precision, imgsz, 1, TRT_WORKSPACE_GB,
                       cal.sha256 if cal else None)
    engine = T.engine_path(weights.path.stem, cell.precision, imgsz, key)
    build = T.build_cached(engine, T.ultralytics_builder(weights.path, cell.precision, imgsz, TRT_WORKSPACE_GB, data))
    build.update(cache_key=key, tensorrt=trt.__version__, device=where, workspace_gb=TRT_WORKSPACE_GB)
    if cal is not None:
        build["calibration"] = {**cal.describe(), "sha256": cal.sha256}
    t0 = time.perf_counter()
    backend = AutoBackend(str(engine), device=device, fp16=cell.precision == "fp16", verbose=False)
    build["load_s"] = round(time.perf_counter() - t0, 3)
    try:
        build["trtexec"] = T.run_trtexec(engine)
    except (BenchmarkError, OSError, subprocess.TimeoutExpired) as e:
        build["trtexec"] = {"error": str(e)}
    facts["artifact_bytes"] = engine.stat().st_size
    return LoadedVariant(backend, device, bool(getattr(backend, "fp16", False)), "tensorrt", engine, weights,
                         facts, build, person)


# ONNX Runtime's worker threads busy-wait after each run by default; on a small
# CPU that steals cycles from the pre/post stages we time (and from inference
# when the machine is shared), so sessions are created without spinning.
ORT_SESSION_CONFIG = {"session.intra_op.allow_spinning": "0", "session.inter_op.allow_spinning": "0"}


def _onnx_autobackend():
    """AutoBackend whose ONNX sessions use ORT_SESSION_CONFIG."""
    import functools

    import onnxruntime
    from ultralytics.nn.autobackend import AutoBackend
    from ultralytics.nn.backends.onnx import ONNXBackend

    opts = onnxruntime.SessionOptions()
    for k, v in ORT_SESSION_CONFIG.items():
        opts.add_session_config_entry(k, v)

    class _Backend(AutoBackend):
        _BACKEND_MAP = {**AutoBackend._BACKEND_MAP, "onnx": functools.partial(ONNXBackend, session_options=opts)}

    return _Backend


def _session(backend):
    inner = getattr(backend, "backend", None)
    return getattr(inner, "session", None) or getattr(backend, "session", None)


def _onnx_provider(backend) -> str:
    sess = _session(backend)
    return sess.get_providers()[0] if sess is not None else "unknown"


def _onnx_wants_fp16(backend) -> bool:
    sess = _session(backend)
    return bool(sess is not None and "float16" in sess.get_inputs()[0].type)
