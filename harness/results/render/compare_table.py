"""Rich rendering of comparison rows (``harness compare``, end of ``harness run``)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from harness.results.compare import device_labels
from harness.results.render.table import STATUS_STYLE


def _n(v, fmt: str) -> str:
    return "—" if v is None else format(v, fmt)


def compare_table(rows: list[dict], title: str | None = None) -> Table:
    t = Table(title=title, header_style="bold")
    cols = [("device", "left"), ("model", "left"), ("variant", "left"), ("params M", "right"), ("p50 ms", "right"),
            ("p99 ms", "right"), ("FPS", "right"), ("F1", "right"), ("AP50", "right"), ("W", "right"),
            ("mJ/frame", "right"), ("dyn mJ", "right"), ("FPS/W", "right"), ("peak C", "right"), ("thr", "center"),
            ("x speed", "right"), ("x energy", "right"), ("pareto", "center"), ("status", "left")]
    for name, just in cols:
        t.add_column(name, justify=just, no_wrap=name in ("device", "model", "variant", "status"))
    notes: dict[str, None] = {}  # ordered set
    for r, device in zip(rows, device_labels(rows)):
        pareto = ("E" if r["pareto_f1_energy"] else "") + ("L" if r["pareto_f1_latency"] else "")
        status = Text(r["status"] or "?", style=STATUS_STYLE.get(r["status"], ""))
        if r["reason"]:
            notes[f"{device} {r['cell_id']}: {r['status']}: {r['reason']}"] = None
        if r["settings_note"]:
            status.append(" !", style="bold yellow")
            notes[f"{device}: ! not comparable with the baseline ({r['settings_note']})"] = None
        model = Text(r["model"] or "?")
        if r["weights_provenance"] == "random-init":
            model.append(" (random)", style="bold red")
        thr = {True: Text("yes", style="bold red"), False: Text("no")}.get(r["throttled"], Text("—"))
        t.add_row(
            device, model, r["variant"], _n(r["params"] / 1e6 if r["params"] else None, ".2f"),
            _n(r["latency_p50_ms"], ".1f"), _n(r["latency_p99_ms"], ".1f"), _n(r["fps"], ".1f"),
            _n(r["f1"], ".3f"), _n(r["ap50"], ".3f"), _n(r["mean_w"], ".2f"), _n(r["energy_per_frame_mj"], ".1f"),
            _n(r["dynamic_energy_per_frame_mj"], ".1f"), _n(r["fps_per_w"], ".2f"), _n(r["peak_temp_c"], ".0f"), thr,
            _n(r["speedup_vs_baseline"], ".2f"), _n(r["energy_ratio_vs_baseline"], ".2f"), Text(pareto, style="bold green"),
            status,
        )
    legend = "x speed = baseline p50 / p50; x energy = mJ/frame / baseline mJ/frame; pareto E/L = not dominated on F1 vs energy / latency"
    t.caption = Text("\n".join([legend, *notes]), style="dim", justify="left")
    t.caption_justify = "left"
    return t
