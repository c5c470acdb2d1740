"""Plots of one board's configurations (variant x power mode x engine target) for the report's modes section.

``mode_front``: F1 against energy per frame, colour = power mode, marker = engine target (circle GPU / the
device's default, square DLA 0, diamond DLA 1), hollow = below the accuracy floor, the board's Pareto front as
a dashed step line with its points named, and the best configuration starred. Modes go lowest power first. ``mode_energy``: energy per frame per mode, one bar per
variant and target, so the mode that spends the least per frame reads off directly.
"""

from __future__ import annotations

from pathlib import Path

from harness.results.render.plots import PALETTE, _log_if_wide, distinct, has_f1, plt_, save, wide_span

MARKERS = {None: "o", "gpu": "o", "dla0": "s", "dla1": "D"}


def _short(r: dict) -> str:
    """The variant without its mode (the colour says the mode)."""
    v = r["variant"]
    return v.rsplit(" @", 1)[0] if r.get("power_mode") else v


def _modes(rows: list[dict]) -> list:
    """The modes, lowest power first (median watts of their cells): 7W, 15W, ... MAXN reads left to right."""
    from statistics import median

    modes = list(dict.fromkeys(r.get("power_mode") for r in rows))
    watts = {m: median([r["mean_w"] for r in rows if r.get("power_mode") == m and r.get("mean_w") is not None] or [0])
             for m in modes}
    return sorted(modes, key=lambda m: watts[m])


def mode_front(rows: list[dict], out: Path, name: str, title: str, best: dict | None) -> Path | None:
    pts = distinct([r for r in rows if r["status"] == "ok" and has_f1(r) and r.get("energy_per_frame_mj") is not None])
    if not pts:
        return None
    if any(r.get("pareto_f1_energy") for r in pts):
        title += " (ringed: Pareto front)"
    plt = plt_()
    modes = _modes(pts)
    color = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(modes)}
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    for r in pts:
        c = color[r.get("power_mode")]
        face = "white" if r.get("below_floor") else c
        ax.scatter(r["energy_per_frame_mj"], r["f1"], s=90, marker=MARKERS.get(r.get("target"), "o"), color=face,
                   edgecolors="black" if r.get("pareto_f1_energy") else c, lw=1.6 if r.get("pareto_f1_energy") else 1.2,
                   zorder=3)
        if r.get("pareto_f1_energy"):  # only the front is named: the table below lists every point
            ax.annotate(r["variant"], (r["energy_per_frame_mj"], r["f1"]), xytext=(7, 6), textcoords="offset points",
                        fontsize=7, color="#222")
    front = sorted((r["energy_per_frame_mj"], r["f1"]) for r in pts if r.get("pareto_f1_energy"))
    if front:
        ax.step([p[0] for p in front], [p[1] for p in front], where="post", color="#333", lw=1, ls="--", zorder=2)
    if best is not None:
        ax.scatter(best["energy_per_frame_mj"], best["f1"], s=420, marker="*", color="none", edgecolors="#C44E52", lw=1.5,
                   zorder=4)
    _log_if_wide(ax, [r["energy_per_frame_mj"] for r in pts])
    ax.set_xlabel("energy per frame (mJ, lower is better)" + (" (log)" if ax.get_xscale() == "log" else ""))
    ax.set_ylabel("F1 @ IoU 0.5")
    f1s = [r["f1"] for r in pts]
    ax.set_ylim(max(-0.02, min(f1s) - 0.03), min(1.02, max(f1s) + 0.03))
    ax.grid(True, ls="--", alpha=0.4)
    ax.set_title(title, fontweight="bold", fontsize=10)
    handles = [plt.Line2D([], [], marker="o", ls="", color=color[m], label=m or "as found") for m in modes]
    targets = sorted({r.get("target") for r in pts if r.get("target")}, key=str)
    handles += [plt.Line2D([], [], marker=MARKERS.get(t, "o"), ls="", color="#666", label=t) for t in targets]
    handles.append(plt.Line2D([], [], marker="*", ls="", color="none", markeredgecolor="#C44E52", markersize=12,
                              label="best at or above the floor"))
    ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=min(len(handles), 6),
              frameon=False)
    return save(fig, out / f"{name}.png")


def mode_energy(rows: list[dict], out: Path, name: str, title: str) -> Path | None:
    ok = distinct([r for r in rows if r["status"] == "ok" and r.get("energy_per_frame_mj") is not None])
    modes = [m for m in _modes(ok) if m is not None]
    if len(modes) < 2:
        return None
    plt = plt_()
    variants = list(dict.fromkeys(_short(r) for r in ok))
    value = {(r.get("power_mode"), _short(r)): r for r in ok}
    fig, ax = plt.subplots(figsize=(max(6.5, 1.3 * len(modes) * max(1, len(variants) / 3)), 4.2))
    width = 0.8 / len(variants)
    dots = wide_span([r["energy_per_frame_mj"] for r in ok])  # a bar's length on a log axis is not its value
    for j, (v, c) in enumerate(zip(variants, PALETTE * 8)):
        xs, ys, hatch = [], [], []
        for i, m in enumerate(modes):
            r = value.get((m, v))
            if r is not None:
                xs.append(i + (j - (len(variants) - 1) / 2) * width)
                ys.append(r["energy_per_frame_mj"])
                hatch.append("//" if r.get("below_floor") else "")
        if dots:
            ax.scatter(xs, ys, s=40, color=[("white" if h else c) for h in hatch], edgecolors=c, lw=1.4, label=v,
                       zorder=3)
        else:
            bars = ax.bar(xs, ys, width=width * 0.95, color=c, label=v)
            for b, h in zip(bars, hatch):
                b.set_hatch(h)
        for x, y in zip(xs, ys):
            ax.annotate(f"{y:.3g}", (x, y), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=6)
    ax.set_xticks(range(len(modes)))
    ax.set_xticklabels(modes)
    _log_if_wide(ax, [r["energy_per_frame_mj"] for r in ok], axis="y")
    ax.set_ylabel("energy per frame (mJ, lower is better" + (", log)" if dots else ")"))
    ax.set_title(title + (" (hollow: below the accuracy floor)" if dots and any(r.get("below_floor") for r in ok)
                          else " (hatched: below the accuracy floor)" if any(r.get("below_floor") for r in ok) else ""),
                 fontweight="bold", fontsize=10)
    ax.grid(True, axis="y", ls="--", alpha=0.4)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(len(variants), 4), frameon=False)
    return save(fig, out / f"{name}.png")
