"""PNG charts of comparison rows (matplotlib, Agg): the notebooks' charts, readable at any number of variants.

Rankings are horizontal (variant names stay legible however many there are), one panel per device with
its own axis (a desktop GPU's values stay visible beside a CPU's). Within 10x a panel draws bars on a
linear axis; beyond, a dot plot on a log axis (a bar's length on a log axis is not proportional to its
value). Every value is written beside its mark; scatter points carry a number that the legend names,
and points that would sit on each other share one marker. F1 is never drawn for random-init weights
(it means nothing), and a title names only the marks the chart has. Every axis says its unit.
"""

from __future__ import annotations

from pathlib import Path

DPI = 110
PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]
SPAN_FOR_LOG = 10.0


def plt_():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # text.parse_math off: every label is shown literally -- model, profile and cell names come from records, and a
    # ``$...$`` in one would otherwise be parsed as mathtext (a crafted one fails the parse or recurses without end)
    plt.rcParams.update({"figure.dpi": DPI, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "text.parse_math": False})
    return plt


def save(fig, path: Path, rect: tuple[float, float, float, float] | None = None) -> Path:
    """Lay out (inside ``rect`` of the figure when given: room kept for a legend below), write the PNG, close."""
    import matplotlib.pyplot as plt

    fig.tight_layout(**({"rect": rect} if rect else {}))
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def _log_if_wide(ax, values, axis: str = "x") -> None:
    """A log axis when the values span more than ``SPAN_FOR_LOG``; ticks at 1, 2 and 5 per decade, plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    vals = [v for v in values if v and v > 0]
    if not vals or max(vals) / min(vals) <= SPAN_FOR_LOG:
        return
    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_formatter(NullFormatter())


def short(text: str, limit: int = 48) -> str:
    """``text`` for a tick label or a panel title: at most ``limit`` characters (a record's names are free text)."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def has_f1(r: dict) -> bool:
    """An F1 worth drawing: measured, and not of random-init weights (whose F1 means nothing)."""
    return r.get("f1") is not None and r.get("weights_provenance") != "random-init"


def wide_span(values) -> bool:
    vals = [v for v in values if v and v > 0]
    return bool(vals) and max(vals) / min(vals) > SPAN_FOR_LOG


def ranked(ax, ys: list[int], vals: list[float], color, fmt: str, err=None, colors=None) -> None:
    """``vals`` at rows ``ys``: bars on a linear axis within 10x, else dots on a log axis; each value written."""
    if wide_span(vals):
        ax.errorbar(vals, ys, xerr=err, fmt="none", ecolor="#555", capsize=3, zorder=2)
        ax.scatter(vals, ys, s=36, color=colors or color, zorder=3)
        ax.grid(True, axis="x", ls="--", alpha=0.4)
        _log_if_wide(ax, vals)
    else:
        ax.barh(ys, vals, xerr=err, color=colors or color, capsize=3, height=0.7)
        ax.set_xlim(left=0)
    hi = err[1] if err else [0] * len(vals)
    for y, v, h in zip(ys, vals, hi):
        ax.annotate(format(v, fmt), (v + h, y), xytext=(5, 0), textcoords="offset points", va="center", fontsize=7)
    ax.margins(x=0.3)


def _label(r: dict) -> str:
    return f"{r['model']} {r['variant']}"


MAX_BARS = 40  # bars in one panel of a ranking (the best ones): more would make a PNG taller than a screen
NUMBERED_POINTS = 40  # points of a scatter numbered with a legend; beyond, plain markers (labels would overlap)


def distinct(rows: list[dict]) -> list[dict]:
    """One row per (device, model, variant): an experiment's reference is often the same configuration as
    another experiment's (unpruned fp32 in both); drawn twice it would only overlap itself. First one kept."""
    seen, out = set(), []
    for r in rows:
        key = (r["device"], _label(r))
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _width(panels: int) -> float:
    return min(16.0, max(8.0, 4.6 * panels + 1.5))


def _panels(plt, devices: list[str], n_rows: int, title: str):
    height = max(2.2, 0.32 * n_rows + 1.3)
    fig, axes = plt.subplots(1, len(devices), figsize=(_width(len(devices)), height), squeeze=False, sharey=True)
    fig.suptitle(title, fontweight="bold", fontsize=10)
    return fig, axes[0]


def _experiment_panels(rows: list[dict], exp: str, value: str, title: str):
    """The ok rows of ``exp`` with a ``value``, their variant labels and devices, and one panel per device;
    None when there is nothing to draw."""
    ok = [r for r in rows if r["experiment"] == exp and r["status"] == "ok" and r[value] is not None]
    if not ok:
        return None
    plt = plt_()
    labels = list(dict.fromkeys(_label(r) for r in ok))
    devices = list(dict.fromkeys(r["device"] for r in ok))
    fig, axes = _panels(plt, devices, len(labels), f"{exp}: {title}")
    return ok, labels, devices, fig, axes


def speed_bars(rows: list[dict], exp: str, out: Path) -> Path | None:
    """p50 latency per variant with its 95 % interval, the speed-up against the reference at the bar's end."""
    drawn = _experiment_panels(rows, exp, "latency_p50_ms", "speed (p50 latency, 95 % interval; speed-up vs the reference)")
    if drawn is None:
        return None
    ok, labels, devices, fig, axes = drawn
    for ax, dev, color in zip(axes, devices, PALETTE * 8):
        by = {_label(r): r for r in ok if r["device"] == dev}
        ys = [i for i, lab in enumerate(labels) if lab in by]
        rr = [by[lab] for lab in labels if lab in by]
        vals = [r["latency_p50_ms"] for r in rr]
        err = [[max(0, r["latency_p50_ms"] - (r["latency_p50_ci_lo_ms"] or r["latency_p50_ms"])) for r in rr],
               [max(0, (r["latency_p50_ci_hi_ms"] or r["latency_p50_ms"]) - r["latency_p50_ms"]) for r in rr]]
        colors = ["#C44E52" if r.get("below_floor") else color for r in rr]
        ranked(ax, ys, vals, color, ".1f", err, colors)
        for y, r, hi in zip(ys, rr, err[1]):
            s = r.get("speedup_vs_ref")
            if s is not None:
                mark = "" if r.get("speedup_vs_ref_significant") is not False else " ~"
                ax.annotate(f"{s:.2f}x{mark}", (r["latency_p50_ms"] + hi, y), xytext=(40, 0), textcoords="offset points",
                            va="center", fontsize=7, color="#555")
        ax.set_title(short(dev), fontsize=9)
        ax.set_xlabel("latency p50 (ms / frame)" + (", log" if ax.get_xscale() == "log" else ""))
    axes[0].set_yticks(range(len(labels)))
    axes[0].set_yticklabels([short(v) for v in labels], fontsize=7)
    axes[0].invert_yaxis()
    return save(fig, out / f"speed_{exp}.png")


def f1_bars(rows: list[dict], exp: str, out: Path) -> Path | None:
    """F1 per variant, the reference's F1 dashed and the accuracy floor dotted; bars below the floor in red."""
    drawn = _experiment_panels([r for r in rows if has_f1(r)], exp, "f1", "detection quality (F1 @ IoU 0.5; reference dashed)")
    if drawn is None:
        return None
    ok, labels, devices, fig, axes = drawn
    for ax, dev, color in zip(axes, devices, PALETTE * 8):
        mine = [r for r in ok if r["device"] == dev]
        by = {_label(r): r for r in mine}
        ys = [i for i, lab in enumerate(labels) if lab in by]
        rr = [by[lab] for lab in labels if lab in by]
        ax.barh(ys, [r["f1"] for r in rr], color=["#C44E52" if r.get("below_floor") else color for r in rr], height=0.7)
        for y, r in zip(ys, rr):  # the value, so an F1 of 0 is a number and not a missing bar
            ax.text(r["f1"], y, f" {r['f1']:.3f}", va="center", fontsize=7)
        refs = {r["ref_cell_id"] for r in mine if r.get("ref_cell_id")}
        ref_f1 = [r["f1"] for r in mine if r["cell_id"] in refs]
        if ref_f1:
            ax.axvline(ref_f1[0], color="#333", ls="--", lw=1)
        ax.set_xlim(0, 1.08)
        ax.set_title(short(dev) + (f" (reference F1 {ref_f1[0]:.3f}, dashed)" if ref_f1 else ""), fontsize=9)
        ax.set_xlabel("F1")
    axes[0].set_yticks(range(len(labels)))
    axes[0].set_yticklabels([short(v) for v in labels], fontsize=7)
    axes[0].invert_yaxis()
    return save(fig, out / f"f1_{exp}.png")


def params_bars(rows: list[dict], exp: str, out: Path) -> Path | None:
    """Parameters per variant (pruning: before = the reference, after = each pruned variant); only when they differ."""
    ok = [r for r in rows if r["experiment"] == exp and r["status"] == "ok" and r["params"]]
    by = {_label(r): r for r in ok}
    if len({r["params"] for r in by.values()}) < 2:
        return None
    plt = plt_()
    labels = list(by)
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.32 * len(labels) + 1.2)))
    vals = [by[lab]["params"] / 1e6 for lab in labels]
    ax.barh(range(len(labels)), vals, color=PALETTE[2], height=0.7)
    for y, v in enumerate(vals):
        ax.text(v, y, f"  {v:.2f} M", va="center", fontsize=7)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels([short(v) for v in labels], fontsize=7)
    ax.invert_yaxis()
    ax.margins(x=0.2)
    ax.set_xlabel("parameters (M)")
    ax.set_title(f"{exp}: model size before / after", fontweight="bold")
    return save(fig, out / f"params_{exp}.png")


