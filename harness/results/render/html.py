"""``harness report``: PNG plots plus one self-contained HTML page (images embedded as data URIs)."""

from __future__ import annotations

import base64
import html
import json
from datetime import datetime, timezone
from pathlib import Path

from harness.results.render import plots
from harness.results.compare import compare, device_labels, sort_rows
from harness.results.load import Run
from harness.results.store import atomic_write_text

TABLE_COLUMNS = [
    ("device", "device", None), ("model", "model", None), ("variant", "variant", None), ("params M", "params", 1e-6),
    ("p50 ms", "latency_p50_ms", None), ("p99 ms", "latency_p99_ms", None), ("FPS", "fps", None), ("F1", "f1", None),
    ("AP50", "ap50", None), ("W", "mean_w", None), ("mJ/frame", "energy_per_frame_mj", None),
    ("dyn mJ/frame", "dynamic_energy_per_frame_mj", None), ("FPS/W", "fps_per_w", None), ("peak C", "peak_temp_c", None),
    ("throttled", "throttled", None), ("x speed", "speedup_vs_baseline", None), ("x energy", "energy_ratio_vs_baseline", None),
    ("Pareto", None, None), ("status", "status", None),
]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{margin-bottom:0}.sub{color:#666;margin-top:4px}
table{border-collapse:collapse;font-size:12px;margin:12px 0}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}th{background:#f3f3f3}
td.l{text-align:left}tr.skipped td{color:#a80}tr.failed td{color:#c00}tr.pareto td{background:#eefbea}
img{max-width:100%;border:1px solid #eee;margin:8px 0}.note{color:#a60}.env{font-size:12px}
.env td{text-align:left}
"""


def _esc(v) -> str:
    """Every value that reaches the page from a record or manifest goes through here (quotes included)."""
    return html.escape(str(v), quote=True)


def _fmt(v, scale=None) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)) and (isinstance(v, float) or scale):
        return f"{v * (scale or 1):.3g}" if abs(v * (scale or 1)) >= 100 else f"{v * (scale or 1):.3f}".rstrip("0").rstrip(".")
    return _esc(v)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img alt="{_esc(path.stem)}" src="data:image/png;base64,{data}"><figcaption>{_esc(path.name)}</figcaption></figure>'


def _table(rows: list[dict]) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c, _, _ in TABLE_COLUMNS)
    body = []
    for r, device in zip(rows, device_labels(rows)):
        pareto = ("E" if r["pareto_f1_energy"] else "") + ("L" if r["pareto_f1_latency"] else "")
        cls = _esc(r["status"]) + (" pareto" if pareto else "")
        cells = []
        for _, key, scale in TABLE_COLUMNS:
            if key is None:
                cells.append(f"<td>{pareto}</td>")
                continue
            val = device if key == "device" else r.get(key)
            text = _fmt(val, scale)
            if key == "model" and r["weights_provenance"] == "random-init":
                text += ' <span class="note">(random weights)</span>'
            if key == "status" and (r["reason"] or r["settings_note"]):
                text += f'<br><span class="note">{_esc(r["reason"] or "not comparable: " + r["settings_note"])}</span>'
            cells.append(f'<td class="{"l" if key in ("device", "model", "variant", "status") else ""}">{text}</td>')
        body.append(f'<tr class="{cls}">{"".join(cells)}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _environment(run: Run) -> str:
    env = run.manifest.get("environment") or {}
    tele = run.manifest.get("telemetry") or {}
    rows = "".join(f"<tr><td>{_esc(k)}</td><td>{_esc(json.dumps(v) if isinstance(v, (list, dict)) else v)}</td></tr>"
                   for k, v in env.items())
    suite = run.manifest.get("suite") or {}
    return (f"<h3>{_esc(run.device)} — {_esc(run.run_id)}</h3>"
            f"<p>suite {_esc(suite.get('name'))}, imgsz {_esc(suite.get('imgsz'))}, frames {_esc(suite.get('frames'))} "
            f"(warm-up {_esc(suite.get('warmup'))}), sequence {_esc(run.manifest.get('sequence'))}, "
            f"telemetry {_esc(tele.get('selected', '—'))}</p><table class='env'>{rows}</table>")


def build_report(runs: list[Run], out: Path, baseline: str | None = None) -> dict:
    """Write plots and report.html into ``out``; returns {'html': path, 'plots': [paths]}."""
    out.mkdir(parents=True, exist_ok=True)
    rows = sort_rows(compare(runs, baseline), "latency")
    pngs = plots.experiment_bars(rows, out)
    pngs.append(plots.frontier(rows, "latency_p50_ms", "latency p50 (ms / frame)", "pareto_f1_latency", out, "frontier_latency"))
    pngs.append(plots.frontier(rows, "energy_per_frame_mj", "energy per frame (mJ)", "pareto_f1_energy", out, "frontier_energy"))
    pngs.append(plots.latency_distributions(runs, out))
    for run in runs:
        for extra in (plots.power_traces(run, out), plots.sample_frames(run, out)):
            if extra is not None:
                pngs.append(extra)
    random_init = any(r["weights_provenance"] == "random-init" for r in rows)
    warn = ('<p class="note"><b>Random-init weights</b> in some rows: their latency and energy are valid, '
            "their F1/AP50 are meaningless.</p>" if random_init else "")
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>edge-harness report</title><style>{CSS}</style></head><body>"
        f"<h1>edge-harness report</h1><p class='sub'>{len(runs)} run(s), {len(rows)} rows, generated "
        f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}</p>{warn}"
        "<h2>Comparison</h2><p>x speed = baseline p50 / p50; x energy = energy per frame / baseline's; "
        "Pareto E / L = not dominated on F1 vs energy per frame / latency.</p>"
        f"{_table(rows)}<h2>Plots</h2>{''.join(_img(p) for p in pngs)}"
        f"<h2>Environments</h2>{''.join(_environment(r) for r in runs)}</body></html>"
    )
    path = out / "report.html"
    atomic_write_text(path, page)
    return {"html": path, "plots": pngs}
