"""Rich tables of records (what `harness run` prints at the end)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from harness.results.rows import at

STATUS_STYLE = {"ok": "green", "skipped": "yellow", "failed": "red"}


def _num(v, fmt: str) -> str:
    return "—" if v is None else format(v, fmt)


def records_table(records: list[dict], title: str | None = None) -> Table:
    """One row per cell: variant, model facts, latency, FPS, quality, status/reason."""
    t = Table(title=title, header_style="bold", show_lines=False)
    for col, just in [
        ("cell", "left"), ("weights", "left"), ("runtime", "left"), ("params M", "right"),
        ("file MB", "right"), ("mean ms", "right"), ("p99", "right"), ("pre/inf/post ms", "right"),
        ("FPS", "right"), ("W", "right"), ("mJ/frame", "right"), ("FPS/W", "right"), ("F1", "right"),
        ("AP50", "right"), ("status", "left"),
    ]:
        t.add_column(col, justify=just, overflow="fold", no_wrap=col in ("cell", "weights", "status", "mean ms"))
    random_init = False
    notes: list[str] = []
    for r in records:
        m, lat, q, pw = r.get("model") or {}, r.get("latency") or {}, r.get("quality") or {}, r.get("power") or {}
        tot = lat.get("total", {})
        prov = m.get("weights_provenance")
        random_init |= prov == "random-init"
        weights = Text(prov or "—", style="bold red" if prov == "random-init" else "")
        stages = "/".join(_num(lat.get(s, {}).get("mean_ms"), ".1f") for s in ("pre", "infer", "post")) if lat else "—"
        status = Text(r.get("status") or "?", style=STATUS_STYLE.get(r.get("status"), ""))
        if r.get("reason"):
            notes.append(f"{r.get('cell_id')}: {r.get('status')}: {r['reason']}")
        params = m.get("params")
        size = m.get("artifact_bytes")
        t.add_row(
            r.get("cell_id", "?"), weights, (r.get("runtime") or "—").replace("ExecutionProvider", " EP"),
            _num(params / 1e6 if params else None, ".2f"), _num(size / 1e6 if size else None, ".1f"),
            _num(tot.get("mean_ms"), ".1f") + ("" if tot.get("std_ms") is None else f" ±{tot['std_ms']:.1f}"),
            _num(tot.get("p99_ms"), ".1f"), stages,
            _num(r.get("fps"), ".1f"), _num(pw.get("mean_w"), ".2f"), _num(pw.get("energy_per_frame_mj"), ".1f"),
            _num(pw.get("fps_per_w"), ".2f"), _num(q.get("f1"), ".3f"), _num(q.get("ap50"), ".3f"), status,
        )
    no_power = {at(r, "power", "reason") for r in records if r.get("status") == "ok" and at(r, "power", "backend") == "none"}
    notes += [f"power: {why}" for why in sorted(x for x in no_power if x)]
    notes += [f"{r['cell_id']}: power insufficient: {at(r, 'power', 'reason')}" for r in records
              if at(r, "power", "status") == "insufficient"]
    caption = Text("\n".join(notes), style="dim", justify="left")
    if random_init:
        caption.append(
            ("\n" if notes else "") + "RANDOM-INIT WEIGHTS: pretrained weights were not available, so these models "
            "have random weights. Latency is valid; F1/AP50 are meaningless. Put yolo*.pt files in the models dir "
            "(HARNESS_MODELS_DIR) or run online.",
            style="bold red",
        )
    if caption.plain:
        t.caption = caption
        t.caption_justify = "left"
    return t
