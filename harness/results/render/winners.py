"""The "Which variant wins" table below the results: per device, the best variant by FPS/W and the fastest."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from harness.errors import printable
from harness.results.best import best_per_device
from harness.results.render.table import number_text


def best_table(rows: list[dict], width: int = 10_000, include_contended: bool | None = None) -> Table | None:
    """Per device: the best variant by FPS/W and the fastest (``results.best``: at or above the accuracy floor, real
    weights, not contended unless included); a random-init pick is marked speed only.

    Numbers are dropped (F1, then p50, then FPS/W) until the table fits ``width``; names never wrap.
    """
    best = best_per_device(rows, include_contended)
    if not any(b["best_latency"] or b["contended_left_out"] for b in best):
        return None  # nothing ran; but cells left out for a busy host are said, even when that leaves no pick
    cols = [("device", "left", lambda b: b["device"]), ("best FPS/W", "left", lambda b: _pick(b["best_fps_per_w"])),
            ("FPS/W", "right", lambda b: number_text(b["best_fps_per_w"] and b["best_fps_per_w"]["fps_per_w"], ".2f")),
            ("fastest", "left", lambda b: _pick(b["best_latency"])),
            ("p50 ms", "right", lambda b: number_text(b["best_latency"] and b["best_latency"]["latency_p50_ms"], ".1f")),
            ("F1", "right", lambda b: _pick_f1(b["best_latency"]))]
    console = Console(width=10_000)
    for drop in ((), ("F1",), ("F1", "p50 ms"), ("F1", "p50 ms", "FPS/W")):
        t = Table(title="Which variant wins", title_justify="left", header_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False)
        shown = [c for c in cols if c[0] not in drop]
        for name, justify, _ in shown:
            t.add_column(name, justify=justify, no_wrap=True)
        for b in best:
            t.add_row(*(cell(b) for _, _, cell in shown))
        if Measurement.get(console, console.options, t).maximum <= width:
            break
    foot = [f"{b['device']}: {b['note']}" for b in best if b["note"]]
    if any(b["unverified"] for b in best):
        foot.append(SPEED_ONLY)
    if foot:  # a Text: names and reasons come from records, never read as markup
        t.caption, t.caption_justify, t.caption_style = Text("\n".join(printable(f) for f in foot)), "left", "dim"
    return t


SPEED_ONLY = "* speed only: random-init weights (nothing else ran there): the latency is real, the F1 means nothing"


def _pick(r: dict | None) -> Text:
    """A winner's name; a random-init one is a speed-only pick and says so."""
    if r is None:
        return Text("—")
    t = Text(printable(f"{r['model']} {r['variant']}"))
    if r.get("weights_provenance") == "random-init":
        t.append("* speed only", style="bold red")
    return t


def _pick_f1(r: dict | None) -> str:
    """The winner's F1; none for random-init weights (the number would mean nothing)."""
    return "—" if r is None or r.get("weights_provenance") == "random-init" else number_text(r["f1"], ".3f")
