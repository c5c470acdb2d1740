"""Structured (channel) pruning of YOLOv8 / YOLO11 / YOLO26 with torch-pruning.

torch-pruning cannot follow the ``chunk`` inside C2f (and C3k2, its YOLO11/26
subclass): it fails with an IndexError, which is why the seed notebook printed
SKIP. Each C2f is first rewritten as ``C2fSplit``, whose two halves come from
two 1x1 convolutions (the original conv's weights, split) -- numerically the
same block, but one the dependency graph understands. Pruning (the suite's
``pruning.method``: L1 magnitude by default, group L2 or BatchNorm scale)
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
    """C2f with its first 1x1 conv split in two (cv0 -> first half, cv1 -> second half).

    Also made from a ``C2fMerged`` (a pruned model pruned again), whose halves may differ in size."""

    def __init__(self, src: nn.Module) -> None:
        super().__init__()
        c0, c1 = (src.c0, src.c1) if isinstance(src, C2fMerged) else (src.c, src.c)
        self.c = c0
        self.cv0 = _conv_slice(src.cv1, 0, c0)
        self.cv1 = _conv_slice(src.cv1, c0, c0 + c1)
        self.cv2 = src.cv2
        self.m = src.m
        for attr in ("f", "i", "type", "np"):  # ultralytics' bookkeeping on top-level layers
            if hasattr(src, attr):
                setattr(self, attr, getattr(src, attr))

    def forward(self, x):
        y = [self.cv0(x), self.cv1(x)]
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class C2fMerged(nn.Module):
    """A pruned C2fSplit with its two first convs joined again: one 1x1 conv whose output is split in two
    (sizes ``c0``, ``c1``: after pruning they may differ) -- numerically the same, one kernel fewer."""

    def __init__(self, src: C2fSplit) -> None:
        super().__init__()
        self.c0, self.c1 = src.cv0.conv.out_channels, src.cv1.conv.out_channels
        self.cv1 = _conv_concat(src.cv0, src.cv1)
        self.cv2 = src.cv2
        self.m = src.m
        for attr in ("f", "i", "type", "np"):
            if hasattr(src, attr):
                setattr(self, attr, getattr(src, attr))

    def forward(self, x):
        y = list(self.cv1(x).split((self.c0, self.c1), 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


def _conv_concat(a: nn.Module, b: nn.Module) -> nn.Module:
    """One ultralytics Conv (conv + bn + act) with ``a``'s output channels, then ``b``'s (same input, kernel)."""
    new = copy.deepcopy(a)
    with torch.no_grad():
        new.conv.weight = nn.Parameter(torch.cat([a.conv.weight, b.conv.weight]))
        if a.conv.bias is not None:
            new.conv.bias = nn.Parameter(torch.cat([a.conv.bias, b.conv.bias]))
        new.conv.out_channels = a.conv.out_channels + b.conv.out_channels
        for name in ("weight", "bias"):
            setattr(new.bn, name, nn.Parameter(torch.cat([getattr(a.bn, name), getattr(b.bn, name)])))
        new.bn.running_mean = torch.cat([a.bn.running_mean, b.bn.running_mean])
        new.bn.running_var = torch.cat([a.bn.running_var, b.bn.running_var])
        new.bn.num_features = new.conv.out_channels
    return new


def merge_c2f(model: nn.Module) -> int:
    """Replace every C2fSplit in place by a C2fMerged; returns how many."""
    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, C2fSplit):
                setattr(parent, name, C2fMerged(child))
                count += 1
    return count


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
    """Replace every C2f (and subclass, e.g. C3k2) and C2fMerged in place; returns how many."""
    from ultralytics.nn.modules.block import C2f

    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, (C2f, C2fMerged)):
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


def prunable_channels(model: nn.Module) -> int:
    """Output channels of the convolutions pruning may touch (outside the protected modules)."""
    protected = {id(m) for p in _protected(model) for m in p.modules()}
    return sum(m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d) and id(m) not in protected)


def _method(method: str, tp):
    """The importance criterion and pruner class of a ``pruning.method``."""
    if method == "l1":  # the seeds': L1 magnitude, each layer its own ratio
        return tp.importance.MagnitudeImportance(p=1), tp.pruner.MagnitudePruner
    if method == "l2_group":  # torch-pruning's YOLOv8 example: group L2 norm, GroupNormPruner
        return tp.importance.GroupMagnitudeImportance(p=2), tp.pruner.GroupNormPruner
    if method == "bn_scale":  # network slimming's criterion: |BatchNorm gamma|
        return tp.importance.BNScaleImportance(), tp.pruner.MagnitudePruner
    raise BenchmarkError(f"pruning.method {method!r}: unknown", "use l1, l2_group or bn_scale")


def prune_model(model: nn.Module, ratio: float, imgsz: int = PRUNE_IMGSZ, method: str = "l1",
                round_to: int | None = ROUND_TO, iterative_steps: int = 1, also_ignored: tuple = ()) -> nn.Module:
    """Channel pruning of ``model`` (a DetectionModel) at ``ratio``, in place; returns it.

    ``also_ignored``: modules whose output channels stay (beyond the protected head and attention blocks).
    """
    import torch_pruning as tp

    if not 0 < ratio < 1:
        raise BenchmarkError(f"prune_ratio {ratio}: must be between 0 and 1", "use e.g. 0.3 for 30 % of channels")
    split_c2f(model)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(True)
    example = torch.zeros(1, 3, imgsz, imgsz)
    importance, pruner_cls = _method(method, tp)
    try:
        pruner = pruner_cls(
            model, example, importance=importance, pruning_ratio=ratio, iterative_steps=iterative_steps,
            ignored_layers=[*_protected(model), *also_ignored], round_to=round_to,
            output_transform=lambda out: out[0] if isinstance(out, (list, tuple)) else out,
        )
        for _ in range(iterative_steps):
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


def pruned_weights(src: Weights, ratio: float, imgsz: int, cfg=None) -> PruneResult:
    """Prune ``src`` at ``ratio`` once (cached by content) and describe before/after.

    ``cfg``: the suite's ``pruning`` block (method, round_to, iterative_steps; default the seeds' L1, round to 8).
    The facts carry the asked ratio and the achieved one: the share of prunable channels removed, which
    rounding to multiples of ``round_to`` makes larger than asked at small ratios.
    """
    from ultralytics import YOLO

    from harness.config.suite import Pruning

    cfg = cfg or Pruning()
    params_before, gflops_before, channels_before = structure(src.path, src.sha256, imgsz)
    facts = {"ratio": ratio, "method": cfg.method, "round_to": cfg.round_to, "iterative_steps": cfg.iterative_steps,
             "params_before": params_before, "gflops_before": gflops_before,
             "file_bytes_before": src.path.stat().st_size}

    def build(tmp: Path) -> None:
        model = prune_model(YOLO(str(src.path)).model, ratio, method=cfg.method, round_to=cfg.round_to,
                            iterative_steps=cfg.iterative_steps)
        save_checkpoint(model, tmp, f"pruned {ratio:.0%} ({cfg.method}, round to {cfg.round_to}, "
                        f"torch-pruning {_tp_version()}) from {src.path.name}")

    tag = "" if (cfg.method, cfg.round_to, cfg.iterative_steps) == ("l1", ROUND_TO, 1) else \
        f"-{cfg.method}-r{cfg.round_to or 1}-s{cfg.iterative_steps}"
    entry = ContentCache("pruned").entry(lambda key: f"{src.path.stem}-p{round(ratio * 100):02d}{tag}-{key}.pt",
                                         (src.sha256, ratio, f"tp={_tp_version()}", f"r{cfg.round_to}", cfg.method,
                                          cfg.iterative_steps), build)
    out = entry.path
    facts.update(entry.facts())
    sha = file_sha256(out)
    params_after, gflops_after, channels_after = structure(out, sha, imgsz)
    facts.update(params_after=params_after, gflops_after=gflops_after, file_bytes_after=out.stat().st_size,
                 channel_ratio=round(1 - channels_after / channels_before, 4) if channels_before else None)
    return PruneResult(Weights(out, src.provenance, f"pruned:{src.source}", sha), facts)


def _gflops(v) -> float | None:
    return round(float(v), 3) if v else None


_STRUCTURE: dict[tuple[str, int], tuple[int, float | None, int]] = {}


def structure(path: Path, sha256: str, imgsz: int) -> tuple[int, float | None, int]:
    """(parameters, GFLOPs at ``imgsz``, prunable output channels) of a weights file, measured once per content and
    size in this process: the repeats of a run ask for the same files again, and each answer is a model load and a
    profiling pass (~0.2 s for a YOLOv8s)."""
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    key = (sha256, imgsz)
    if key not in _STRUCTURE:
        model = YOLO(str(path)).model
        _STRUCTURE[key] = (count_params(model), _gflops(get_flops(model, imgsz)), prunable_channels(model))
    return _STRUCTURE[key]
