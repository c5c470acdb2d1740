"""The results table's caption: columns left out or said once, shortened labels, each row's reasons and flags, and a
legend of the marks used (the HTML report's table shares it)."""

from __future__ import annotations

import re

from rich.text import Text

from harness.errors import printable
from harness.results.compare import device_labels


def _plain(v) -> str:
    return v.plain if isinstance(v, Text) else str(v)


REFERENCE_MEANING = "F1 is meaningful on synthetic sequences (what it was fine-tuned on), not a COCO detector's F1 on MOT17"


def reference_sources(rows: list[dict]) -> list[str]:
    """Where the reference detector in these rows came from (its pruned / fine-tuned forms named by their start)."""
    return sorted({re.sub(r"^((pruned|fine-tuned|bn-recovered):)+", "", r["weights_source"]).removeprefix("reference: ")
                   for r in rows if r.get("weights_provenance") == "reference" and r.get("weights_source")})


def notes(rows: list[dict], shown: set[str], hidden: list[str] = (), once: dict | None = None,
          labels: dict[str, str] | None = None) -> Text:
    """The caption: columns left out (``hidden``) or said once for every row (``once``: name -> cell), shortened
    device labels (short -> full), the rows' reasons and flags, and a legend of the marks used."""
    out: dict[str, str] = {}  # ordered set: text -> style
    if hidden:
        out[f"hidden: {', '.join(hidden)} — use --wide"] = "yellow"
    if once:
        out["every row: " + ", ".join(f"{name} {_plain(v)}" for name, v in once.items())] = ""
    for short, full in (labels or {}).items():
        out[f"{short} = {full}"] = "dim"
    for r, device in zip(rows, device_labels(rows)):
        where = f"{device} {r['cell_id']}"
        if r["reason"]:
            out[f"{where}: {r['status']}: {r['reason']}"] = "dim"
        if r.get("power_status") == "insufficient":
            out[f"{where}: power insufficient: {r['power_reason']}"] = "dim"
        if r.get("settings_note"):
            out[f"{device}: ! not comparable with the baseline ({r['settings_note']})"] = "yellow"
        if r.get("contended") is True:
            out[f"{where}: busy: {r.get('contended_reason') or 'the host was busy during the timed window'}"] = "yellow"
    no_power = sorted({r["power_reason"] for r in rows if r["status"] == "ok" and r.get("power_backend") == "none"
                       and r.get("power_reason")})
    for why in no_power:
        out[f"no power figures: {why}"] = "dim"
    legend = ["±: half-width of the 95 % interval where a rerun of the cell lands (from its n interleaved repeats); "
              "n=1: one window, no interval, no significance"]
    if shown & {"x ref", "E/ref", "ΔF1"}:
        legend.append("x ref / E/ref / ΔF1: against the experiment's reference cell (unpruned fp32 unless the suite says)")
    if shown & {"x base", "E/base"}:
        legend.append("x base / E/base: the same configuration (model, weights, format, precision, pruning, imgsz, mode, target) in the baseline run")
    legend.append("~: within noise (the ratio's interval contains 1)")
    if any(r.get("contended") is True for r in rows):
        legend.append("busy: other processes used the CPUs during the timed window (contended: never best)")
    if any(r.get("threads_over_idle") is True for r in rows):
        legend.append("thr>: more inference threads than free cores (set threads: in the suite or profile)")
    if any(r.get("below_floor") for r in rows):
        legend.append("<floor: below the accuracy floor (never Pareto, never best)")
    if "pareto" in shown:
        legend.append("pareto E/L: not dominated on F1 vs energy / latency")
    if "ch cut" in shown:
        legend.append("ch cut: % of prunable channels removed (rounding makes it more than asked at small ratios)")
    out["; ".join(legend)] = "dim"
    if any(r.get("weights_provenance") == "random-init" for r in rows):
        out["* RANDOM-INIT WEIGHTS: no pretrained weights were available, so these models have random weights. "
            "Latency is valid; F1/AP50 are meaningless. Put yolo*.pt files in the models dir (HARNESS_MODELS_DIR), "
            "run online, or use the reference detector (`models: [reference]` in a suite)."] = "bold red"
    for src in reference_sources(rows):
        out[f"reference = {src}: {REFERENCE_MEANING}"] = "cyan"
    caption = Text(justify="left")
    for i, (text, style) in enumerate(out.items()):  # reasons and names come from records: printable, literal
        caption.append(("\n" if i else "") + printable(text), style=style)
    return caption
