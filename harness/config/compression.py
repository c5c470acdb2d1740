"""How a model is compiled and compressed for a cell (``VariantSpec``), and the suite-wide settings of that:
INT8 calibration frames, pruning, fine-tuning, and the accuracy floor a variant must keep to count.

Bounds (docs/architecture.md, "The trust boundary": limit values are input too): image sizes up to 8192 px cover
4K input (3840) with room to spare; calibration sets are hundreds of images (100 000 at most), fine-tuning tens of epochs (10 000 at most) at
batch 8-64 (1024 at most); channel counts are rounded to multiples of 8-64 (1024 at most).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.config.bounds import bounded
from harness.config.profiles import Share

ImageSize = bounded(int, ge=32, le=8192, multiple_of=32, unit="px")
Fraction = bounded(float, gt=0, le=1)


class VariantSpec(BaseModel):
    """How a model is compiled/compressed for one cell."""

    model_config = ConfigDict(extra="forbid")

    format: str = Field("pytorch", description="an export format: pytorch, onnx, tensorrt, or a plugin's "
                        "(`harness models formats` lists them)")
    precision: Literal["fp32", "fp16", "int8"] = "fp32"
    prune_ratio: bounded(float, ge=0, lt=1) = 0.0  # 1 would remove every channel
    recovery: Literal["none", "bn", "finetune"] | None = Field(
        None, description="after pruning: none (as pruned); bn: BatchNorm statistics corrected on unlabelled "
        "calibration images (seconds, no training); finetune: trained on finetune.data (finetuned: true)")
    finetuned: bool = Field(False, description="the same as recovery: finetune")
    dla_core: bounded(int, ge=0, le=1) | None = Field(None, description="TensorRT only: build for DLA core 0 or 1 "
                                                      "(Xavier, Orin NX, AGX Orin); fp16 or int8; boards without DLA "
                                                      "skip the cell")
    gpu_fallback: bool = Field(True, description="with dla_core: layers the DLA cannot run go to the GPU; false: "
                               "the build fails unless every layer runs on the DLA")

    @field_validator("format")
    @classmethod
    def _known_format(cls, v: str) -> str:
        from harness.extensions import format_names
        from harness.names import did_you_mean

        known = format_names()
        if v not in known:
            raise ValueError(f"{v[:80]!r} is not an export format here{did_you_mean(v, known)}: use {', '.join(known)} (a plugin's name once "
                             "its package is installed here: `harness models formats`)")
        return v

    @model_validator(mode="after")
    def _one_recovery(self) -> VariantSpec:
        """``finetuned: true`` is ``recovery: finetune``; after validation both say the same."""
        if self.finetuned and self.recovery not in (None, "finetune"):
            raise ValueError(f"finetuned: true and recovery: {self.recovery} disagree: finetuned: true is recovery: "
                             "finetune; keep one of them")
        if self.recovery is None:
            self.recovery = "finetune" if self.finetuned else "none"
        self.finetuned = self.recovery == "finetune"
        if self.recovery == "bn" and not self.prune_ratio:
            raise ValueError("recovery: bn corrects BatchNorm statistics after pruning: set prune_ratio")
        return self

    @model_validator(mode="after")
    def _dla_needs_tensorrt(self) -> VariantSpec:
        if self.dla_core is not None:
            if self.format != "tensorrt":
                raise ValueError(f"dla_core needs format: tensorrt (got {self.format})")
            if self.precision == "fp32":
                raise ValueError("the DLA runs fp16 or int8 only: set precision fp16 or int8 with dla_core")
        elif not self.gpu_fallback:
            raise ValueError("gpu_fallback: false only means something with dla_core: 0|1")
        return self


class Calibration(BaseModel):
    """Where INT8 calibration frames come from (never the evaluated frames)."""

    model_config = ConfigDict(extra="forbid")

    sequence: str | None = Field(None, description="another MOT sequence; default: frames after the evaluated window")
    frames: bounded(int, ge=1, le=100_000) = Field(300, description="how many calibration images")


class Pruning(BaseModel):
    """How ``prune_ratio`` variants are pruned (recorded in every pruned record)."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["l1", "l2_group", "bn_scale"] = Field(
        "l1", description="l1: L1 magnitude per layer (the seeds'); l2_group: group L2 norm with torch-pruning's "
        "GroupNormPruner (its YOLOv8 example); bn_scale: BatchNorm scale |gamma| (network slimming)")
    round_to: bounded(int, ge=1, le=1024) | None = Field(
        8, description="keep channel counts multiples of this (8: tensor-core friendly; it removes more than asked at "
        "small ratios; null: exactly the ratio)")
    iterative_steps: bounded(int, ge=1, le=64) = Field(1, description="prune in this many steps, importance "
                                                       "re-measured between them")
    bn_images: bounded(int, ge=1, le=100_000) = Field(
        256, description="recovery: bn corrects BatchNorm statistics on this many calibration images (the INT8 "
        "calibration frames: unlabelled, never the evaluated ones)")


class Finetune(BaseModel):
    """Fine-tuning for ``finetuned: true`` variants (after pruning, if any)."""

    model_config = ConfigDict(extra="forbid")

    data: str | None = Field(None, description="data.yaml from `harness data to-yolo` (other sequences than the evaluated one)")
    epochs: bounded(int, ge=1, le=10_000) = 10
    imgsz: ImageSize | None = Field(None, description="default: the suite's imgsz")
    batch: bounded(int, ge=1, le=1024) = 16


class AccuracyFloor(BaseModel):
    """MLPerf-style: a variant must keep ``relative`` x its reference's F1 (and/or reach ``absolute``) to count."""

    model_config = ConfigDict(extra="forbid")

    relative: Fraction | None = 0.99
    absolute: Share | None = None
