"""Structured (channel) pruning of YOLOv8 / YOLO11 / YOLO26 with torch-pruning.

torch-pruning cannot follow the ``chunk`` inside C2f (and C3k2, its YOLO11/26
subclass): it fails with an IndexError, which is why the seed notebook printed
SKIP. Each C2f is first rewritten as ``C2fSplit``, whose two halves come from
two 1x1 convolutions (the original conv's weights, split) -- numerically the
same block, but one the dependency graph understands. L1-magnitude pruning
then removes whole channels; the detection head and attention blocks (C2PSA,
whose reshapes assume a head count) are protected. The result is structurally
smaller (params, GFLOPs, file size all drop) and is saved as an ultralytics
checkpoint that ``YOLO(path)`` loads and exports (ONNX, TensorRT).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from harness.cache import ContentCache
from harness.fsutil import file_sha256
from harness.models.weights import Weights
from harness.errors import BenchmarkError

PRUNE_IMGSZ = 320  # tracing size; the pruned structure does not depend on it
ROUND_TO = 8  # keep channel counts multiples of 8 (tensor-core friendly)


class C2fSplit(nn.Module):
    """C2f with its first 1x1 conv split in two (cv0 -> first half, cv1 -> second half)."""

    def __init__(self, src: nn.Module) -> None:
        super().__init__()
        c = src.c
        self.c = c
        self.cv0 = _conv_slice(src.cv1, 0, c)
        self.cv1 = _conv_slice(src.cv1, c, 2 * c)
        self.cv2 = src.cv2
        self.m = src.m
        for attr in ("f", "i", "type", "np"):  # ultralytics' bookkeeping on top-level layers
            if hasattr(src, attr):
                setattr(self, attr, getattr(src, attr))

    def forward(self, x):
        y = [self.cv0(x), self.cv1(x)]
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


def _conv_slice(conv: nn.Module, lo: int, hi: int) -> nn.Module:
    """A copy of an ultralytics Conv (conv + bn + act) keeping output channels [lo, hi)."""
    new = copy.deepcopy(conv)
    with torch.no_grad():
        new.conv.weight = nn.Parameter(conv.conv.weight[lo:hi].clone())
        if conv.conv.bias is not None:
            new.conv.bias = nn.Parameter(conv.conv.bias[lo:hi].clone())
        new.conv.out_channels = hi - lo
        bn = new.bn
        bn.weight = nn.Parameter(conv.bn.weight[lo:hi].clone())
        bn.bias = nn.Parameter(conv.bn.bias[lo:hi].clone())
        bn.running_mean = conv.bn.running_mean[lo:hi].clone()
        bn.running_var = conv.bn.running_var[lo:hi].clone()
        bn.num_features = hi - lo
    return new


def split_c2f(model: nn.Module) -> int:
    """Replace every C2f (and subclass, e.g. C3k2) in place; returns how many."""
    from ultralytics.nn.modules.block import C2f

    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, C2f):
                setattr(parent, name, C2fSplit(child))
                count += 1
    return count


def _protected(model: nn.Module) -> list[nn.Module]:
    from ultralytics.nn.modules.block import C2PSA, PSABlock
    from ultralytics.nn.modules.head import Detect

    keep = [m for m in model.modules() if isinstance(m, (Detect, C2PSA, PSABlock))]
    try:
        from ultralytics.nn.modules.block import A2C2f, AAttn

        keep += [m for m in model.modules() if isinstance(m, (A2C2f, AAttn))]
    except ImportError:
        pass
    return keep


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def prune_model(model: nn.Module, ratio: float, imgsz: int = PRUNE_IMGSZ) -> nn.Module:
    """L1 channel pruning of ``model`` (a DetectionModel) at ``ratio``, in place; returns it."""
    import torch_pruning as tp

    if not 0 < ratio < 1:
        raise BenchmarkError(f"prune_ratio {ratio}: must be between 0 and 1", "use e.g. 0.3 for 30 % of channels")
    split_c2f(model)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(True)
    example = torch.zeros(1, 3, imgsz, imgsz)
    try:
        pruner = tp.pruner.MagnitudePruner(
            model, example, importance=tp.importance.MagnitudeImportance(p=1), pruning_ratio=ratio,
            ignored_layers=_protected(model), round_to=ROUND_TO,
            output_transform=lambda out: out[0] if isinstance(out, (list, tuple)) else out,
        )
        pruner.step()
    except Exception as e:  # noqa: BLE001 - torch-pruning raises many kinds
        raise BenchmarkError(f"torch-pruning failed at ratio {ratio}: {type(e).__name__}: {e}",
                             "report the model architecture; other ratios may still work") from e
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        model(example)  # the pruned graph must still run
    return model


@dataclass(frozen=True)
class PruneResult:
    weights: Weights
    facts: dict


def save_checkpoint(model: nn.Module, out: Path, note: str) -> None:
    """Save as an ultralytics checkpoint (``YOLO(out)`` loads it) to ``out`` (callers stage it)."""
    import ultralytics

    ckpt = {"model": copy.deepcopy(model).half(), "train_args": {}, "version": ultralytics.__version__,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "harness": note}
    torch.save(ckpt, str(out))


def _tp_version() -> str:
    from importlib import metadata

    return metadata.version("torch-pruning")


def pruned_weights(src: Weights, ratio: float, imgsz: int) -> PruneResult:
    """Prune ``src`` at ``ratio`` once (cached by content) and describe before/after."""
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    before = YOLO(str(src.path)).model
    facts = {"ratio": ratio, "params_before": count_params(before), "gflops_before": _gflops(get_flops(before, imgsz)),
             "file_bytes_before": src.path.stat().st_size}

    def build(tmp: Path) -> None:
        model = prune_model(copy.deepcopy(before), ratio)
        save_checkpoint(model, tmp, f"pruned {ratio:.0%} (L1, torch-pruning {_tp_version()}) from {src.path.name}")

    entry = ContentCache("pruned").entry(lambda key: f"{src.path.stem}-p{round(ratio * 100):02d}-{key}.pt",
                                         (src.sha256, ratio, f"tp={_tp_version()}", f"r{ROUND_TO}"), build)
    out = entry.path
    facts.update(entry.facts())
    after = YOLO(str(out)).model
    facts.update(params_after=count_params(after), gflops_after=_gflops(get_flops(after, imgsz)),
                 file_bytes_after=out.stat().st_size)
    return PruneResult(Weights(out, src.provenance, f"pruned:{src.source}", file_sha256(out)), facts)


def _gflops(v) -> float | None:
    return round(float(v), 3) if v else None
