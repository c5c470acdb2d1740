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
from pathlib import Path

from harness.cache import ContentCache, scratch_dir
from harness.fsutil import file_sha256
from harness.models.weights import Weights
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
    facts = {"epochs": epochs, "imgsz": imgsz, "batch": batch, "data": str(data_yaml)}

    def build(tmp: Path) -> None:
        model = YOLO(str(weights.path)).model

        class _KeepModelTrainer(DetectionTrainer):
            def get_model(self, cfg=None, weights=None, verbose=True):  # noqa: ARG002 - keep the given structure
                return model

        with scratch_dir(tmp.parent) as work:
            trainer = _KeepModelTrainer(overrides={
                "model": str(weights_path), "data": str(data_yaml), "epochs": epochs, "imgsz": imgsz, "batch": batch,
                "device": device, "workers": 0, "project": str(work), "name": "ft", "exist_ok": True, "plots": False,
                "amp": False, "verbose": False, "val": True, "seed": 0, "deterministic": True,
            })
            try:
                trainer.train()
            except Exception as e:  # noqa: BLE001 - training errors come in many kinds
                raise BenchmarkError(f"fine-tuning {weights_path.name} failed: {type(e).__name__}: {e}",
                                     "check the dataset (harness data check / to-yolo) and finetune settings") from e
            last = Path(trainer.last)
            if not last.is_file():
                raise BenchmarkError(f"fine-tuning {weights_path.name} wrote no checkpoint", "see the training log")
            shutil.move(str(last), tmp)

    weights_path = weights.path
    entry = ContentCache("finetuned").entry(
        lambda key: f"{weights.path.stem}-ft{epochs}e-{key}.pt",
        (weights.sha256, _dataset_hash(data_yaml), epochs, imgsz, batch, ultralytics.__version__), build)
    facts.update(entry.facts())
    out = entry.path
    return Weights(out, "fine-tuned", f"fine-tuned:{weights.source}", file_sha256(out)), facts
