"""What every backend receives and returns: one loaded variant of one cell, or the reason it cannot run here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from harness.config.suite import Cell
from harness.errors import BenchmarkError, CellSkipped  # noqa: F401 - CellSkipped is part of this interface
from harness.models.weights import Weights


@dataclass
class Prepared:
    """A cell's model after weights, pruning and fine-tuning: the input of every backend's ``load``."""

    cell: Cell
    imgsz: int
    device: object  # torch.device
    weights: Weights
    torch_model: object  # the ultralytics DetectionModel, eval mode
    facts: dict  # params, gflops, file sizes, provenance (+ pruning / finetune)
    person_class: int
    calibration: Callable | None = None  # () -> CalibrationSet, asked for by INT8 backends only


@dataclass
class LoadedVariant:
    backend: object  # ultralytics AutoBackend
    device: object  # torch.device
    fp16: bool
    runtime: str  # "torch", the onnxruntime provider actually used, or "tensorrt"
    artifact: Path  # the file that runs (.pt, .onnx, .engine)
    weights: Weights
    facts: dict = field(default_factory=dict)  # params, gflops, file sizes
    build: dict = field(default_factory=dict)  # export/build timing and cache use
    person_class: int = 0
    origin: str = "built-in"  # set by the harness after load: "built-in" or the plugin's distribution