def device_bars(rows: list[dict], key: str, xlabel: str, out: Path, name: str, title: str, higher_better: bool) -> Path | None:
    """One bar per variant and device for ``key`` (FPS/W, energy per frame), a panel per device, best first."""
    ok = distinct([r for r in rows if r["status"] == "ok" and r.get(key) is not None and r.get("below_floor") is not True])
    if not ok:
        return None
    plt = plt_()
    devices = list(dict.fromkeys(r["device"] for r in ok))
    counts = {d: sum(1 for r in ok if r["device"] == d) for d in devices}
    n = min(MAX_BARS, max(counts.values()))
    fig, axes = plt.subplots(1, len(devices), figsize=(_width(len(devices)), max(2.2, 0.32 * n + 1.3)), squeeze=False)
    fig.suptitle(title + (f" (the best {MAX_BARS} of each device's)" if max(counts.values()) > MAX_BARS else ""),
                 fontweight="bold", fontsize=10)
    for ax, dev, color in zip(axes[0], devices, PALETTE * 8):
        rr = sorted((r for r in ok if r["device"] == dev), key=lambda r: r[key], reverse=higher_better)[:MAX_BARS]
        vals = [r[key] for r in rr]
        ranked(ax, list(range(len(rr))), vals, color, ".3g")
        ax.set_yticks(range(len(rr)))
        ax.set_yticklabels([short(_label(r)) for r in rr], fontsize=7)
        ax.invert_yaxis()
        ax.set_title(short(dev), fontsize=9)
        ax.set_xlabel(xlabel + (", log" if ax.get_xscale() == "log" else ""))
    return save(fig, out / f"{name}.png")
