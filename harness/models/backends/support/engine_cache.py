"""Where TensorRT engines live: a content key of everything that changes an engine, its file in the cache.

Engines are not portable across TensorRT versions or devices, so the key holds the model file's hash, the
TensorRT version, the device (``engine_device``: on a Jetson the board's L4T release and model, as the container
sees them through the mounted ``/etc/nv_tegra_release``; elsewhere the GPU's name), precision, imgsz, batch,
workspace and -- for INT8 -- the calibration set's hash, and for the DLA the core and GPU fallback.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from harness.cache import ContentCache


def engine_key(model_sha256: str, trt_version: str, device: str, precision: str, imgsz: int, batch: int = 1,
               workspace_gb: float = 4.0, calibration_sha256: str | None = None, dla_core: int | None = None,
               gpu_fallback: bool = True) -> str:
    """Content key of an engine; every argument that changes the built engine is in it (GPU keys predate the DLA)."""
    parts = [model_sha256, f"trt={trt_version}", f"dev={device}", precision, f"imgsz={imgsz}", f"batch={batch}",
             f"ws={workspace_gb:g}", f"cal={calibration_sha256 if precision == 'int8' else '-'}"]
    if dla_core is not None:
        parts += [f"dla={dla_core}", f"fallback={int(gpu_fallback)}"]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def engine_device(env: dict) -> str:
    """What an engine is built for, from the record's environment: on a Jetson the host's L4T release (in a
    container: the board's file mounted over the image's) and the board model; elsewhere the GPU's name."""
    if env.get("l4t"):
        return f"L4T {env['l4t']}" + (f" {env['board_model']}" if env.get("board_model") else "")
    return env.get("gpu_name") or "cuda"


ENGINES = "engines"


def engine_path(stem: str, precision: str, imgsz: int, key: str, dla_core: int | None = None) -> Path:
    target = "" if dla_core is None else f"-dla{dla_core}"
    return ContentCache(ENGINES).root / f"{stem}-{precision}-{imgsz}{target}-{key}.engine"


def build_cached(path: Path, builder: Callable[[Path], str], full_log: list | None = None) -> dict:
    """Build ``path`` (under the cache's ``engines/``) with ``builder(tmp_path) -> log`` unless it exists; atomic.

    Returns the build facts: ``cache_hit``, ``build_s`` (0.0 on a hit), ``engine_bytes``, ``builder_log`` (its end);
    ``full_log`` (a list) receives the whole log of a build.
    """
    logs: list[str] = full_log if full_log is not None else []
    entry = ContentCache(ENGINES).entry_at(path, path.stem.rsplit("-", 1)[-1], lambda tmp: logs.append(builder(tmp) or ""))
    return {"cache_hit": entry.hit, "build_s": entry.build_s, "engine_bytes": path.stat().st_size,
            "builder_log": logs[0][-4000:] if logs else None}


