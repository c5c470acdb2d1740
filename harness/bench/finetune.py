"""Fine-tuning (after pruning, the seed notebook's missing step) with ultralytics' trainer.

ultralytics' trainer normally rebuilds the model from its YAML and copies the
weights over -- which would silently undo pruning. ``_KeepModelTrainer``
hands it the loaded (possibly pruned) model itself. Training data is a
YOLO-format dataset (``harness data to-yolo``), by default from other
sequences than the evaluated one. The result is cached by content (weights,
dataset, epochs, imgsz, batch).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from pathlib import Path

from harness import paths
from harness.bench.weights import Weights, file_sha256
from harness.errors import BenchmarkError


def _dataset_hash(data_yaml: Path) -> str:
    h = hashlib.sha256(data_yaml.read_bytes())
    root = data_yaml.parent
    for f in sorted((root / "labels").rglob("*.txt")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def finetune(weights: Weights, data_yaml: str | Path, epochs: int, imgsz: int, batch: int, device: str = "cpu") -> tuple[Weights, dict]:
    """Train ``weights`` for ``epochs`` on ``data_yaml``; returns the fine-tuned weights and what was done."""
    import ultralytics
    from ultralytics import YOLO
    from ultralytics.models.yolo.detect import DetectionTrainer

    data_yaml = Path(data_yaml)
    if not data_yaml.is_file():
        raise BenchmarkError(f"{data_yaml}: fine-tuning dataset not found",
                             "build one with `harness data to-yolo SEQ... --out DIR` and set finetune.data to DIR/data.yaml")
    key = hashlib.sha256(f"{weights.sha256}|{_dataset_hash(data_yaml)}|{epochs}|{imgsz}|{batch}|{ultralytics.__version__}".encode()).hexdigest()[:16]
    out = paths.cache_dir() / "finetuned" / f"{weights.path.stem}-ft{epochs}e-{key}.pt"
    facts = {"epochs": epochs, "imgsz": imgsz, "batch": batch, "data": str(data_yaml), "cache_key": key, "cache_hit": out.is_file()}
    if out.is_file():
        return Weights(out, "fine-tuned", f"fine-tuned:{weights.source}", file_sha256(out)), {**facts, "train_s": 0.0}
    model = YOLO(str(weights.path)).model

    class _KeepModelTrainer(DetectionTrainer):
        def get_model(self, cfg=None, weights=None, verbose=True):  # noqa: ARG002 - keep the given structure
            return model

    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        trainer = _KeepModelTrainer(overrides={
            "model": str(weights.path), "data": str(data_yaml), "epochs": epochs, "imgsz": imgsz, "batch": batch,
            "device": device, "workers": 0, "project": tmp, "name": "ft", "exist_ok": True, "plots": False,
            "amp": False, "verbose": False, "val": True, "seed": 0, "deterministic": True,
        })
        try:
            trainer.train()
        except Exception as e:  # noqa: BLE001 - training errors come in many kinds
            raise BenchmarkError(f"fine-tuning {weights.path.name} failed: {type(e).__name__}: {e}",
                                 "check the dataset (harness data check / to-yolo) and finetune settings") from e
        last = Path(trainer.last)
        if not last.is_file():
            raise BenchmarkError(f"fine-tuning {weights.path.name} wrote no checkpoint", "see the training log")
        shutil.move(str(last), out)
    facts["train_s"] = round(time.perf_counter() - t0, 3)
    return Weights(out, "fine-tuned", f"fine-tuned:{weights.source}", file_sha256(out)), facts
