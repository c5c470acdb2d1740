"""The result columns, registered once: where each comes from in a record, its unit, how a cell's repeats combine.

summary.csv, the flat row (``rows.flatten``), the DataFrame's repeat folding (``frame.fold_repeats``), its dtypes
(``kind``) and clearer names (``frame_name``) and ``harness schema columns`` are derived from ``COLUMNS``; adding a
result column is one entry here (and the regenerated ``docs/columns.json``). ``repeats`` says what a cell measured in several windows shows:

- ``first``: the first ok repeat's value (identity and settings, which every repeat shares);
- ``mean``: the mean of the ok repeats' numbers;
- ``interval``: the geometric mean of the repeats and the interval where a rerun's would land
  (``stats.rerun_interval``); ``bounds`` names the rerun-interval and within-window columns it fills;
- ``any``: true if any repeat was (a flag such as ``contended``);
- ``derived``: set by the folding itself (the interval bounds, ``repeat``, ``ci_kind``, ``contended_reason``).

``show`` puts a column in the console table (``render.table``): its header, its place (the integer part is its
priority: 0 always shown, then energy (1) before anything else optional, higher dropped first on a narrow terminal;
the fraction orders equals) and its number format; an ``interval`` column shows ``±`` its rerun interval, a ratio
with ``significant`` a ``~`` when within noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Repeats = Literal["first", "mean", "interval", "any", "derived"]
Kind = Literal["text", "int", "float", "bool"]

ENV_COLUMNS = ("board_model", "l4t", "nvpmodel", "jetson_clocks", "gpu_name", "cpu_model", "torch", "ultralytics",
               "onnxruntime", "tensorrt", "harness")
SETTINGS_COLUMNS = {"conf": "float", "iou": "float", "nms_iou": "float", "frames": "int", "warmup": "int",
                    "sequence_name": "text", "weights_policy": "text"}


def at(d, *path):
    """``d[path[0]][path[1]]...`` or None where a level is missing or null (the one place records are read loosely)."""
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


class Source:
    """One record (as a dict) being flattened; the blocks several columns read are worked out once."""

    __slots__ = ("d", "_intervals", "_refs")

    def __init__(self, d: dict) -> None:
        self.d = d
        self._intervals: dict | None = None
        self._refs: dict | None = None

    @property
    def intervals(self) -> dict:
        if self._intervals is None:
            self._intervals = interval_columns(self.d.get("uncertainty"))
        return self._intervals

    @property
    def refs(self) -> dict:
        if self._refs is None:
            self._refs = reference_columns(self.d.get("reference"))
        return self._refs


@dataclass(frozen=True)
class Shown:
    """How the console table shows a column."""

    header: str
    place: float  # int part: priority (0: always shown); fraction: order among equals
    fmt: str = ""  # the number's format spec (".1f"); "" for text
    scale: float = 1.0  # what is shown is value x scale (parameters in millions, a share in %)
    significant: str | None = None  # a ratio: the column saying whether its interval excludes 1
    justify: str = "right"


@dataclass(frozen=True)
class Column:
    name: str
    get: Callable[[Source], Any]
    unit: str = ""  # also the name's suffix where it has one (_ms, _mj, _w, _c)
    repeats: Repeats = "first"
    doc: str = ""
    bounds: tuple[str, ...] = ()  # interval columns: (rerun lo, rerun hi, window lo, window hi)
    show: Shown | None = None  # in the console table
    kind: Kind | None = None  # the value's type (pandas' nullable dtype, Parquet's); None: float with a unit, else text
    frame_name: str | None = None  # the DataFrame's name where the flat one (summary.csv's) is easily misread

    @property
    def dtype(self) -> Kind:
        return self.kind or ("float" if self.unit else "text")


def rec(*path: str) -> Callable[[Source], Any]:
    """The value at ``path`` in the record."""
    return lambda s: at(s.d, *path)


def _text(v) -> str | None:
    return v if v is None or isinstance(v, (str, bool)) else str(v)[:200]


def engine_target(fmt: str | None, dla_core: int | None) -> str | None:
    """Where a TensorRT engine runs: ``gpu`` or ``dla0``/``dla1``; None for the other formats (the device's default)."""
    if dla_core is not None:
        return f"dla{dla_core}"
    return "gpu" if fmt == "tensorrt" else None


def interval_columns(unc: dict | None) -> dict:
    """The flat interval columns of an ``uncertainty`` block (``results.stats``).

    ``latency_p50_ci_*`` / ``energy_per_frame_ci_*`` are the rerun intervals (from interleaved repeats): None for a
    cell measured once, whose within-window spread goes to ``latency_p50_window_*`` only. Records written before
    rerun intervals existed (no ``kind``) held a within-window bootstrap as their headline: it is read as that.
    """
    u = unc if isinstance(unc, dict) else {}
    win = u.get("within_window") if isinstance(u.get("within_window"), dict) else (u if "kind" not in u else {})
    rerun = u if u.get("kind") == "rerun" else {}
    pair = lambda v: v if isinstance(v, (list, tuple)) and len(v) == 2 else [None, None]  # noqa: E731
    p50, e = pair(rerun.get("latency_p50_ms")), pair(rerun.get("energy_per_frame_mj"))
    w, we = pair(win.get("latency_p50_ms")), pair(win.get("energy_per_frame_mj"))
    return {"latency_p50_ci_lo_ms": p50[0], "latency_p50_ci_hi_ms": p50[1], "energy_per_frame_ci_lo_mj": e[0],
            "energy_per_frame_ci_hi_mj": e[1], "latency_p50_window_lo_ms": w[0], "latency_p50_window_hi_ms": w[1],
            "energy_per_frame_window_lo_mj": we[0], "energy_per_frame_window_hi_mj": we[1],
            "ci_kind": u.get("kind") or ("window" if win else None)}


def reference_columns(block: dict | None) -> dict:
    """The flat columns of a ``reference`` block (``results.refs``)."""
    ref = block or {}
    return {"ref_cell_id": ref.get("cell_id"), "speedup_vs_ref": ref.get("speedup"),
            "speedup_vs_ref_significant": ref.get("speedup_significant"), "energy_ratio_vs_ref": ref.get("energy_ratio"),
            "energy_vs_ref_significant": ref.get("energy_significant"), "f1_delta_vs_ref": ref.get("f1_delta"),
            "below_floor": ref.get("below_floor")}


def _interval(name: str) -> Column:
    return Column(name, lambda s: s.intervals[name], name.rsplit("_", 1)[1], "derived", "interval bound (results.stats)")


def _ref(name: str, doc: str, show: Shown | None = None, kind: Kind | None = None) -> Column:
    return Column(name, lambda s: s.refs[name], "", "first", doc, show=show, kind=kind)


_P50_BOUNDS = ("latency_p50_ci_lo_ms", "latency_p50_ci_hi_ms", "latency_p50_window_lo_ms", "latency_p50_window_hi_ms")
_ENERGY_BOUNDS = ("energy_per_frame_ci_lo_mj", "energy_per_frame_ci_hi_mj", "energy_per_frame_window_lo_mj",
                  "energy_per_frame_window_hi_mj")

COLUMNS: tuple[Column, ...] = (
    Column("run_id", rec("run_id"), doc="the run directory's id"),
    Column("cell_id", rec("cell_id"), doc="experiment.model.variant: what a cell is within its suite"),
    Column("device_profile", rec("device_profile")),
    Column("host", rec("host")),
    Column("experiment", rec("cell", "experiment")),
    Column("model", rec("cell", "model"), show=Shown("model", 0.0, justify="left")),
    Column("format", rec("cell", "format"), doc="pytorch | onnx | tensorrt"),
    Column("precision", rec("cell", "precision"), doc="fp32 | fp16 | int8 (numeric precision, not detection)"),
    Column("prune_ratio", rec("cell", "prune_ratio"), "share", doc="the asked ratio"),
    Column("prune_method", rec("model", "pruning", "method")),
    Column("prune_channel_ratio", rec("model", "pruning", "channel_ratio"), "share",
           doc="the share of prunable channels removed (rounding makes it larger than asked)",
           show=Shown("ch cut", 7.1, ".1f", 100)),
    Column("finetuned", rec("cell", "finetuned"), kind="bool"),
    Column("recovery", lambda s: at(s.d, "cell", "recovery") or ("finetune" if at(s.d, "cell", "finetuned") else "none"),
           doc="after pruning: none | bn | finetune"),
    Column("power_mode", rec("cell", "power_mode")),
    Column("dla_core", rec("cell", "dla_core"), kind="int"),
    Column("gpu_fallback", lambda s: at(s.d, "cell", "gpu_fallback") if at(s.d, "cell", "dla_core") is not None else None, kind="bool"),
    Column("target", lambda s: engine_target(at(s.d, "cell", "format"), at(s.d, "cell", "dla_core")),
           doc="where a TensorRT engine runs: gpu | dla0 | dla1"),
    Column("mode_id", rec("power_mode", "id"), kind="int"),
    Column("cpu_online", rec("power_mode", "clocks", "cpu_online"), kind="int"),
    Column("cpu_max_khz", rec("power_mode", "clocks", "cpu_max_khz"), "khz", kind="int"),
    Column("gpu_max_hz", rec("power_mode", "clocks", "gpu_max_hz"), "hz", kind="int"),
    Column("clocks_match", rec("power_mode", "clocks_match"), kind="bool"),
    Column("dla_layers", rec("build", "dla", "placement", "dla_layers"), kind="int"),
    Column("gpu_layers", rec("build", "dla", "placement", "gpu_layers"), kind="int"),
    Column("status", rec("status"), repeats="derived", doc="ok | skipped | failed (a cell's: ok if any repeat was)",
           show=Shown("status", 0.4, justify="left")),
    Column("reason", rec("reason")),
    Column("weights_provenance", rec("model", "weights_provenance")),
    Column("weights_source", rec("model", "weights_source")),
    Column("weights_sha256", rec("model", "weights_sha256")),
    Column("runtime", rec("runtime"), show=Shown("runtime", 9.0, justify="left")),
    Column("format_origin", rec("format_origin"), doc="built-in, or the plugin's distribution"),
    Column("params", rec("model", "params"), show=Shown("params M", 7.0, ".2f", 1e-6), kind="int"),
    Column("gflops", rec("model", "gflops"), kind="float"),
    Column("artifact_bytes", rec("model", "artifact_bytes"), "bytes", kind="int"),
    Column("imgsz", rec("settings", "imgsz"), "px", kind="int"),
    Column("n_frames", rec("n_frames"), kind="int"),
    Column("latency_mean_ms", rec("latency", "total", "mean_ms"), "ms", "mean"),
    Column("latency_std_ms", rec("latency", "total", "std_ms"), "ms"),
    Column("latency_p50_ms", rec("latency", "total", "p50_ms"), "ms", "interval", "median frame latency",
           _P50_BOUNDS, Shown("p50 ms", 0.2, ".1f")),
    Column("latency_p90_ms", rec("latency", "total", "p90_ms"), "ms", "mean"),
    Column("latency_p99_ms", rec("latency", "total", "p99_ms"), "ms", "mean", show=Shown("p99 ms", 6.1, ".1f")),
    Column("pre_mean_ms", rec("latency", "pre", "mean_ms"), "ms"),
    Column("infer_mean_ms", rec("latency", "infer", "mean_ms"), "ms"),
    Column("post_mean_ms", rec("latency", "post", "mean_ms"), "ms"),
    Column("fps", rec("fps"), "1/s", "mean", show=Shown("FPS", 3.0, ".1f")),
    Column("tp", rec("quality", "tp"), kind="int"),
    Column("fp", rec("quality", "fp"), kind="int"),
    Column("fn", rec("quality", "fn"), kind="int"),
    Column("precision_det", rec("quality", "precision"), "share", "mean",
           "detection precision, TP / (TP + FP) (the DataFrame's det_precision; fp32/fp16/int8 is precision)",
           frame_name="det_precision"),
    Column("recall", rec("quality", "recall"), "share", "mean"),
    Column("f1", rec("quality", "f1"), "share", "mean", show=Shown("F1", 2.1, ".3f")),
    Column("ap50", rec("quality", "ap50"), "share", "mean", show=Shown("AP50", 7.2, ".3f")),
    Column("power_backend", rec("power", "backend")),
    Column("power_backend_origin", rec("power", "backend_origin"), doc="built-in, or the plugin's distribution"),
    Column("power_scope", rec("power", "scope"), doc="what the watts cover (module input, a rail sum, the CPU package)"),
    Column("power_status", rec("power", "status")),
    Column("power_reason", rec("power", "reason")),
    Column("sample_count", rec("power", "sample_count"), kind="int"),
    Column("effective_interval_ms", rec("power", "effective_interval_ms"), "ms"),
    Column("mean_w", rec("power", "mean_w"), "w", "mean", show=Shown("W", 5.1, ".2f")),
    Column("idle_w", rec("power", "idle_w"), "w", "mean"),
    Column("energy_per_frame_mj", rec("power", "energy_per_frame_mj"), "mj", "interval", bounds=_ENERGY_BOUNDS,
           show=Shown("mJ/frame", 1.0, ".1f")),
    Column("dynamic_energy_per_frame_mj", rec("power", "dynamic_energy_per_frame_mj"), "mj", "mean",
           "above idle", show=Shown("dyn mJ", 8.0, ".1f")),
    Column("fps_per_w", rec("power", "fps_per_w"), "1/J", "mean", show=Shown("FPS/W", 1.1, ".2f")),
    Column("peak_temp_c", rec("power", "peak_temp_c"), "c", show=Shown("peak C", 8.1, ".0f")),
    Column("start_temp_c", rec("power", "start_temp_c"), "c"),
    Column("temp_slope_c_per_min", rec("power", "temp_slope_c_per_min"), "c/min"),
    Column("not_steady", rec("power", "not_steady"), kind="bool"),
    Column("throttled", rec("power", "throttled"), kind="bool"),
    Column("repeat", lambda s: s.d.get("repeat") or 1, repeats="derived", doc="which window (1..repeats)", kind="int"),
    Column("eval_frames", rec("eval_frames"), kind="int"),
    Column("timed_frames", rec("timed_frames"), kind="int"),
    Column("passes", rec("passes"), kind="float", doc="timed frames / evaluated frames: how often the window cycled them"),
    Column("window_s", rec("window_s"), "s"),
    *(_interval(n) for n in ("latency_p50_ci_lo_ms", "latency_p50_ci_hi_ms", "energy_per_frame_ci_lo_mj",
                             "energy_per_frame_ci_hi_mj")),
    _ref("ref_cell_id", "the cell this one is compared with"),
    _ref("speedup_vs_ref", "its p50 latency / this one's",
         Shown("x ref", 2.0, significant="speedup_vs_ref_significant"), "float"),
    _ref("speedup_vs_ref_significant", "the speedup's interval excludes 1", kind="bool"),
    _ref("energy_ratio_vs_ref", "energy per frame / the reference's",
         Shown("E/ref", 4.1, significant="energy_vs_ref_significant"), "float"),
    _ref("energy_vs_ref_significant", "the energy ratio's interval excludes 1", kind="bool"),
    _ref("f1_delta_vs_ref", "F1 - the reference's", Shown("ΔF1", 3.1, "+.3f"), "float"),
    _ref("below_floor", "F1 below the suite's accuracy floor", kind="bool"),
    Column("ci_kind", lambda s: s.intervals["ci_kind"], repeats="derived", doc="rerun | window"),
    *(_interval(n) for n in ("latency_p50_window_lo_ms", "latency_p50_window_hi_ms", "energy_per_frame_window_lo_mj",
                             "energy_per_frame_window_hi_mj")),
    Column("contended", rec("host_state", "contended"), repeats="any", doc="the machine did other work in the window", kind="bool"),
    Column("contended_reason", rec("host_state", "contended_reason"), repeats="derived"),
    Column("other_cpu_share", rec("host_state", "other_cpu_share"), "share", "mean"),
    Column("steal_share", rec("host_state", "steal_share"), "share", "mean"),
    Column("load_1m", rec("host_state", "load_1m_max"), kind="float"),
    Column("cpu_freq_ratio", rec("host_state", "cpu_freq_min_ratio"), "share"),
    Column("threads_torch", rec("threads", "torch_intra"), kind="int"),
    Column("threads_interop", rec("threads", "torch_interop"), kind="int"),
    Column("threads_ort", rec("threads", "ort_intra"), kind="int"),
    Column("threads_over_idle", rec("threads", "over_idle"), repeats="any", kind="bool"),
    # environment values are text (a version, a board name); a record's other types become their text, so a
    # column has one type (Parquet, --filter)
    *(Column(f"env_{k}", (lambda k: lambda s: _text(at(s.d, "environment", k)))(k), doc="environment") for k in ENV_COLUMNS),
    *(Column(f"settings_{k}", (lambda k: lambda s: at(s.d, "settings", k))(k), doc="suite setting", kind=kind)
      for k, kind in SETTINGS_COLUMNS.items()),
)

NAMES: list[str] = [c.name for c in COLUMNS]
MEANS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.repeats == "mean")
ANY: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.repeats == "any")
INTERVALS: dict[str, tuple[str, ...]] = {c.name: c.bounds for c in COLUMNS if c.repeats == "interval"}
SHOWN: tuple[Column, ...] = tuple(sorted((c for c in COLUMNS if c.show), key=lambda c: c.show.place))


def fits(value: Any, kind: Kind) -> bool:
    """Whether ``value`` (None: missing) is of ``kind``; a whole number is a fine float, a flag is not a number."""
    if value is None:
        return True
    if kind == "bool" or isinstance(value, bool):
        return kind == "bool" and isinstance(value, bool)
    return isinstance(value, {"text": str, "int": int, "float": (int, float)}[kind])


def flatten_record(d: dict) -> dict:
    """One flat row of a record dict (None where absent), in ``NAMES`` order."""
    s = Source(d)
    return {c.name: c.get(s) for c in COLUMNS}


def describe() -> list[dict]:
    """The registry as data (``harness schema columns``)."""
    return [{"name": c.name, "type": c.dtype, "unit": c.unit or None, "repeats": c.repeats, "doc": c.doc or None,
             **({"bounds": list(c.bounds)} if c.bounds else {}),
             **({"frame_name": c.frame_name} if c.frame_name else {}),
             **({"table": {"header": c.show.header, "priority": int(c.show.place)}} if c.show else {})} for c in COLUMNS]
