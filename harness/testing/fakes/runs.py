"""Hand-made run directories with known numbers (tests, the report scale benchmark)."""

from __future__ import annotations

from pathlib import Path

from harness.results.record import SCHEMA_VERSION, Latency, LatencyStats, ModelFacts, Power, Quality, Record
from harness.results.store import RunStore
from harness.config.suite import Cell


def record(run_id: str, device: str, cell: Cell, *, p50: float | None = None, p99: float | None = None,
           f1: float | None = None, ap50: float | None = None, mean_w: float | None = None,
           energy_mj: float | None = None, params: int = 3_157_200, status: str = "ok", reason: str | None = None,
           imgsz: int = 640, frames: int = 200, provenance: str = "pretrained", peak_c: float | None = None,
           throttled: bool | None = None, idle_w: float | None = None, ci_pct: float | None = None,
           environment: dict | None = None, scope: str = "module_input") -> dict:
    """A record with these numbers, built as the runner builds one (``Record``); returned as its plain dict."""
    env = {"hostname": f"{device}-host", "torch": "2.x", **(environment or {})}
    rec = Record.new(run_id, device, cell.as_dict(), {"imgsz": imgsz, "frames": frames, "warmup": 10, "conf": 0.25,
                                                      "iou": 0.5, "sequence_name": "MOT17-02-SDP"}, env)
    rec.status, rec.reason = status, reason
    if status != "ok":
        rec.power = Power.none(reason or status)
        return rec.to_dict()
    rec.model = ModelFacts(params=params, weights_provenance=provenance, artifact_bytes=params * 2)
    rec.latency = Latency(total=LatencyStats(mean_ms=p50, p50_ms=p50, p99_ms=p99 or p50))
    rec.fps = 1000.0 / p50 if p50 else None
    rec.n_frames = frames - 10
    rec.quality = Quality(f1=f1, ap50=ap50)
    rec.power = Power(backend="fake", scope=scope, mean_w=mean_w, idle_w=idle_w, energy_per_frame_mj=energy_mj,
                      dynamic_energy_per_frame_mj=(energy_mj - idle_w * p50) if (energy_mj and idle_w) else None,
                      fps_per_w=(rec.fps / mean_w) if (rec.fps and mean_w) else None, peak_temp_c=peak_c,
                      throttled=throttled, status="ok" if energy_mj else "none")
    if ci_pct and p50:  # a rerun interval, as a run with repeats writes it (the numbers stand for 5 repeats)
        h = p50 * ci_pct / 100
        e_ci = [energy_mj * (1 - ci_pct / 100), energy_mj * (1 + ci_pct / 100)] if energy_mj else None
        rec.power.energy_per_frame_ci_mj = e_ci
        rec.uncertainty = {"level": 0.95, "kind": "rerun", "repeats": 5, "method": "hand-made",
                           "latency_p50_ms": [p50 - h, p50 + h], "energy_per_frame_mj": e_ci,
                           "within_window": {"latency_p50_ms": [p50 - h / 3, p50 + h / 3]}}
    return rec.to_dict()


def make_run(root: Path, run_id: str, device: str, records: list[dict], suite_name: str = "seed", imgsz: int = 640,
             frames: int = 200, created_at: str | None = None) -> Path:
    """A run directory holding ``records``; ``created_at`` (ISO time) dates it, as the runner's manifest does."""
    store = RunStore(root / run_id)
    store.create({"schema_version": SCHEMA_VERSION, "run_id": run_id, "state": "complete",
                  **({"created_at": created_at} if created_at else {}),
                  "suite": {"name": suite_name, "imgsz": imgsz, "frames": frames, "warmup": 10},
                  "profile": {"name": device, "kind": "jetson" if not device.startswith("desktop") else device},
                  "sequence": "/data/MOT17-02-SDP",
                  "environment": {"hostname": f"{device}-host", "board_model": device}, "cells": []})
    for r in records:
        store.put_record(r)
    return store.root


