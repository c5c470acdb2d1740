"""The answer first: per device, the best variant by FPS/W and the fastest, and each board against the desktops.

A pick means something: a variant can win only if its cell ran (``ok``), is not below the accuracy floor, was not
measured on a busy host (``contended``; unless ``include_contended``) and has real weights -- random-init weights
make F1 meaningless, so such a row is never the best FPS/W and is the fastest only as a labelled speed-only pick
when the device has nothing else. Among the rest a model with an F1 beats one never scored. When a random-init
variant is faster than the pick, the entry keeps it as ``speed_only`` and its note says so.

Board vs desktop: a device is a board when its rows recorded an L4T release or a device-tree board model, a
desktop when they recorded a host without them (a PC, whatever its profile is called), else as its profile's kind
says. For every (board, desktop) pair: the best FPS/W on each side set against each other, and the medians of the
latency and energy ratios over the configurations both ran (``match.config_key``, not the experiment's name).
"""

from __future__ import annotations

from statistics import median

from harness.results.compare import contended_why, counting_contended, counts
from harness.results.match import by_config, config_key, match_config

RANDOM_INIT = "random-init"


def eligible(rows: list[dict], need_power: bool = False, include_contended: bool | None = None,
             speed_only: bool = False) -> list[dict]:
    """Rows a pick may choose: ran with a latency, not below the floor, not contended (unless included), a valid
    FPS/W with ``need_power``, real weights unless ``speed_only`` (a latency comparison, where weights do not matter)."""
    return [r for r in rows if r["status"] == "ok" and r.get("below_floor") is not True
            and r.get("latency_p50_ms") is not None and (not need_power or r.get("fps_per_w") is not None)
            and counts(r, include_contended) and (speed_only or r.get("weights_provenance") != RANDOM_INIT)]


def _name(r: dict) -> str:
    return f"{r['model']} {r['variant']}"


def best_per_device(rows: list[dict], include_contended: bool | None = None) -> list[dict]:
    """One entry per device: ``best_fps_per_w`` and ``best_latency`` rows (or None), ``speed_only`` (a faster
    random-init row, or None), ``unverified`` (the fastest is random-init: nothing else ran), ``desktop``,
    ``contended_left_out`` and a ``note``."""
    out = []
    include = counting_contended(include_contended)
    for device in dict.fromkeys(r["device"] for r in rows):
        mine = [r for r in rows if r["device"] == device]
        speed = eligible(mine, include_contended=include, speed_only=True)
        real = [r for r in speed if r.get("weights_provenance") != RANDOM_INIT]
        scored = [r for r in real if r.get("f1") is not None]
        pool = scored or real  # a model with an F1 wins over one never scored
        power = [r for r in pool if r.get("fps_per_w") is not None] or [r for r in real if r.get("fps_per_w") is not None]
        pick_e = max(power, key=lambda r: r["fps_per_w"]) if power else None
        pick_l = min(pool or speed, key=lambda r: r["latency_p50_ms"]) if speed else None
        fastest = min(speed, key=lambda r: r["latency_p50_ms"]) if speed else None
        speed_only = (fastest if fastest is not None and fastest is not pick_l and fastest.get("weights_provenance") ==
                      RANDOM_INIT and fastest["latency_p50_ms"] < pick_l["latency_p50_ms"] else None)
        unverified = pick_l is not None and pick_l.get("weights_provenance") == RANDOM_INIT
        notes = []
        if pick_e is None and speed:  # with none eligible, the notes below say why (contended, below the floor)
            notes.append("only random-init rows have a power figure: no FPS/W pick (their F1 means nothing)"
                         if any(r.get("fps_per_w") is not None for r in speed)
                         else "no valid power figure on this device: no FPS/W pick")
        if unverified:
            notes.append("random-init weights only: the fastest is a speed-only pick (F1 means nothing, no accuracy "
                         "floor was checked)")
        if speed_only is not None:
            notes.append(f"speed only: {_name(speed_only)} is faster ({speed_only['latency_p50_ms']:.1f} ms p50) but has "
                         "random-init weights, so its F1 means nothing")
        dropped = sum(1 for r in mine if r.get("below_floor"))
        if dropped:
            notes.append(f"{dropped} variant(s) below the accuracy floor left out")
        busy = [r for r in mine if r["status"] == "ok" and r.get("contended") is True]
        if busy:
            n = f"{len(busy)} contended cell" + ("" if len(busy) == 1 else "s")
            notes.append(f"{n} counted (--include-contended; {contended_why(busy)})" if include else
                         f"{n} left out ({contended_why(busy)}); --include-contended counts "
                         + ("it" if len(busy) == 1 else "them"))
        kind = next((r.get("device_kind") for r in mine if r.get("device_kind")), None)
        out.append({"device": device, "device_kind": kind, "desktop": is_desktop(mine), "best_fps_per_w": pick_e,
                    "best_latency": pick_l, "speed_only": speed_only, "unverified": unverified,
                    "contended_left_out": 0 if include else len(busy), "note": "; ".join(notes) or None})
    return out


