"""Fine-tuning (after pruning, the seed notebook's missing step) with ultralytics' trainer.

ultralytics' trainer normally rebuilds the model from its YAML and copies the
weights over -- which would silently undo pruning. ``_KeepModelTrainer``
hands it the loaded (possibly pruned) model itself. Training data is a
YOLO-format dataset (``harness data to-yolo``), by default from other
sequences than the evaluated one. The recipe is for repairing trained weights,
not training from scratch: AdamW at 0.0005, no warm-up (a short fine-tune would
otherwise be all warm-up), then the BatchNorm statistics re-estimated on the
training images (``recalibrate_bn``). The result is cached by content (weights,
dataset, epochs, imgsz, batch, recipe).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from harness.cache import ContentCache, scratch_dir
from harness.fsutil import file_sha256
from harness.models.recovery import recalibrate_bn
from harness.models.weights import Weights
from harness.errors import BenchmarkError

WARMUP_EPOCHS = 0
OPTIMIZER, LR0 = "AdamW", 0.0005  # gentle: the weights are trained, only pruning's damage is repaired


def _dataset_hash(data_yaml: Path) -> str:
    h = hashlib.sha256(data_yaml.read_bytes())
    root = data_yaml.parent
    for f in sorted((root / "labels").rglob("*.txt")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _dataset(data_yaml: Path) -> dict:
    """A data.yaml, read as every YAML file of the harness is (bounded), its ``names`` as a dict."""
    from harness.config.yamlio import read_yaml

    fix = "rebuild it with `harness data to-yolo SEQ... --out DIR`"
    data = read_yaml(data_yaml, BenchmarkError, "dataset", fix)
    if not isinstance(data, dict):
        raise BenchmarkError(f"{data_yaml}: not a YOLO data.yaml (a mapping with train, val, names)", fix)
    names = data.get("names") or {}
    data["names"] = dict(enumerate(names)) if isinstance(names, list) else dict(names)
    return data


def _matching_classes(data_yaml: Path, model_names, work: Path) -> Path:
    """``data_yaml``, or a copy naming the model's classes when the model has fewer (e.g. the one-class reference
    detector on a to-yolo dataset with the 80 COCO names): labels are person = 0 in both, so only the names differ."""
    import yaml

    data = _dataset(data_yaml)
    names = data["names"]
    if not isinstance(model_names, dict) or len(model_names) >= len(names):
        return data_yaml
    if str(model_names.get(0, "")).lower() != str(names.get(0)).lower():
        raise BenchmarkError(f"{data_yaml}: class 0 is {names.get(0)!r} but the model's class 0 is "
                             f"{model_names.get(0)!r}", "fine-tune on a person dataset (to-yolo)")
    data.update(names=dict(model_names), path=str(Path(data.get("path") or data_yaml.parent).resolve()))
    out = work / f"{data_yaml.stem}-{len(model_names)}cls.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def _train_images(data_yaml: Path, limit: int) -> list[Path]:
    data = _dataset(data_yaml)
    root = Path(data.get("path") or data_yaml.parent)
    train = root / data.get("train", "images/train")
    return sorted(p for p in train.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:limit]


def recalibrate_checkpoint(path: Path, data_yaml: Path, imgsz: int, limit: int = 256) -> int:
    """``recalibrate_bn`` on an ultralytics checkpoint in place (its ``model``, and ``ema`` when present)."""
    import torch

    ckpt = torch.load(str(path), map_location="cpu", weights_only=False)
    images = _train_images(data_yaml, limit)
    n = 0
    for key in ("model", "ema"):
        m = ckpt.get(key)
        if m is not None:
            half = next(m.parameters()).dtype == torch.float16
            m = m.float()
            n = recalibrate_bn(m, images, imgsz)
            ckpt[key] = m.half() if half else m
    torch.save(ckpt, str(path))
    return n


def finetune(weights: Weights, data_yaml: str | Path, epochs: int, imgsz: int, batch: int, device: str = "cpu") -> tuple[Weights, dict]:
    """Train ``weights`` for ``epochs`` on ``data_yaml``; returns the fine-tuned weights and what was done."""
    import ultralytics
    from ultralytics import YOLO
    from ultralytics.models.yolo.detect import DetectionTrainer

    data_yaml = Path(data_yaml)
    if not data_yaml.is_file():
        raise BenchmarkError(f"{data_yaml}: fine-tuning dataset not found",
                             "build one with `harness data to-yolo SEQ... --out DIR` and set finetune.data to DIR/data.yaml")
    facts = {"epochs": epochs, "imgsz": imgsz, "batch": batch, "data": str(data_yaml), "optimizer": OPTIMIZER,
             "lr0": LR0, "warmup_epochs": WARMUP_EPOCHS, "bn_recalibrated": True}

    def build(tmp: Path) -> None:
        model = YOLO(str(weights.path)).model

        class _KeepModelTrainer(DetectionTrainer):
            def get_model(self, cfg=None, weights=None, verbose=True):  # noqa: ARG002 - keep the given structure
                return model

        with scratch_dir(tmp.parent) as work:
            data = _matching_classes(data_yaml, getattr(model, "names", None), work)
            trainer = _KeepModelTrainer(overrides={
                "model": str(weights_path), "data": str(data), "epochs": epochs, "imgsz": imgsz, "batch": batch,
                "device": device, "workers": 0, "project": str(work), "name": "ft", "exist_ok": True, "plots": False,
                "amp": False, "verbose": False, "val": True, "seed": 0, "deterministic": True,
                "warmup_epochs": WARMUP_EPOCHS,  # a short fine-tune would otherwise be all warm-up (>= 100 iterations)
                "optimizer": OPTIMIZER, "lr0": LR0,
            })
            try:
                trainer.train()
            except Exception as e:  # noqa: BLE001 - training errors come in many kinds
                raise BenchmarkError(f"fine-tuning {weights_path.name} failed: {type(e).__name__}: {e}",
                                     "check the dataset (harness data check / to-yolo) and finetune settings") from e
            last = Path(trainer.last)
            if not last.is_file():
                raise BenchmarkError(f"fine-tuning {weights_path.name} wrote no checkpoint", "see the training log")
            recalibrate_checkpoint(last, data, imgsz)
            shutil.move(str(last), tmp)

    weights_path = weights.path
    entry = ContentCache("finetuned").entry(
        lambda key: f"{weights.path.stem}-ft{epochs}e-{key}.pt",
        (weights.sha256, _dataset_hash(data_yaml), epochs, imgsz, batch, ultralytics.__version__, f"w{WARMUP_EPOCHS}", OPTIMIZER, LR0, "bn-recal-shuffled"), build)
    facts.update(entry.facts())
    out = entry.path
    return Weights(out, "fine-tuned", f"fine-tuned:{weights.source}", file_sha256(out)), facts
