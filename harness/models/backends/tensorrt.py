"""TensorRT engines, built where they run, cached by content; trtexec for pure engine latency.

Engines are not portable across TensorRT versions or GPUs, so they are built on
the device (inside its container) and cached under a key of everything that
changes the engine: model file hash, TensorRT version, the device (L4T release
or GPU name), precision, imgsz, batch, workspace and -- for INT8 -- the
calibration set's hash. A second run with the same key reuses the engine
(build time 0, cache hit); any change rebuilds. INT8 calibrates on a YOLO-format
dataset made from the calibration frames (hundreds by default, never the
evaluated ones). ``trtexec --loadEngine`` gives GPU compute time beside the
harness's end-to-end latency when the binary exists.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

from harness import devtext, paths
from harness.errors import BenchmarkError
from harness.models.backends.base import CellSkipped, LoadedVariant, Prepared
from harness.models.backends.support.engine_cache import build_cached, engine_device, engine_key, engine_path

TRTEXEC_CANDIDATES = ("trtexec", "/usr/src/tensorrt/bin/trtexec", "/usr/local/tensorrt/bin/trtexec")
# A number as trtexec prints it, bounded: an unbounded ``[\d.eE+-]+`` took "1.2.3" (float() raised) and any length.
_NUMBER = r"[+-]?\d{1,15}(?:\.\d{1,15})?(?:[eE][+-]?\d{1,3})?"
_STAT = re.compile(rf"(min|max|mean|median|percentile\((\d{{1,3}})%\)) = ({_NUMBER}) ms")
_THROUGHPUT = re.compile(rf"Throughput: ({_NUMBER}) qps")
_WRAPPED = ("median", "percentile", "max", "mean")  # words some trtexec versions wrap onto the next line


def calibration_dataset(images: list[Path], out: Path) -> Path:
    """A YOLO data.yaml whose val split is the calibration frames (what ultralytics' INT8 export reads)."""
    import yaml

    from harness.mot.to_yolo import coco_names

    (out / "images" / "val").mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(images):
        dst = out / "images" / "val" / f"{i:06d}{p.suffix}"
        try:
            os.link(p, dst)
        except OSError:
            shutil.copy2(p, dst)
    data = out / "data.yaml"
    data.write_text(yaml.safe_dump({"path": str(out), "train": "images/val", "val": "images/val", "names": coco_names()}))
    return data


def export_kwargs(precision: str, imgsz: int, workspace_gb: float, data: Path | None, dla_core: int | None = None) -> dict:
    """ultralytics' ``export()`` arguments for an engine (``device="dla:N"`` targets a DLA core)."""
    return {"format": "engine", "imgsz": imgsz, "half": precision == "fp16", "int8": precision == "int8",
            "data": str(data) if data else None, "workspace": workspace_gb,
            "device": 0 if dla_core is None else f"dla:{dla_core}", "verbose": False}


def ultralytics_builder(weights: Path, precision: str, imgsz: int, workspace_gb: float, data: Path | None,
                        dla_core: int | None = None) -> Callable[[Path], str]:
    """A builder that runs ultralytics' engine export on this device and moves the engine to the target.

    The log is ultralytics' messages plus TensorRT's own (its C++ logger writes to fds 1/2, captured there):
    the layer placement of a DLA build is read from it.
    """

    def build(target: Path) -> str:
        import io
        import logging

        from ultralytics import YOLO

        from harness.models.backends.support.dla import captured_fds

        log = io.StringIO()
        ulog = logging.getLogger("ultralytics")  # the exporter logs its own messages here
        saved = (ulog.handlers[:], ulog.level)
        ulog.handlers, ulog.level = [logging.StreamHandler(log)], logging.INFO  # into the record, not the console
        try:
            with captured_fds() as trt_log:
                _export(YOLO, target)
        finally:
            ulog.handlers, ulog.level = saved
        text = log.getvalue() + trt_log[0]
        return text or f"ultralytics {precision} engine export of {weights.name} at imgsz {imgsz}"

    def _export(YOLO, target: Path) -> None:  # noqa: N803 - the class is passed in
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / weights.name
            shutil.copy2(weights, src)
            try:
                got = YOLO(str(src)).export(**export_kwargs(precision, imgsz, workspace_gb, data, dla_core))
            except Exception as e:  # noqa: BLE001 - the builder's error becomes the cell's reason
                raise BenchmarkError(f"TensorRT {precision} build failed: {type(e).__name__}: {e}",
                                     "see the builder log; check TensorRT/CUDA versions in the container") from e
            shutil.move(got, target)

    return build


def dla_facts(cell, engine: Path, builder_log: str | None, weights: Path) -> dict:
    """A DLA engine's placement (from the build log; kept beside the engine for cache hits), checked against
    ``gpu_fallback: false``; BenchmarkError when a DLA-only engine has layers on the GPU."""
    import json

    from harness.models.backends.support.dla import parse_layer_placement, trtexec_equivalent

    sidecar = engine.with_suffix(".placement.json")
    if builder_log is not None:  # built now (else a cache hit: the placement recorded when it was built)
        placement = parse_layer_placement(builder_log)
        sidecar.write_text(json.dumps(placement))
    else:
        try:
            placement = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            placement = None
    facts = {"core": cell.dla_core, "gpu_fallback": cell.gpu_fallback, "placement": placement,
             "trtexec_equivalent": trtexec_equivalent(weights.with_suffix(".onnx").name, engine.name, cell.precision,
                                                      cell.dla_core, cell.gpu_fallback, TRT_WORKSPACE_GB)}
    on_gpu = (placement or {}).get("gpu_layers") or (placement or {}).get("fell_back") or 0
    if not cell.gpu_fallback and on_gpu:
        first = ", ".join((placement or {}).get("gpu_first") or []) or "see the builder log"
        raise BenchmarkError(f"gpu_fallback: false asks for a DLA-only engine, but {on_gpu} layer(s) need the GPU "
                             f"(first: {first[:200]})", "set gpu_fallback: true (the GPU runs what the DLA cannot)")
    if not cell.gpu_fallback and placement is None:
        raise BenchmarkError("gpu_fallback: false: the builder log says nothing about layer placement, so a DLA-only "
                             "engine cannot be confirmed", "set gpu_fallback: true, or check the TensorRT log level")
    return facts


def find_trtexec() -> str | None:
    for c in TRTEXEC_CANDIDATES:
        found = shutil.which(c) or (c if os.path.isfile(c) and os.access(c, os.X_OK) else None)
        if found:
            return found
    return None


def trtexec_command(exe: str, engine: Path, iterations: int = 200, warmup_ms: int = 500, avg_runs: int = 10) -> list[str]:
    """argv (no shell) for pure engine timing of a built engine."""
    return [exe, f"--loadEngine={engine}", f"--iterations={iterations}", f"--warmUp={warmup_ms}",
            f"--avgRuns={avg_runs}", "--useSpinWait"]


def _finite(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def _stats(line: str) -> dict:
    out = {}
    for name, pct, val in _STAT.findall(line):
        key = {"min": "min_ms", "max": "max_ms", "mean": "mean_ms", "median": "p50_ms"}.get(name) or f"p{pct}_ms"
        if (value := _finite(val)) is not None:
            out[key] = value
    return out


def _unwrapped(body: str) -> list[str]:
    """The non-blank lines of ``body``, a line that starts with one of ``_WRAPPED`` joined to the one before.

    Line by line: the regex ``\\s*\\n\\s*(?=median|...)`` this replaces is cubic on blank lines (500 took 0.7 s).
    """
    out: list[list[str]] = []
    for line in devtext.lines(body):
        text = line.strip()
        if not text:
            continue
        if out and text.startswith(_WRAPPED):
            out[-1].append(text)
        else:
            out.append([text])
    return [" ".join(parts) for parts in out]


def parse_trtexec(text: str) -> dict:
    """Throughput and latency / GPU compute statistics from trtexec's last performance summary (linear in
    ``text``; a number that is not finite or not a number is left out)."""
    start = text.rfind("Performance summary")
    body = text[start:] if start >= 0 else text
    out: dict = {}
    for line in _unwrapped(body):
        if "Throughput:" in line and (m := _THROUGHPUT.search(line)):
            if (qps := _finite(m.group(1))) is not None:
                out["throughput_qps"] = qps
        elif "GPU Compute Time:" in line and "Total" not in line:
            out["gpu_compute"] = _stats(line)
        elif re.search(r"(?<!Host )Latency: min", line) and "H2D" not in line and "D2H" not in line:
            out.setdefault("latency", _stats(line))
    if "gpu_compute" not in out:
        raise BenchmarkError("trtexec output has no 'GPU Compute Time' line", "check that trtexec ran the engine")
    return out


def run_trtexec(engine: Path, timeout_s: float = 300) -> dict | None:
    """Pure engine latency via trtexec, or None when trtexec is not installed."""
    exe = find_trtexec()
    if exe is None:
        return None
    cmd = trtexec_command(exe, engine)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise BenchmarkError(f"trtexec exited {proc.returncode}: {proc.stderr.strip()[-300:]}", f"run: {' '.join(cmd)}")
    return {"command": cmd, **parse_trtexec(proc.stdout)}


TRT_WORKSPACE_GB = 4.0


def unsupported(cell, device) -> str | None:
    """Why the cell cannot run here: no DLA for a dla_core cell, no TensorRT, no CUDA device."""
    from harness.models.backends.support.dla import unsupported as no_dla

    if (why := no_dla(cell)) is not None:
        return why
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return "TensorRT is not installed here (import tensorrt failed); run this cell on a Jetson or CUDA desktop"
    if device.type != "cuda":
        return "TensorRT needs a CUDA device and this run is on the CPU"
    return None


def load(p: Prepared) -> LoadedVariant:
    """Build (or reuse) the engine on this device, load it, and time it with trtexec when present."""
    import tensorrt as trt
    from ultralytics.nn.autobackend import AutoBackend

    from harness.environment import collect_environment

    cell, weights = p.cell, p.weights
    env = collect_environment()
    where = engine_device(env)
    cal, data = None, None
    if cell.precision == "int8":
        if p.calibration is None:
            raise CellSkipped("TensorRT int8 needs calibration frames (run it through `harness run`)")
        cal = p.calibration()
        data = calibration_dataset(list(cal.paths), paths.cache_dir() / "calib" / cal.sha256[:16])
    key = engine_key(weights.sha256, trt.__version__, where, cell.precision, p.imgsz, 1, TRT_WORKSPACE_GB,
                     cal.sha256 if cal else None, cell.dla_core, cell.gpu_fallback)
    engine = engine_path(weights.path.stem, cell.precision, p.imgsz, key, cell.dla_core)
    logs: list[str] = []
    build = build_cached(engine, ultralytics_builder(weights.path, cell.precision, p.imgsz, TRT_WORKSPACE_GB, data,
                                                     cell.dla_core), logs)
    build.update(cache_key=key, tensorrt=trt.__version__, device=where, workspace_gb=TRT_WORKSPACE_GB)
    if cell.dla_core is not None:
        build["dla"] = dla_facts(cell, engine, logs[0] if logs else None, weights.path)
    if cal is not None:
        build["calibration"] = {**cal.describe(), "sha256": cal.sha256}
    t0 = time.perf_counter()
    backend = AutoBackend(str(engine), device=p.device, fp16=cell.precision == "fp16", verbose=False)
    build["load_s"] = round(time.perf_counter() - t0, 3)
    try:
        build["trtexec"] = run_trtexec(engine)
    except (BenchmarkError, OSError, subprocess.TimeoutExpired) as e:
        build["trtexec"] = {"error": str(e)}
    p.facts["artifact_bytes"] = engine.stat().st_size
    return LoadedVariant(backend, p.device, bool(getattr(backend, "fp16", False)), "tensorrt", engine, weights,
                         p.facts, build, p.person_class)