def fleet(root: Path) -> list[Path]:
    """Three hand-made runs with realistic numbers (yolov8n, imgsz 640) spanning 100x in latency: an Orin Nano
    (15 W mode, TensorRT), a desktop RTX-class GPU and a desktop CPU; each with references, intervals and power."""
    c = lambda exp, fmt, prec, pr=0.0, ft=False: Cell(exp, "yolov8n", fmt, prec, pr, ft)  # noqa: E731
    nano_env = {"board_model": "NVIDIA Jetson Orin Nano Developer Kit", "l4t": "36.4.3", "nvpmodel": "15W"}
    nano = [
        record("nano", "orin-nano", c("quantization", "pytorch", "fp32"), p50=45.0, f1=0.62, mean_w=8.0, energy_mj=360, idle_w=4.5, ci_pct=3, peak_c=58, environment=nano_env),
        record("nano", "orin-nano", c("quantization", "onnx", "fp16"), p50=20.0, f1=0.62, mean_w=7.5, energy_mj=150, idle_w=4.5, ci_pct=3, peak_c=60, environment=nano_env),
        record("nano", "orin-nano", c("quantization", "tensorrt", "fp16"), p50=6.5, f1=0.62, mean_w=7.2, energy_mj=46.8, idle_w=4.5, ci_pct=2, peak_c=61, environment=nano_env),
        record("nano", "orin-nano", c("quantization", "tensorrt", "int8"), p50=3.5, f1=0.616, mean_w=6.8, energy_mj=23.8, idle_w=4.5, ci_pct=2, peak_c=60, environment=nano_env),
        record("nano", "orin-nano", c("pruning", "pytorch", "fp32"), p50=45.0, f1=0.62, mean_w=8.0, energy_mj=360, idle_w=4.5, ci_pct=3, environment=nano_env),
        record("nano", "orin-nano", c("pruning", "pytorch", "fp32", 0.3, True), p50=34.0, params=2_210_000, f1=0.615, mean_w=7.9, energy_mj=268, idle_w=4.5, ci_pct=3, environment=nano_env),
        record("nano", "orin-nano", c("pruning", "pytorch", "fp32", 0.5), p50=28.0, params=1_580_000, f1=0.30, mean_w=7.8, energy_mj=218, idle_w=4.5, ci_pct=3, environment=nano_env),
    ]
    gpu_env = {"gpu_name": "NVIDIA GeForce RTX 4090", "cuda": "13.0"}
    gpu = [
        record("gpu", "desktop-gpu", c("quantization", "pytorch", "fp32"), p50=4.0, f1=0.62, mean_w=180, energy_mj=720, idle_w=40, ci_pct=4, environment=gpu_env),
        record("gpu", "desktop-gpu", c("quantization", "onnx", "fp16"), p50=2.1, f1=0.62, mean_w=200, energy_mj=420, idle_w=40, ci_pct=4, environment=gpu_env),
        record("gpu", "desktop-gpu", c("quantization", "tensorrt", "fp16"), p50=1.2, f1=0.62, mean_w=220, energy_mj=264, idle_w=40, ci_pct=4, environment=gpu_env),
        record("gpu", "desktop-gpu", c("quantization", "tensorrt", "int8"), p50=0.9, f1=0.616, mean_w=200, energy_mj=180, idle_w=40, ci_pct=4, environment=gpu_env),
    ]
    cpu_env = {"cpu_model": "Intel(R) Core(TM) i7-12700"}
    cpu = [
        record("cpu", "desktop-cpu", c("quantization", "pytorch", "fp32"), p50=90.0, f1=0.62, mean_w=65, energy_mj=5850, idle_w=12, ci_pct=5, environment=cpu_env),
        record("cpu", "desktop-cpu", c("quantization", "onnx", "fp32"), p50=60.0, f1=0.62, mean_w=62, energy_mj=3720, idle_w=12, ci_pct=5, environment=cpu_env),
        record("cpu", "desktop-cpu", c("quantization", "onnx", "int8"), p50=35.0, f1=0.61, mean_w=60, energy_mj=2100, idle_w=12, ci_pct=5, environment=cpu_env),
        record("cpu", "desktop-cpu", c("quantization", "tensorrt", "fp16"), status="skipped",
               reason="TensorRT is not installed here (import tensorrt failed); run this cell on a Jetson or CUDA desktop"),
    ]
    return [make_run(root, "nano", "orin-nano", nano), make_run(root, "gpu", "desktop-gpu", gpu),
            make_run(root, "cpu", "desktop-cpu", cpu)]