def is_desktop(rows: list[dict]) -> bool:
    """A device's rows come from a desktop: an L4T release or a device-tree board model in their environment means
    a board; a described host without them (CPU model, GPU name) a desktop, whatever the profile is called; rows
    that recorded neither go by the profile's kind (``desktop-*``), or the device's name when there is no kind."""
    if any(r.get("env_l4t") or r.get("env_board_model") for r in rows):
        return False
    if any(r.get("env_cpu_model") or r.get("env_gpu_name") for r in rows):
        return True
    kind = next((r.get("device_kind") for r in rows if r.get("device_kind")), None)
    device = next((r["device"] for r in rows if r.get("device")), "")
    return (kind or "").startswith("desktop") or (kind is None and device.startswith("desktop"))


def common_configurations(board: list[dict], desktop: list[dict]) -> list[tuple[dict, dict]]:
    """(board row, desktop row) per configuration both ran (``compare.match_config``); when the board ran one in
    several experiments, the pair whose experiment names agree, else the first."""
    index = by_config(desktop)
    pairs: dict[tuple, tuple[dict, dict]] = {}
    for r in board:
        d = match_config(r, index)
        if d is None:
            continue
        key, prev = config_key(r), pairs.get(config_key(r))
        if prev is None or (prev[0]["experiment"] != prev[1]["experiment"] and r["experiment"] == d["experiment"]):
            pairs[key] = (r, d)
    return list(pairs.values())


def board_vs_desktop(rows: list[dict], include_contended: bool | None = None) -> list[dict]:
    """For each (board, desktop) pair: best FPS/W on each, and median ratios over the configurations both ran
    (latency and energy of the same configuration: random-init rows count here, contended ones only if included)."""
    bests = {b["device"]: b for b in best_per_device(rows, include_contended)}
    speed = {d: eligible([r for r in rows if r["device"] == d], include_contended=include_contended, speed_only=True)
             for d in bests}
    out = []
    for board, b in bests.items():
        if b["desktop"]:
            continue
        for desk, d in bests.items():
            if not d["desktop"]:
                continue
            common = common_configurations(speed[board], speed[desk])
            lat = [m["latency_p50_ms"] / t["latency_p50_ms"] for m, t in common]
            energy = [m["energy_per_frame_mj"] / t["energy_per_frame_mj"] for m, t in common
                      if m.get("energy_per_frame_mj") and t.get("energy_per_frame_mj")]
            be, de = b["best_fps_per_w"], d["best_fps_per_w"]
            out.append({"board": board, "desktop": desk, "cells": len(common),
                        "latency_ratio": median(lat) if lat else None, "energy_ratio": median(energy) if energy else None,
                        "best_fps_per_w_ratio": be["fps_per_w"] / de["fps_per_w"] if be and de else None,
                        "board_best": be, "desktop_best": de})
    return out
