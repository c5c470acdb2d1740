"""ONNX Runtime: fp32/fp16 exported through ultralytics (cached by content); int8 as a calibrated QDQ model."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from harness.errors import BenchmarkError
from harness.cache import ContentCache, scratch_dir
from harness.models.backends.base import CellSkipped, LoadedVariant, Prepared
from harness.models.weights import Weights

# ONNX Runtime's worker threads busy-wait after each run by default; on a small
# CPU that steals cycles from the pre/post stages we time (and from inference
# when the machine is shared), so sessions are created without spinning.
ORT_SESSION_CONFIG = {"session.intra_op.allow_spinning": "0", "session.inter_op.allow_spinning": "0"}


def unsupported(cell, device) -> str | None:  # noqa: ARG001 - every precision runs (int8 after calibration)
    return None


def export(weights: Weights, imgsz: int, precision: str, device) -> tuple[Path, dict]:
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


def load(p: Prepared) -> LoadedVariant:
    cell = p.cell
    onnx_path, build = export(p.weights, p.imgsz, "fp32" if cell.precision == "int8" else cell.precision, p.device)
    if cell.precision == "int8":
        if p.calibration is None:
            raise CellSkipped("ONNX int8 needs calibration frames (run it through `harness run`)")
        from harness.models.backends.support.onnx_int8 import quantize_int8

        onnx_path, qinfo = quantize_int8(onnx_path, p.calibration(), p.imgsz)
        build = {**build, "int8": qinfo}
    t0 = time.perf_counter()
    backend = _autobackend()(str(onnx_path), device=p.device, fp16=False, verbose=False)
    build["ort_session_config"] = dict(ORT_SESSION_CONFIG)
    build["ort_threads"] = {"intra_op": _session_threads(backend), "inter_op": 1}
    build["load_s"] = round(time.perf_counter() - t0, 3)
    p.facts["artifact_bytes"] = onnx_path.stat().st_size
    # The fp16 ONNX graph takes fp32 inputs only if exported so; feed what it declares.
    return LoadedVariant(backend, p.device, _wants_fp16(backend), _provider(backend), onnx_path, p.weights, p.facts,
                         build, p.person_class)


def _autobackend():
    """AutoBackend whose ONNX sessions use ORT_SESSION_CONFIG."""
    import functools

    import onnxruntime
    from ultralytics.nn.autobackend import AutoBackend
    from ultralytics.nn.backends.onnx import ONNXBackend

    import torch

    opts = onnxruntime.SessionOptions()
    for k, v in ORT_SESSION_CONFIG.items():
        opts.add_session_config_entry(k, v)
    opts.intra_op_num_threads = torch.get_num_threads()  # the run's thread choice (measure.threads), as for torch
    opts.inter_op_num_threads = 1  # the sequential executor runs one node at a time

    class _Backend(AutoBackend):
        _BACKEND_MAP = {**AutoBackend._BACKEND_MAP, "onnx": functools.partial(ONNXBackend, session_options=opts)}

    return _Backend


def _session(backend):
    inner = getattr(backend, "backend", None)
    return getattr(inner, "session", None) or getattr(backend, "session", None)


def _session_threads(backend) -> int | None:
    """The intra-op threads the session was created with (its options), None if not readable."""
    sess = _session(backend)
    try:
        return int(sess.get_session_options().intra_op_num_threads) if sess is not None else None
    except Exception:  # noqa: BLE001 - an older onnxruntime without get_session_options
        return None


def _provider(backend) -> str:
    sess = _session(backend)
    return sess.get_providers()[0] if sess is not None else "unknown"


def _wants_fp16(backend) -> bool:
    sess = _session(backend)
    return bool(sess is not None and "float16" in sess.get_inputs()[0].type)
