"""F1 against a cost (latency, energy per frame): every point numbered with a legend naming it, points that would
cover each other sharing one marker, the Pareto front as a step line; the title keys only the marks drawn."""

from __future__ import annotations

from pathlib import Path

from harness.results.render.plots import DPI, NUMBERED_POINTS, PALETTE, _label, _log_if_wide, distinct, has_f1, plt_, short, wide_span


def scatter(rows: list[dict], x: str, xlabel: str, out: Path, name: str, title: str, pareto_key: str | None = None) -> Path | None:
    """F1 against a cost; each point numbered, the legend says which variant; the Pareto front as a step line."""
    pts = distinct([r for r in rows if r["status"] == "ok" and has_f1(r) and r.get(x) is not None])
    if not pts:
        return None
    title = with_marks(title, pts, pareto_key)
    plt = plt_()
    devices = list(dict.fromkeys(r["device"] for r in pts))
    color = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(devices)}
    fig, ax = plt.subplots(figsize=(8, 5.2))
    legend = []
    if len(pts) > NUMBERED_POINTS:  # too many to number: one marker set per device, the front ringed
        title += f" ({len(pts)} variants, not numbered)"
        for d in devices:
            mine = [r for r in pts if r["device"] == d]
            ax.scatter([r[x] for r in mine], [r["f1"] for r in mine], s=14, color=color[d], alpha=0.6, lw=0, zorder=3)
        front = [r for r in pts if pareto_key and r.get(pareto_key)]
        ax.scatter([r[x] for r in front], [r["f1"] for r in front], s=40, facecolors="none", edgecolors="black", lw=1,
                   zorder=4)
    numbered = pts if len(pts) <= NUMBERED_POINTS else []
    for group in clusters(numbered, x, log=wide_span([r[x] for r in pts])):
        (first, r0), on_front = group[0], pareto_key and any(r.get(pareto_key) for _, r in group)
        face = "white" if r0.get("below_floor") else color[r0["device"]]
        label = str(first) + ("+" if len(group) > 1 else "")  # one marker for points that would cover each other
        ax.scatter(r0[x], r0["f1"], s=130 if len(group) == 1 else 190, color=face,
                   edgecolors="black" if on_front else color[r0["device"]], lw=1.5, zorder=3)
        ax.text(r0[x], r0["f1"], label, ha="center", va="center", fontsize=6,
                color="white" if face != "white" else "black", zorder=4)
        for i, r in group:
            where = f" (at {first}+)" if i != first else ""
            legend.append((i, f"{i}{where}: {short(r['device'] + ' ' + _label(r), 72)}"
                              + (" (below floor)" if r.get("below_floor") else "")))
    legend = [line for _, line in sorted(legend)]
    if pareto_key:
        front = sorted((r[x], r["f1"]) for r in pts if r.get(pareto_key))
        if front:
            ax.step([p[0] for p in front], [p[1] for p in front], where="post", color="#333", lw=1, ls="--")
    _log_if_wide(ax, [r[x] for r in pts])
    ax.set_xlabel(xlabel + (" (log)" if ax.get_xscale() == "log" else ""))
    ax.set_ylabel("F1 @ IoU 0.5")
    f1s = [r["f1"] for r in pts]
    ax.set_ylim(max(-0.02, min(f1s) - 0.06), min(1.02, max(f1s) + 0.06))
    ax.set_title(title, fontweight="bold", fontsize=10)
    ax.grid(True, ls="--", alpha=0.4)
    if len(devices) > 1:  # under the x label, over no point
        handles = [plt.Line2D([], [], marker="o", ls="", color=color[d], label=d) for d in devices]
        ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=min(len(devices), 6),
                  frameon=False)
    if legend:
        fig.text(1.0, 0.93, "\n".join(legend), ha="left", va="top", fontsize=7, family="monospace",
                 transform=fig.transFigure)
    import matplotlib.pyplot as mpl

    fig.savefig(out / f"{name}.png", dpi=DPI, bbox_inches="tight")
    mpl.close(fig)
    return out / f"{name}.png"


def with_marks(title: str, pts: list[dict], pareto_key: str | None) -> str:
    """``title`` with the key to the marks the chart has, and only those."""
    marks = [m for m, on in (("ringed: Pareto front", bool(pareto_key) and any(r.get(pareto_key) for r in pts)),
                             ("hollow: below the accuracy floor", any(r.get("below_floor") for r in pts))) if on]
    return title + (f" ({'; '.join(marks)})" if marks else "")


def clusters(pts: list[dict], x: str, log: bool, near: tuple[float, float] = (0.025, 0.04)) -> list[list[tuple[int, dict]]]:
    """Numbered points (1-based) grouped where their markers would overlap: within ``near`` (x, y) of the axes'
    spans (x on the log scale when the axis is) of the group's first point. One marker per group."""
    import math

    if not pts:
        return []
    xs = [math.log10(r[x]) if log and r[x] > 0 else r[x] for r in pts]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(r["f1"] for r in pts) - min(r["f1"] for r in pts)) or 1.0
    groups: list[list[tuple[int, dict]]] = []
    anchors: list[tuple[float, float]] = []
    for i, (r, xv) in enumerate(zip(pts, xs), start=1):
        for g, (ax_, ay) in zip(groups, anchors):
            if abs(xv - ax_) <= near[0] * span_x and abs(r["f1"] - ay) <= near[1] * span_y:
                g.append((i, r))
                break
        else:
            groups.append([(i, r)])
            anchors.append((xv, r["f1"]))
    return groups
