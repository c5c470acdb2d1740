"""Recovering a pruned model without training: BatchNorm statistics corrected on unlabelled images (``recovery: bn``).

Removing channels changes what every following layer sees, while each BatchNorm's running mean and variance
still describe the unpruned network. ``recovery: bn`` measures, on a few hundred unlabelled images (forward
passes only, no gradient, seconds), how pruning moved each BatchNorm's input -- the unpruned and the pruned
network on the same images -- and moves the running statistics by that much: the mean by the difference, the
variance by the ratio (clamped to [2/3, 1.5]). Re-estimating the statistics from scratch on the images instead (the
"adaptive BN" of EagleEye, ECCV 2020) also replaces what training measured with what a few hundred frames of one
sequence show; on the reference detector that alone costs the *unpruned* model 0.10 F1 (0.799 -> 0.69-0.71), and
pruned 10 % it recovers 0.55-0.65 where the transferred shift recovers 0.69-0.75 of 0.82 (docs/pruning.md, "Pruning,
measured"). The images are the INT8 calibration frames (``models.calibration``: never the evaluated ones); the
result is cached by content (pruned and unpruned weights, images, imgsz), like the pruned weights themselves.
The fine-tune recipe (``models.finetune``) ends with a plain re-estimation on its training images
(``recalibrate_bn``): after training there is no unpruned network whose statistics still apply.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

from harness.cache import ContentCache
from harness.errors import BenchmarkError
from harness.fsutil import file_sha256, files_sha256
from harness.models.weights import Weights

BN_BATCH = 16


def _batches(images: list[Path], imgsz: int, batch: int):
    """Letterboxed RGB float batches of ``images`` (as the pipeline feeds the model)."""
    import cv2
    import numpy as np
    import torch

    from harness.mot.letterbox import letterbox

    for i in range(0, len(images), batch):
        frames = [letterbox(cv2.imread(str(p)), imgsz)[0][:, :, ::-1] for p in images[i:i + batch]]
        yield torch.from_numpy(np.ascontiguousarray(np.stack(frames))).permute(0, 3, 1, 2).float() / 255


def recalibrate_bn(model, images: list[Path], imgsz: int, batch: int = 16) -> int:
    """Re-estimate every BatchNorm's running mean and variance on ``images`` (letterboxed, no gradient).

    One train-mode pass, each BN's statistics averaged over batches of frames drawn from across the set (an
    eval-mode refinement, each layer's statistics re-measured under its predecessors' running statistics, was
    tried on the reference detector pruned 10 % and changed F1 by less than the noise: 0.632 -> 0.622). For
    pruning without training ``transfer_bn_shift`` does better: it keeps what training measured.

    A short fine-tune moves the weights further than BN's running statistics follow (ultralytics' BN
    momentum is 0.03: after 26 steps they have moved about half-way), so a pruned-and-fine-tuned model
    validated with the trainer's statistics scores far below what its weights can do; measured on the
    reference detector pruned 30 % after one epoch: mAP50 0.19 with the trainer's statistics, 0.79
    re-estimated. Returns how many images were used.
    """
    bns = list(_bns(model).values())
    if not bns or not images:
        return 0
    # batches of frames from across the set, not runs of consecutive (near-identical) video frames: each batch's
    # statistics then stand for the whole set, as training's shuffled batches do (fixed seed: reproducible)
    images = random.Random(0).sample(list(images), len(images))
    for m in bns:
        m.reset_running_stats()
    _forward_in_train_mode(model, bns, None, images, imgsz, batch)  # None: a cumulative average over every batch
    return len(images)


def _forward_in_train_mode(model, bns: list, momentum: float | None, images: list[Path], imgsz: int,
                           batch: int) -> None:
    """Every batch of ``images`` through ``model`` in train mode without gradient, each BatchNorm's momentum set to
    ``momentum`` meanwhile (None: a cumulative average; 0: statistics left as they are); both restored after."""
    import torch

    saved = [m.momentum for m in bns]
    was_training = model.training
    for m in bns:
        m.momentum = momentum
    model.train()
    try:
        with torch.no_grad():
            for x in _batches(images, imgsz, batch):
                model(x)
    finally:
        for m, mom in zip(bns, saved):
            m.momentum = mom
        model.train(was_training)


# A variance moved by more than this factor is no longer a shift the unpruned statistics can carry. Measured on
# the reference pruned 10 % (F1 on the seed-7 sequence, unpruned 0.80): 1.25 -> 0.70, 1.5 -> 0.74, 2 -> 0.71,
# 3 -> 0.69, none (the variance left as trained) -> 0.03; the demo sequence (docs/pruning.md) confirms 1.5.
VAR_RATIO_CLAMP = 1.5


def _bns(model) -> dict:
    import torch

    return {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}


def bn_input_moments(model, images: list[Path], imgsz: int, batch: int = BN_BATCH) -> dict:
    """Per BatchNorm (by module name): the per-channel mean and variance of its input over ``images``.

    Measured in train mode, so that every BatchNorm normalises by its batch and a layer's input does not depend on
    the (stale) running statistics above it; the running statistics are left as they were (momentum 0)."""
    bns = _bns(model)
    sums = {n: [0, 0.0, 0.0] for n in bns}

    def hook(name):
        def pre(_module, inputs):
            x = inputs[0].detach().double().transpose(0, 1).reshape(inputs[0].shape[1], -1)
            acc = sums[name]
            acc[0] += x.shape[1]
            acc[1] = acc[1] + x.sum(1)
            acc[2] = acc[2] + (x * x).sum(1)
        return pre

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in bns.items()]
    try:
        _forward_in_train_mode(model, list(bns.values()), 0.0, images, imgsz, batch)
    finally:
        for h in handles:
            h.remove()
    out = {}
    for n, (count, s, ss) in sums.items():
        if count:
            mean = s / count
            out[n] = (mean, (ss / count - mean * mean).clamp_min(1e-12))
    return out


def matched_channels(unpruned_bn, pruned_bn, name: str) -> list[int]:
    """The unpruned channel each pruned channel of one BatchNorm came from (pruning keeps a channel's affine
    parameters and statistics, bit for bit)."""
    def key(m, i):
        return tuple(float(getattr(m, a)[i].detach()) for a in ("weight", "bias", "running_mean", "running_var"))

    where: dict = {}
    for i in range(unpruned_bn.num_features):
        where.setdefault(key(unpruned_bn, i), []).append(i)
    try:
        return [where[key(pruned_bn, j)].pop(0) for j in range(pruned_bn.num_features)]
    except (KeyError, IndexError):
        raise BenchmarkError(f"recovery: bn: BatchNorm {name} of the pruned model has channels the unpruned one "
                             "lacks", "recovery: bn applies to weights straight from pruning; re-prune from the "
                             "unpruned weights (a fine-tuned model uses recovery: finetune)") from None


def transfer_bn_shift(unpruned, pruned, images: list[Path], imgsz: int, clamp: float = VAR_RATIO_CLAMP) -> int:
    """Move each BatchNorm's running statistics of ``pruned`` by how pruning moved its input on ``images``.

    ``unpruned`` is the model ``pruned`` was pruned from (left unchanged); returns how many images were used."""
    import torch

    from harness.models.prune import split_c2f

    if not images:
        return 0
    reference = copy.deepcopy(unpruned)
    split_c2f(reference)  # pruning split every C2f: the same module names
    before, after = _bns(reference), _bns(pruned)
    if set(before) != set(after):
        raise BenchmarkError("recovery: bn: the pruned model's BatchNorm layers are not the unpruned model's",
                             "recovery: bn applies to weights pruned from the model it is given")
    kept = {n: matched_channels(before[n], m, n) for n, m in after.items()}
    moments_before = bn_input_moments(reference, images, imgsz)
    moments_after = bn_input_moments(pruned, images, imgsz)
    with torch.no_grad():
        for n, m in after.items():
            if n not in moments_after:
                continue  # never reached by a forward pass
            mean_u, var_u = (t[kept[n]] for t in moments_before[n])
            mean_p, var_p = moments_after[n]
            ratio = (var_p / var_u).clamp(1 / clamp, clamp)
            m.running_mean.copy_(before[n].running_mean[kept[n]] + (mean_p - mean_u).to(m.running_mean.dtype))
            m.running_var.copy_(before[n].running_var[kept[n]] * ratio.to(m.running_var.dtype))
    return len(images)


def bn_recovered(weights: Weights, unpruned: Weights, images: list[Path], imgsz: int,
                 source: str) -> tuple[Weights, dict]:
    """``weights`` (pruned from ``unpruned``) with every BatchNorm's statistics moved by the shift pruning caused on
    ``images`` at ``imgsz``; cached by content. Returns the new weights and the record's ``pruning.recovery`` facts
    (``source`` says where the images came from)."""
    import torch

    from harness.models.prune import save_checkpoint

    facts = {"method": "bn", "images": len(images), "source": source, "imgsz": imgsz,
             "estimator": f"shift from the unpruned model, variance ratio within [{1 / VAR_RATIO_CLAMP:.3g}, "
                          f"{VAR_RATIO_CLAMP:g}]"}

    def build(tmp: Path) -> None:
        from ultralytics import YOLO

        model = YOLO(str(weights.path)).model.float()
        with torch.inference_mode(False):
            transfer_bn_shift(YOLO(str(unpruned.path)).model.float(), model, images, imgsz)
        save_checkpoint(model.eval(), tmp, f"BatchNorm statistics shifted as pruning moved them on {len(images)} "
                                           f"images ({source}) at imgsz {imgsz}, from {weights.path.name}")

    entry = ContentCache("pruned").entry(lambda key: f"{weights.path.stem}-bn-{key}.pt",
                                         (weights.sha256, unpruned.sha256, files_sha256(images), len(images), imgsz,
                                          f"bn-shift-c{VAR_RATIO_CLAMP:g}"), build,
                                         label="correcting BatchNorm statistics")
    facts.update(entry.facts())
    return Weights(entry.path, weights.provenance, f"bn-recovered:{weights.source}", file_sha256(entry.path)), facts
