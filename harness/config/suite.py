"""Benchmark suites: experiments x models x variants -> an ordered list of Cells.

Suites are YAML (``harness/suites/*.yaml`` ship with the package; users pass
their own file). A Cell is one measured unit: experiment, model, variant.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from typing_extensions import Annotated

from harness.errors import SuiteError
from harness.names import SafeName, is_safe_name
from harness.config.bounds import Threads, bounded
from harness.config.compression import (  # noqa: F401 - VariantSpec, Pruning ... are imported from here too
    AccuracyFloor, Calibration, Finetune, Fraction, ImageSize, Pruning,
    VariantSpec)
from harness.config.profiles import MAX_TIMED_FRAMES, MODE_RE, Share, WindowSeconds
from harness.config.yamlio import load_model_yaml

SUITE_FIX = "`harness suites show quick` prints a valid suite to start from"

# Repeats of a suite that does not set them: interleaved windows are what a rerun interval is made of. Chosen with
# benchmarks/bench_rerun_coverage.py (docs/measurement.md, "What the intervals cover"); HARNESS_REPEATS overrides it.
DEFAULT_REPEATS = 5
MAX_REPEATS = 100

# Bounds (docs/architecture.md, "The trust boundary": limit values are input too). Frames are decoded into memory
# before timing, and the longest MOT17 sequence has 1050: 100 000 frames per cell is far past any sequence.
MAX_FRAMES = 100_000


def default_repeats() -> int:
    """``HARNESS_REPEATS`` when set (1-100), else DEFAULT_REPEATS."""
    import os

    raw = os.environ.get("HARNESS_REPEATS", "").strip()
    if not raw:
        return DEFAULT_REPEATS
    if not raw.isdigit() or len(raw) > 3 or not 1 <= int(raw) <= MAX_REPEATS:
        raise SuiteError(f"HARNESS_REPEATS={raw[:20]!r}: not a whole number from 1 to {MAX_REPEATS}",
                         "unset it, or set e.g. HARNESS_REPEATS=5")
    return int(raw)


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    models: list[str] = Field(min_length=1)
    variants: list[VariantSpec] = Field(default_factory=lambda: [VariantSpec()])
    reference: VariantSpec = Field(default_factory=VariantSpec, description="the variant every other is compared with "
                                   "(speed-up, energy ratio, F1 delta, accuracy floor); default the unpruned PyTorch fp32")

    @field_validator("models")
    @classmethod
    def _model_names(cls, models: list[str]) -> list[str]:
        for m in models:
            if any(ord(c) < 32 for c in m) or not is_safe_name(Path(m).stem):
                raise ValueError(f"model {m[:80]!r}: its name (file stem) may hold letters, digits and _ . + - only "
                                 "(it becomes part of file names)")
        return models


class Suite(BaseModel):
    """A named set of experiments with common measurement settings."""

    model_config = ConfigDict(extra="forbid")

    name: SafeName
    description: str = ""
    frames: bounded(int, ge=2, le=MAX_FRAMES) = Field(200, description="frames per cell, warm-up included")
    warmup: bounded(int, ge=0, le=MAX_FRAMES) = 10
    imgsz: ImageSize = 640
    conf: Share = 0.25
    iou: Fraction = Field(0.5, description="IoU threshold for TP matching")
    nms_iou: Fraction = Field(0.7, description="IoU threshold of NMS (ultralytics default)")
    weights: Literal["auto", "pretrained", "random"] = Field(
        "auto", description="auto: pretrained, else random-init (recorded); pretrained: no fallback; random: always random-init"
    )
    min_duration_s: WindowSeconds | None = Field(None, description="timed window at least this long (s): the decoded "
                                         "frames are cycled; default: the profile's measure.min_duration_s")
    min_frames: bounded(int, ge=1, le=MAX_TIMED_FRAMES) | None = Field(
        None, description="at least this many timed frames (default: the profile's)")
    repeats: bounded(int, ge=1, le=MAX_REPEATS) = Field(
        default_factory=default_repeats, description="measure every cell this often, interleaved with the others: the "
        "repeats give the interval where a rerun lands (1: no interval, n=1)")
    threads: Threads | None = Field(None, description="torch / ONNX Runtime threads (default: the profile's "
                                    "measure.threads)")
    accuracy_floor: AccuracyFloor = Field(default_factory=AccuracyFloor)
    calibration: Calibration = Field(default_factory=Calibration)
    finetune: Finetune = Field(default_factory=Finetune)
    pruning: Pruning = Field(default_factory=Pruning)
    power_modes: list[Annotated[str, StringConstraints(pattern=MODE_RE)]] | None = Field(
        None, min_length=1, description="Jetson power modes by name (nvpmodel.conf): every cell is measured in each, "
        "all cells of a mode together, the order reversed every other repeat; the board returns to its profile's mode")
    experiments: list[Experiment] = Field(min_length=1)

    @field_validator("power_modes")
    @classmethod
    def _unique_modes(cls, modes: list[str] | None) -> list[str] | None:
        if modes is not None and len(set(modes)) != len(modes):
            raise ValueError(f"power_modes lists a mode twice: {modes}")
        return modes

    @model_validator(mode="after")
    def _warmup_below_frames(self) -> Suite:
        if self.warmup >= self.frames:
            raise ValueError(f"warmup ({self.warmup}) must be smaller than frames ({self.frames})")
        return self

    def cells(self) -> list[Cell]:
        """All cells in run order (mode by mode when there are power_modes); duplicates (same id) run once."""
        out: dict[str, Cell] = {}
        for mode in self.power_modes or [None]:
            for exp in self.experiments:
                for model in exp.models:
                    for v in exp.variants:
                        cell = Cell.of(exp.name, model, v, mode)
                        out.setdefault(cell.cell_id, cell)
        return list(out.values())

    def instances(self) -> list[Cell]:
        """What a run measures: every cell ``repeats`` times, interleaved (all cells once, then again), so slow
        drift (temperature, clocks) spreads over the repeats instead of landing on one variant. With power modes
        the modes go in order, then backwards (15W, 25W | 25W, 15W | ...): one switch per mode change, none
        between repeats, and no mode is always measured first after a switch."""
        cells = self.cells()
        out = []
        for r in range(1, self.repeats + 1):
            modes = list(self.power_modes or [None])
            if r % 2 == 0:
                modes.reverse()
            out += [replace(c, repeat=r) for m in modes for c in cells if c.power_mode == m]
        return out

    def reference_of(self, cell: Cell) -> Cell:
        """The cell this one is compared with: its experiment's reference variant, same model, same power mode."""
        return reference_cell(cell, self.references())

    def references(self) -> dict[str, VariantSpec]:
        """Each experiment's reference variant by experiment name (for ``reference_cell`` over many cells)."""
        return {e.name: e.reference for e in self.experiments}


