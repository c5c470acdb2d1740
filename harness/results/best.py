"""The answer first: per device, the best variant by FPS/W and by latency, and each board against the desktops.

A variant can be "best" only if its cell ran (``ok``), is not below the accuracy floor, and -- for
FPS/W -- has a valid power figure. When a device's candidates all have random-init weights, F1 says
nothing and the pick says so (``unverified``). Board vs desktop: for every board (a device that is
not ``desktop-*``) and every desktop in the comparison, the best FPS/W on each side set against each
other, and the medians of the latency and energy ratios over the cells both ran.
"""

from __future__ import annotations

from statistics import median


def eligible(rows: list[dict], need_power: bool = False) -> list[dict]:
    return [r for r in rows if r["status"] == "ok" and r.get("below_floor") is not True
            and r.get("latency_p50_ms") is not None and (not need_power or r.get("fps_per_w") is not None)]


def best_per_device(rows: list[dict]) -> list[dict]:
    """One entry per device: ``best_fps_per_w`` and ``best_latency`` rows (or None), ``unverified`` and a ``note``."""
    out = []
    for device in dict.fromkeys(r["device"] for r in rows):
        mine = [r for r in rows if r["device"] == device]
        power = eligible(mine, need_power=True)
        speed = eligible(mine)
        pick_e = max(power, key=lambda r: r["fps_per_w"]) if power else None
        pick_l = min(speed, key=lambda r: r["latency_p50_ms"]) if speed else None
        unverified = bool(speed) and all(r.get("weights_provenance") == "random-init" for r in speed)
        notes = []
        if not power:
            notes.append("no valid power figure on this device: no FPS/W pick")
        if unverified:
            notes.append("random-init weights: F1 is meaningless, so no accuracy floor was checked")
        dropped = sum(1 for r in mine if r.get("below_floor"))
        if dropped:
            notes.append(f"{dropped} variant(s) below the accuracy floor left out")
        kind = next((r.get("device_kind") for r in mine if r.get("device_kind")), None)
        out.append({"device": device, "device_kind": kind, "best_fps_per_w": pick_e, "best_latency": pick_l,
                    "unverified": unverified, "note": "; ".join(notes) or None})
    return out


def is_desktop(kind: str | None, device: str) -> bool:
    return (kind or "").startswith("desktop") or (kind is None and device.startswith("desktop"))


def board_vs_desktop(rows: list[dict]) -> list[dict]:
    """For each (board, desktop) pair: best FPS/W on each, and median ratios over the cells both ran."""
    bests = {b["device"]: b for b in best_per_device(rows)}
    out = []
    for board, b in bests.items():
        if is_desktop(b["device_kind"], board):
            continue
        for desk, d in bests.items():
            if not is_desktop(d["device_kind"], desk):
                continue
            mine = {r["cell_id"]: r for r in eligible([r for r in rows if r["device"] == board])}
            theirs = {r["cell_id"]: r for r in eligible([r for r in rows if r["device"] == desk])}
            common = sorted(set(mine) & set(theirs))
            lat = [mine[c]["latency_p50_ms"] / theirs[c]["latency_p50_ms"] for c in common]
            energy = [mine[c]["energy_per_frame_mj"] / theirs[c]["energy_per_frame_mj"] for c in common
                      if mine[c].get("energy_per_frame_mj") and theirs[c].get("energy_per_frame_mj")]
            be, de = b["best_fps_per_w"], d["best_fps_per_w"]
            out.append({"board": board, "desktop": desk, "cells": len(common),
                        "latency_ratio": median(lat) if lat else None, "energy_ratio": median(energy) if energy else None,
                        "best_fps_per_w_ratio": be["fps_per_w"] / de["fps_per_w"] if be and de else None,
                        "board_best": be, "desktop_best": de})
    return out
