"""PNG plots of comparison rows and run files (matplotlib, Agg). Every axis says its unit."""

from __future__ import annotations

import csv
from pathlib import Path

from harness.results.load import Run
from harness.results.rows import at

DPI = 110


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": DPI, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _colors(keys):
    palette = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]
    return {k: palette[i % len(palette)] for i, k in enumerate(keys)}


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def experiment_bars(rows: list[dict], out: Path) -> list[Path]:
    """Per experiment: latency p50 (p99 whisker), F1 and parameters per variant, one colour per device."""
    plt = _plt()
    paths = []
    for exp in sorted({r["experiment"] for r in rows if r["experiment"]}):
        sub = [r for r in rows if r["experiment"] == exp and r["status"] == "ok"]
        labels = list(dict.fromkeys(f"{r['model']}\n{r['variant']}" for r in sub))
        devices = list(dict.fromkeys(r["device"] for r in sub))
        col = _colors(devices)
        fig, axes = plt.subplots(1, 3, figsize=(max(9, 1.1 * len(labels) * 3), 4))
        fig.suptitle(f"Experiment: {exp}", fontweight="bold")
        width = 0.8 / max(1, len(devices))
        for d_i, dev in enumerate(devices):
            by = {f"{r['model']}\n{r['variant']}": r for r in sub if r["device"] == dev}
            xs = [i + d_i * width for i, lab in enumerate(labels) if lab in by]
            rr = [by[lab] for lab in labels if lab in by]
            p50 = [r["latency_p50_ms"] or 0 for r in rr]
            p99 = [max(0.0, (r["latency_p99_ms"] or 0) - (r["latency_p50_ms"] or 0)) for r in rr]
            axes[0].bar(xs, p50, width, yerr=[[0] * len(p99), p99], capsize=3, color=col[dev], label=dev)
            axes[1].bar(xs, [r["f1"] or 0 for r in rr], width, color=col[dev], label=dev)
            axes[2].bar(xs, [(r["params"] or 0) / 1e6 for r in rr], width, color=col[dev], label=dev)
        for ax, ylabel, title in zip(axes, ["latency p50 (ms / frame), whisker to p99", "F1 @ IoU 0.5", "parameters (M)"],
                                     ["Speed", "Detection quality", "Model size"]):
            ax.set_title(title)
            ax.set_ylabel(ylabel)
            ax.set_xticks([i + width * (len(devices) - 1) / 2 for i in range(len(labels))])
            ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
        axes[1].set_ylim(0, 1)
        if devices:
            axes[0].legend(fontsize=7, title="device")
        if not sub:
            _empty(axes[0], "no ok cells")
        paths.append(_save(fig, out / f"bars_{exp}.png"))
    return paths