@lru_cache(maxsize=4096)
def model_stem(model: str) -> str:
    """A model's name: its file's stem (``/models/yolov8n.pt`` -> ``yolov8n``); cached, a comparison asks per row."""
    return Path(model).stem


def reference_cell(cell: Cell, references: dict[str, VariantSpec]) -> Cell:
    """``cell``'s reference: its experiment's reference variant (``Suite.references``; KeyError for an experiment
    not there), same model, same power mode."""
    return Cell.of(cell.experiment, cell.model, references[cell.experiment], cell.power_mode)


@dataclass(frozen=True)
class Cell:
    """One measured unit: (experiment, model, variant); ``repeat`` numbers its measurements (1 .. suite.repeats)."""

    experiment: str
    model: str
    format: str
    precision: str
    prune_ratio: float = 0.0
    finetuned: bool = False
    repeat: int = 1
    power_mode: str | None = None  # the Jetson power mode (nvpmodel name) it is measured in; None: as the board is
    dla_core: int | None = None  # TensorRT on this DLA core; None: the GPU
    gpu_fallback: bool = True  # with dla_core: unsupported layers run on the GPU
    recovery: str = "none"  # after pruning: none | bn (BatchNorm statistics corrected) | finetune (= finetuned)

    def __post_init__(self) -> None:
        """``finetuned`` and ``recovery: finetune`` are one fact: either given, both say it."""
        if self.finetuned and self.recovery == "none":
            object.__setattr__(self, "recovery", "finetune")
        object.__setattr__(self, "finetuned", self.recovery == "finetune")

    @classmethod
    def of(cls, experiment: str, model: str, v: VariantSpec, power_mode: str | None = None) -> Cell:
        return cls(experiment, model, v.format, v.precision, v.prune_ratio, v.finetuned, 1, power_mode, v.dla_core,
                   v.gpu_fallback, v.recovery)

    @property
    def target(self) -> str:
        """Where the engine runs: ``gpu`` (also CPU runs: the device's default), ``dla0``, ``dla1``."""
        return "gpu" if self.dla_core is None else f"dla{self.dla_core}"

    @property
    def model_stem(self) -> str:
        return model_stem(self.model)

    @property
    def cell_id(self) -> str:
        pr = f"-p{round(self.prune_ratio * 100):02d}" if self.prune_ratio else ""
        ft = {"finetune": "-ft", "bn": "-bn"}.get(self.recovery, "")
        dla = "" if self.dla_core is None else f"-dla{self.dla_core}" + ("" if self.gpu_fallback else "-nofb")
        mode = f"+{self.power_mode}" if self.power_mode else ""
        return f"{self.experiment}.{self.model_stem}.{self.format}-{self.precision}{pr}{ft}{dla}{mode}"

    @property
    def key(self) -> str:
        """The record's key in a run: the cell id, with ``.rN`` for repeats after the first."""
        return cell_key(self.cell_id, self.repeat)

    def as_dict(self) -> dict:
        return {"cell_id": self.cell_id, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> Cell:
        return cls(d["experiment"], d["model"], d["format"], d["precision"], d.get("prune_ratio", 0.0), d.get("finetuned", False),
                   d.get("repeat", 1), d.get("power_mode"), d.get("dla_core"), d.get("gpu_fallback", True),
                   d.get("recovery") or "none")


def cell_key(cell_id: str, repeat: int = 1) -> str:
    return cell_id if repeat == 1 else f"{cell_id}.r{repeat}"


def with_overrides(suite: Suite, frames: int | None = None, imgsz: int | None = None, weights: str | None = None,
                   repeats: int | None = None) -> Suite:
    """The suite with command-line values over its own (``--frames``, ``--imgsz``, ``--weights``, ``--repeats``), validated."""
    from pydantic import ValidationError

    from harness.config.yamlio import describe_validation_error

    update = {k: v for k, v in (("frames", frames), ("imgsz", imgsz), ("weights", weights), ("repeats", repeats))
              if v is not None}
    if not update:
        return suite
    try:
        return Suite.model_validate({**suite.model_dump(), **update})
    except ValidationError as e:
        flags = " ".join(f"--{k} {v}" for k, v in update.items())
        raise SuiteError(
            f"{flags}: {describe_validation_error(e, Suite)}",
            "pick values the suite accepts (imgsz a multiple of 32, frames > warmup, weights auto|pretrained|random, "
            "repeats 1-100)",
        ) from e


def builtin_suites() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("harness.suites").iterdir() if p.name.endswith(".yaml"))


def load_suite(name_or_path: str) -> Suite:
    """A shipped suite by name (``quick``, ``seed``) or a user's YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return load_model_yaml(p, Suite, SuiteError, "suite", SUITE_FIX)
    if name_or_path not in builtin_suites():
        from harness.names import did_you_mean

        raise SuiteError(
            f"unknown suite {name_or_path!r}{did_you_mean(name_or_path, builtin_suites())} "
            f"(built in: {', '.join(builtin_suites())})",
            "pass a built-in suite name or a path to a suite YAML file",
        )
    with resources.as_file(resources.files("harness.suites") / f"{name_or_path}.yaml") as f:
        return load_model_yaml(Path(f), Suite, SuiteError, "suite", SUITE_FIX)
