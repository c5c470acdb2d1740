"""Rich rendering of comparison rows (``harness compare``, end of ``harness run``)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from harness.results.compare import device_labels
from harness.results.render.table import STATUS_STYLE


def _n(v, fmt: str) -> str:
    return "—" if v is None else format(v, fmt)


def with_interval(v, lo, hi, fmt: str) -> str:
    """``value ±half-width`` (the half-width of the 95 % interval), or the value alone."""
    if v is None:
        return "—"
    if lo is None or hi is None:
        return format(v, fmt)
    return f"{format(v, fmt)} ±{format((hi - lo) / 2, fmt)}"


def ratio_text(v, sig) -> str:
    """A ratio, with ``~`` when its interval contains 1 (within noise)."""
    return "—" if v is None else f"{v:.2f}" + ("~" if sig is False else "")


def compare_table(rows: list[dict], title: str | None = None) -> Table:
    t = Table(title=title, header_style="bold")
    cols = [("device", "left"), ("model", "left"), ("variant", "left"), ("params M", "right"), ("p50 ms", "right"),
            ("p99 ms", "right"), ("FPS", "right"), ("F1", "right"), ("AP50", "right"), ("W", "right"),
            ("mJ/frame", "right"), ("dyn mJ", "right"), ("FPS/W", "right"), ("peak C", "right"), ("thr", "center"),
            ("x ref", "right"), ("E/ref", "right"), ("ΔF1", "right"),
            ("x speed", "right"), ("x energy", "right"), ("pareto", "center"), ("status", "left")]
    for name, just in cols:
        t.add_column(name, justify=just, no_wrap=name in ("device", "model", "variant", "status"))
    notes: dict[str, None] = {}  # ordered set
    for r, device in zip(rows, device_labels(rows)):
        pareto = ("E" if r["pareto_f1_energy"] else "") + ("L" if r["pareto_f1_latency"] else "")
        status = Text(r["status"] or "?", style=STATUS_STYLE.get(r["status"], ""))
        if r["reason"]:
            notes[f"{device} {r['cell_id']}: {r['status']}: {r['reason']}"] = None
        if r.get("below_floor"):
            status.append(" <floor", style="bold red")
        if r.get("power_status") == "insufficient":
            notes[f"{device} {r['cell_id']}: power insufficient: {r['power_reason']}"] = None
        if r["settings_note"]:
            status.append(" !", style="bold yellow")
            notes[f"{device}: ! not comparable with the baseline ({r['settings_note']})"] = None
        model = Text(r["model"] or "?")
        if r["weights_provenance"] == "random-init":
            model.append(" (random)", style="bold red")
        thr = {True: Text("yes", style="bold red"), False: Text("no")}.get(r["throttled"], Text("—"))
        t.add_row(
            device, model, r["variant"], _n(r["params"] / 1e6 if r["params"] else None, ".2f"),
            with_interval(r["latency_p50_ms"], r["latency_p50_ci_lo_ms"], r["latency_p50_ci_hi_ms"], ".1f"),
            _n(r["latency_p99_ms"], ".1f"), _n(r["fps"], ".1f"),
            _n(r["f1"], ".3f"), _n(r["ap50"], ".3f"), _n(r["mean_w"], ".2f"),
            with_interval(r["energy_per_frame_mj"], r["energy_per_frame_ci_lo_mj"], r["energy_per_frame_ci_hi_mj"], ".1f"),
            _n(r["dynamic_energy_per_frame_mj"], ".1f"), _n(r["fps_per_w"], ".2f"), _n(r["peak_temp_c"], ".0f"), thr,
            ratio_text(r["speedup_vs_ref"], r["speedup_vs_ref_significant"]),
            ratio_text(r["energy_ratio_vs_ref"], r["energy_vs_ref_significant"]),
            "—" if r["f1_delta_vs_ref"] is None else f"{r['f1_delta_vs_ref']:+.3f}",
            ratio_text(r["speedup_vs_baseline"], r["speedup_vs_baseline_significant"]),
            ratio_text(r["energy_ratio_vs_baseline"], r["energy_vs_baseline_significant"]), Text(pareto, style="bold green"),
            status,
        )
    legend = ("±: half-width of the 95 % interval; x ref / E/ref / ΔF1: speed-up, energy ratio and F1 change against the "
              "experiment's reference cell; x speed / x energy: against the baseline run; ~: within noise (the ratio's "
              "interval contains 1); <floor: below the accuracy floor (never Pareto); pareto E/L = not dominated on F1 vs "
              "energy / latency")
    t.caption = Text("\n".join([legend, *notes]), style="dim", justify="left")
    t.caption_justify = "left"
    return t
