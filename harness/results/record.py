"""The typed shape of the documents a run writes: one record per cell, the run's manifest.

Every record and manifest that crosses a boundary -- pulled from a device,
read from a run directory -- is validated here before the host uses it: ids
are safe names (they become file names), ``files`` point into the run's own
``frames/ detections/ telemetry/`` folders, states and statuses are known
words, numbers are numbers. Blocks keep unknown keys (a newer harness of the
same schema version may add fields); what the host reads from them is typed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from typing_extensions import Annotated

from harness.names import SafeName

Status = Literal["ok", "skipped", "failed"]
CellState = Literal["pending", "running", "ok", "skipped", "failed"]
RunState = Literal["running", "interrupted", "complete", "failed"]

FILE_DIRS = ("frames", "detections", "telemetry")
RelFile = Annotated[str, StringConstraints(pattern=r"^(frames|detections|telemetry)/[A-Za-z0-9][A-Za-z0-9_.+-]{0,199}$")]
FileKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,31}$")]
Text = Annotated[str, StringConstraints(max_length=20_000)]
Num = float | None


class _Block(BaseModel):
    model_config = ConfigDict(extra="allow")


class LatencyStats(_Block):
    mean_ms: Num = None
    std_ms: Num = None
    p50_ms: Num = None
    p90_ms: Num = None
    p99_ms: Num = None
    min_ms: Num = None
    max_ms: Num = None


class Latency(_Block):
    total: LatencyStats | None = None
    pre: LatencyStats | None = None
    infer: LatencyStats | None = None
    post: LatencyStats | None = None


class Quality(_Block):
    tp: int | None = None
    fp: int | None = None
    fn: int | None = None
    ignored: int | None = None
    precision: Num = None
    recall: Num = None
    f1: Num = None
    ap50: Num = None


class Power(_Block):
    backend: Text = "none"
    scope: Text | None = None
    reason: Text | None = None
    sample_count: int = 0
    mean_w: Num = None
    idle_w: Num = None
    energy_per_frame_mj: Num = None
    dynamic_energy_per_frame_mj: Num = None
    fps_per_w: Num = None
    peak_temp_c: Num = None
    peak_temps_c: dict[Text, float] | None = None
    throttled: bool | None = None


class ModelFacts(_Block):
    params: int | None = None
    gflops: Num = None
    weights_file_bytes: int | None = None
    artifact_bytes: int | None = None
    weights_provenance: Text | None = None
    weights_sha256: Text | None = None


class CellSpec(_Block):
    cell_id: SafeName
    experiment: SafeName
    model: Text
    format: Literal["pytorch", "onnx", "tensorrt"]
    precision: Literal["fp32", "fp16", "int8"]
    prune_ratio: float = Field(0.0, ge=0.0, lt=1.0)
    finetuned: bool = False


class Record(_Block):
    """One finished cell."""

    schema_version: int = Field(0, ge=0)
    run_id: SafeName
    cell_id: SafeName
    device_profile: Text | None = None
    host: Text | None = None
    environment: dict[str, Any] = Field(default_factory=dict)
    cell: CellSpec
    settings: dict[str, Any] = Field(default_factory=dict)
    status: Status
    reason: Text | None = None
    started_at: Text | None = None
    finished_at: Text | None = None
    duration_s: Num = None
    model: ModelFacts | None = None
    runtime: Text | None = None
    latency: Latency | None = None
    n_frames: int = 0
    n_warmup: int = 0
    fps: Num = None
    timed_wall_s: Num = None
    quality: Quality | None = None
    quality_reason: Text | None = None
    power: Power | None = None
    build: dict[str, Any] | None = None
    files: dict[FileKey, RelFile] | None = None


class ManifestCell(CellSpec):
    state: CellState


class Manifest(_Block):
    """A run's manifest: what it measures and how far it got."""

    schema_version: int = Field(0, ge=0)
    run_id: SafeName
    state: RunState
    created_at: Text | None = None
    finished_at: Text | None = None
    suite: dict[str, Any]
    profile: dict[str, Any]
    sequence: Text | None = None
    environment: dict[str, Any] = Field(default_factory=dict)
    cells: list[ManifestCell] = Field(default_factory=list)
    telemetry: dict[str, Any] | None = None


def first_problem(e: ValidationError) -> str:
    """'field.path: what is wrong' of the first error (the value itself is never echoed: it may be hostile)."""
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    more = f" (+{len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
    return f"{where}: {err['msg']}{more}"


def check_record(data: Any) -> dict:
    """A record validated (ValueError with the field on failure), returned as the plain dict it was."""
    if not isinstance(data, dict):
        raise ValueError(f"a record must be a JSON object, got {type(data).__name__}")
    try:
        rec = Record.model_validate(data)
    except ValidationError as e:
        raise ValueError(first_problem(e)) from None
    if rec.cell.cell_id != rec.cell_id:
        raise ValueError(f"cell.cell_id {rec.cell.cell_id!r} differs from cell_id {rec.cell_id!r}")
    return data


def check_manifest(data: Any) -> dict:
    if not isinstance(data, dict):
        raise ValueError(f"a manifest must be a JSON object, got {type(data).__name__}")
    try:
        Manifest.model_validate(data)
    except ValidationError as e:
        raise ValueError(first_problem(e)) from None
    return data
