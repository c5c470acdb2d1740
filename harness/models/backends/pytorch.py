"""PyTorch: the ultralytics model itself, fused, fp32 (fp16 on CUDA)."""

from __future__ import annotations

import time

from harness.models.backends.base import LoadedVariant, Prepared


def unsupported(cell, device) -> str | None:
    if cell.precision == "int8":
        return "pytorch int8 is not available here (INT8 runs as ONNX QDQ on CPUs, as TensorRT on GPUs)"
    if cell.precision == "fp16" and device.type != "cuda":
        return "PyTorch fp16 needs a CUDA device; CPU half-precision is not a deployment target"
    return None


def load(p: Prepared) -> LoadedVariant:
    from ultralytics.nn.autobackend import AutoBackend

    fp16 = p.cell.precision == "fp16"
    t0 = time.perf_counter()
    backend = AutoBackend(p.torch_model, device=p.device, fp16=fp16, fuse=True, verbose=False).eval()
    p.facts["artifact_bytes"] = p.facts["weights_file_bytes"]
    return LoadedVariant(backend, p.device, fp16, "torch", p.weights.path, p.weights, p.facts,
                         {"load_s": round(time.perf_counter() - t0, 3)}, p.person_class)
