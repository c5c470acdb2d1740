"""Turning a Cell into something that runs: weights -> pruning -> fine-tuning -> the format's backend.

Supported: PyTorch fp32 (fp16 on CUDA), ONNX Runtime fp32/fp16 (exported through
ultralytics, cached by content), ONNX int8 (static QDQ, calibrated), TensorRT
fp16/int8 where it is installed, structured pruning at any ratio and
fine-tuning combined with any of those (``models/backends/``, one module per
format; plugins add formats through ``harness.extensions``). Everything else is *skipped with the reason*, never
silently dropped.
"""

from __future__ import annotations

from harness.config.suite import Cell
from harness.errors import BenchmarkError
from harness.models import backends
from harness.models.backends.base import CellSkipped, LoadedVariant, Prepared
from harness.models.weights import Weights, WeightsPolicy, resolve_weights

__all__ = ["CellSkipped", "LoadedVariant", "load_variant", "pick_device", "unsupported_reason"]


def pick_device(compute: str):
    """torch.device for a profile's ``compute`` (auto: CUDA when available)."""
    import torch

    if compute == "cuda" and not torch.cuda.is_available():
        raise BenchmarkError("profile asks for compute: cuda but torch sees no CUDA device", "use a CPU profile (local, desktop-cpu) or fix the CUDA install")
    if compute == "cuda" or (compute == "auto" and torch.cuda.is_available()):
        return torch.device("cuda:0")
    return torch.device("cpu")


def unsupported_reason(cell: Cell, device) -> str | None:
    """Why the cell's format/precision cannot run on ``device``, or None (asked before any weights are loaded)."""
    return backends.for_format(cell.format).unsupported(cell, device)


def format_matrix(compute: str = "auto") -> list[dict]:
    """Every export format and precision with whether it runs here and why not, and where the format comes from
    (``harness models formats``); a plugin that does not load is listed as unavailable with its error."""
    from typing import get_args

    from harness.config.compression import VariantSpec
    from harness.extensions import format_entries

    device = pick_device(compute)
    rows = []
    for ext in format_entries():
        for precision in get_args(VariantSpec.model_fields["precision"].annotation):  # what a suite may ask for
            why = ext.problem or _asked(ext, Cell("formats", "yolov8n", ext.name, precision), device)
            rows.append({"format": ext.name, "precision": precision, "origin": ext.origin, "device": str(device),
                         "available": why is None, "reason": why or ""})
    return rows


def _asked(ext, cell: Cell, device) -> str | None:
    """``unsupported`` of one format; a plugin that fails to load or to answer is unavailable with its error."""
    try:
        return unsupported_reason(cell, device)
    except Exception as e:  # noqa: BLE001 - a plugin may raise anything
        if ext.builtin:
            raise
        return getattr(e, "message", None) or f"{type(e).__name__}: {e}"


def _person_class(names: dict | list | None) -> int:
    if isinstance(names, dict):
        for k, v in names.items():
            if str(v).lower() == "person":
                return int(k)
    return 0  # COCO order: class 0 is person


def _model_facts(imgsz: int, weights: Weights) -> dict:
    from harness.models.prune import structure

    params, gflops, _ = structure(weights.path, weights.sha256, imgsz)
    return {
        "params": int(params),
        "gflops": gflops,
        "weights_file_bytes": weights.path.stat().st_size,
        "weights_provenance": weights.provenance,
        "weights_source": weights.source,
        "weights_sha256": weights.sha256,
        "weights_path": str(weights.path),
    }


def _bn_recovered(weights, unpruned, imgsz: int, calibration, n_images: int):
    """``recovery: bn`` on ``weights`` pruned from ``unpruned``, with the first ``n_images`` INT8 calibration frames."""
    if calibration is None:
        raise CellSkipped("recovery: bn needs the calibration frames (run it through `harness run`)")
    from harness.models.recovery import bn_recovered

    cal = calibration()
    images = list(cal.paths[:n_images])
    described = cal.describe()
    source = f"{described['source']} of {described['sequence']}, frames {described['frames'][0]}-{described['frames'][1]}"
    return bn_recovered(weights, unpruned, images, imgsz, source)


def load_variant(cell: Cell, imgsz: int, compute: str = "auto", weights_policy: WeightsPolicy = "auto",
                 calibration=None, finetune_cfg=None, pruning_cfg=None) -> LoadedVariant:
    """Resolve weights, prune and fine-tune as the cell says, and load it with its format's backend.

    CellSkipped when it cannot run here. ``calibration`` is a callable returning the CalibrationSet,
    asked for only by INT8 cells and ``recovery: bn`` ones; ``finetune_cfg`` (a suite's ``finetune`` block) is used by fine-tuned cells,
    ``pruning_cfg`` (its ``pruning`` block: method, round_to, steps) by pruned ones.
    """
    device = pick_device(compute)
    reason = unsupported_reason(cell, device)
    if reason:
        raise CellSkipped(reason)
    weights = resolve_weights(cell.model, weights_policy)
    pruning = None
    if cell.prune_ratio > 0:
        from harness.config.suite import Pruning
        from harness.models.prune import pruned_weights

        pruning_cfg = pruning_cfg or Pruning()
        res = pruned_weights(weights, cell.prune_ratio, imgsz, pruning_cfg)
        unpruned, (weights, pruning) = weights, (res.weights, res.facts)
        if cell.recovery == "bn":
            weights, pruning["recovery"] = _bn_recovered(weights, unpruned, imgsz, calibration,
                                                         pruning_cfg.bn_images)
    tuning = None
    if cell.finetuned:
        if finetune_cfg is None or not finetune_cfg.data:
            raise CellSkipped("fine-tuning needs training data: set finetune.data in the suite to a data.yaml "
                              "from `harness data to-yolo` (other sequences than the evaluated one)")
        from harness.models.finetune import finetune

        weights, tuning = finetune(weights, finetune_cfg.data, finetune_cfg.epochs, finetune_cfg.imgsz or imgsz,
                                   finetune_cfg.batch, "0" if device.type == "cuda" else "cpu")
    from ultralytics import YOLO

    torch_model = YOLO(str(weights.path)).model.eval()
    facts = _model_facts(imgsz, weights)
    if pruning is not None:
        facts["pruning"] = pruning
    if tuning is not None:
        facts["finetune"] = tuning
    person = _person_class(getattr(torch_model, "names", None))
    prepared = Prepared(cell, imgsz, device, weights, torch_model, facts, person, calibration)
    variant = backends.for_format(cell.format).load(prepared)
    if not isinstance(variant, LoadedVariant):
        raise BenchmarkError(f"format {cell.format!r} ({backends.origin(cell.format)}) returned "
                             f"{type(variant).__name__}, not a LoadedVariant",
                             "see docs/plugins.md: load(prepared) returns models.backends.base.LoadedVariant")
    variant.origin = backends.origin(cell.format)
    return variant