def sweep_fleet(root: Path) -> list[Path]:
    """A hand-made Orin NX power-mode sweep (yolov8n, imgsz 640): four modes x PyTorch / TensorRT fp16 / int8 on the
    GPU and int8 on DLA core 0, with mode facts and layer placement as a sweep records them; plus an Orin Nano
    without DLA (its DLA cells skipped). The numbers are made up to exercise the rendering, not measured."""
    modes = {"10W": (0, 4, 1190400, 510000000), "15W": (1, 4, 1497600, 714000000), "25W": (2, 8, 1497600, 918000000),
             "MAXN_SUPER": (3, 8, 1984000, 1173000000)}
    # (variant, dla, p50 ms and W per mode, F1)
    table = [
        ("pytorch", "fp32", None, {"10W": (95.0, 9.1), "15W": (68.0, 12.4), "25W": (52.0, 16.8), "MAXN_SUPER": (41.0, 22.5)}, 0.62),
        ("tensorrt", "fp16", None, {"10W": (9.8, 8.6), "15W": (7.1, 11.5), "25W": (5.6, 15.2), "MAXN_SUPER": (4.4, 20.1)}, 0.62),
        ("tensorrt", "int8", None, {"10W": (6.3, 8.1), "15W": (4.6, 10.8), "25W": (3.7, 14.0), "MAXN_SUPER": (3.0, 18.6)}, 0.615),
        ("tensorrt", "int8", 0, {"10W": (8.9, 5.2), "15W": (7.4, 6.3), "25W": (6.6, 7.4), "MAXN_SUPER": (6.1, 8.6)}, 0.616),
    ]
    nx_env = {"board_model": "NVIDIA Jetson Orin NX Engine Board", "l4t": "36.4.3"}
    recs = []
    for mode, (mode_id, cores, cpu_khz, gpu_hz) in modes.items():
        for fmt, prec, dla, per_mode, f1 in table:
            p50, w = per_mode[mode]
            cell = Cell("sweep", "yolov8n", fmt, prec, power_mode=mode, dla_core=dla)
            r = record("nx-sweep", "orin-nx", cell, p50=p50, f1=f1, mean_w=w, energy_mj=w * p50, idle_w=w * 0.55, ci_pct=2,
                       environment={**nx_env, "nvpmodel": mode})
            r["power_mode"] = {"name": mode, "id": mode_id, "verified_by": "host", "clocks_match": True,
                               "clocks": {"cpu_online": cores, "cpu_max_khz": cpu_khz, "gpu_max_hz": gpu_hz}}
            if dla is not None:
                r["build"] = {"dla": {"core": 0, "gpu_fallback": True,
                                      "placement": {"dla_layers": 3, "gpu_layers": 41, "fell_back": 38}}}
            recs.append(r)
    nano_env = {"board_model": "NVIDIA Jetson Orin Nano Developer Kit", "l4t": "36.4.3", "nvpmodel": "15W"}
    nano = [
        record("nano-dla", "orin-nano", Cell("sweep", "yolov8n", "pytorch", "fp32"), p50=45.0, f1=0.62, mean_w=8.0,
               energy_mj=360, idle_w=4.5, ci_pct=3, environment=nano_env),
        record("nano-dla", "orin-nano", Cell("sweep", "yolov8n", "tensorrt", "int8"), p50=3.5, f1=0.616, mean_w=6.8,
               energy_mj=23.8, idle_w=4.5, ci_pct=2, environment=nano_env),
        record("nano-dla", "orin-nano", Cell("sweep", "yolov8n", "tensorrt", "int8", dla_core=0), status="skipped",
               reason="this device has no DLA cores (Orin Nano and desktops have none; Xavier, Orin NX and AGX Orin have "
                      "them): the cell needs dla_core 0"),
    ]
    return [make_run(root, "nx-sweep", "orin-nx", recs, "sweep"), make_run(root, "nano-dla", "orin-nano", nano, "sweep")]