def frontier(rows: list[dict], x: str, xlabel: str, pareto_key: str, out: Path, name: str) -> Path:
    """F1 against a cost across devices; the Pareto front drawn as a step line."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 5))
    pts = [r for r in rows if r["status"] == "ok" and r["f1"] is not None and r[x] is not None]
    devices = list(dict.fromkeys(r["device"] for r in pts))
    col = _colors(devices)
    markers = dict(zip(sorted({r["experiment"] for r in pts}), "osD^vP*X"))
    for r in pts:
        ax.scatter(r[x], r["f1"], color=col[r["device"]], marker=markers[r["experiment"]], s=50, zorder=3,
                   edgecolors="black" if r[pareto_key] else "none")
        ax.annotate(f" {r['model']} {r['variant']}", (r[x], r["f1"]), fontsize=6, alpha=0.8)
    front = sorted((r[x], r["f1"]) for r in pts if r[pareto_key])
    if front:
        ax.step([p[0] for p in front], [p[1] for p in front], where="post", color="#333", lw=1, ls="--", label="Pareto front")
    for dev in devices:
        ax.scatter([], [], color=col[dev], label=dev)
    for exp, m in markers.items():
        ax.scatter([], [], color="#999", marker=m, label=exp)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("F1 @ IoU 0.5")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"F1 vs {xlabel}")
    if pts:
        ax.legend(fontsize=7)
        ax.grid(True, ls="--", alpha=0.4)
    else:
        _empty(ax, f"no cell has both F1 and {xlabel}")
    return _save(fig, out / f"{name}.png")


def _read_csv(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def latency_distributions(runs: list[Run], out: Path) -> Path:
    """Per-frame end-to-end latency of every ok cell (box plots, from frames/<cell>.csv)."""
    plt = _plt()
    data, labels = [], []
    for run in runs:
        for rec in run.records:
            f = at(rec, "files", "frames")
            if rec.get("status") == "ok" and f and (run.root / f).is_file():
                data.append([float(r["total_ms"]) for r in _read_csv(run.root / f)])
                labels.append(f"{run.device}: {rec['cell_id']}")
    fig, ax = plt.subplots(figsize=(max(8, 0.45 * len(labels) + 3), 5))
    if data:
        ax.boxplot(data, showfliers=True)
        ax.set_xticks(range(1, len(labels) + 1))
        ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=6)
    else:
        _empty(ax, "no per-frame latency files")
    ax.set_ylabel("end-to-end latency (ms / frame)")
    ax.set_title("Latency distribution per cell (timed frames)")
    return _save(fig, out / "latency_distributions.png")


def power_traces(run: Run, out: Path) -> Path | None:
    """Power (W) and hottest temperature (C) over each cell's telemetry, timed window shaded."""
    cells = [(rec, run.root / rec["files"]["telemetry"]) for rec in run.records
             if at(rec, "files", "telemetry") and (run.root / rec["files"]["telemetry"]).is_file()]
    if not cells:
        return None
    plt = _plt()
    fig, axes = plt.subplots(len(cells), 1, figsize=(9, 2.2 * len(cells)), squeeze=False)
    for ax, (rec, path) in zip(axes[:, 0], cells):
        rows = _read_csv(path)
        marks = {ln.split()[2]: float(ln.split()[3]) for ln in path.read_text().splitlines() if ln.startswith("# mark")}
        t0 = float(rows[0]["t_s"]) if rows else 0.0
        t = [float(r["t_s"]) - t0 for r in rows]
        p = [float(r["total_mw"]) / 1000 if r["total_mw"] else float("nan") for r in rows]
        temps = [max([float(v) for k, v in r.items() if k.startswith("temp_") and v] or [float("nan")]) for r in rows]
        ax.plot(t, p, color="#C44E52", lw=1, label="power (W)")
        ax.set_ylabel("power (W)")
        if "timed_start" in marks and "timed_end" in marks:
            ax.axvspan(marks["timed_start"] - t0, marks["timed_end"] - t0, color="#55A868", alpha=0.15, label="timed window")
        if "idle_start" in marks and "idle_end" in marks:
            ax.axvspan(marks["idle_start"] - t0, marks["idle_end"] - t0, color="#8C8C8C", alpha=0.15, label="idle window")
        ax2 = ax.twinx()
        ax2.plot(t, temps, color="#4C72B0", lw=1, ls="--", label="hottest zone (C)")
        ax2.set_ylabel("temperature (C)")
        ax.set_title(f"{run.device}: {rec['cell_id']}", fontsize=8)
        ax.legend(loc="upper left", fontsize=6)
        ax2.legend(loc="upper right", fontsize=6)
    axes[-1, 0].set_xlabel("time since the cell's first sample (s)")
    return _save(fig, out / f"traces_{run.run_id}.png")


def sample_frames(run: Run, out: Path, max_variants: int = 8) -> Path | None:
    """One timed frame, annotated with each variant's detections (the second notebook's image check)."""
    import cv2

    seq = Path(run.manifest.get("sequence", ""))
    ok = [r for r in run.records if r.get("status") == "ok" and at(r, "files", "detections")][:max_variants]
    if not ok or not (seq / "img1").is_dir():
        return None
    st = ok[0].get("settings") or {}
    frame_id = (st.get("timed_first", 1) + st.get("frame_last", 1)) // 2
    img_path = next(iter(sorted((seq / "img1").glob(f"{frame_id:06d}.*"))), None)
    if img_path is None:
        return None
    base = cv2.imread(str(img_path))
    if base is None:
        return None
    plt = _plt()
    cols = min(4, len(ok))
    nrows = (len(ok) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 2.8 * nrows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, rec in zip(axes.ravel(), ok):
        img = base.copy()
        n = 0
        for row in (run.root / rec["files"]["detections"]).read_text().splitlines():
            p = row.split(",")
            if int(float(p[0])) != frame_id:
                continue
            x, y, w, h, c = map(float, p[2:7])
            cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), (0, 200, 0), 2)
            n += 1
        ax.imshow(img[..., ::-1])
        ax.set_title(f"{rec['cell_id']}\n{n} detections (frame {frame_id})", fontsize=7)
    fig.suptitle(f"{run.device}: detections on one frame per variant", fontweight="bold")
    return _save(fig, out / f"samples_{run.run_id}.png")
