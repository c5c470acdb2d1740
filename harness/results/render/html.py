"""``harness report``: PNG plots plus one self-contained HTML page (images embedded as data URIs).

The page answers first: per device, the best variant by FPS/W and the fastest (``results.best``), and
each board against each desktop; for power-mode sweeps and DLA cells, each board's configurations with their
front and the best under the floor (``render/modes.py``). Then the charts that rank across devices (FPS/W, energy, the F1
frontiers), one section per experiment (speed, F1, model size and its rows of the table), the
per-frame distributions, power traces, sample frames and each run's environment.

Every value that reaches the page from a record or manifest goes through ``_esc`` (quotes included):
a board names its own cells and environment, and a board is not trusted.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime, timezone
from pathlib import Path

from harness.results.best import best_per_device, board_vs_desktop
from harness.results.compare import compare, counting_contended, device_labels
from harness.results.select import sort_rows
from harness.results.load import Run
from harness.results.render import modes, plots, plots_front, plots_runs
from harness.results.render.table import COLUMNS, is_empty
from harness.results.render.table_notes import REFERENCE_MEANING, notes, reference_sources
from harness.results.store import atomic_write_text

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1280px;color:#222;padding:0 16px}
h1{margin-bottom:0}.sub{color:#666;margin-top:4px}h2{border-bottom:2px solid #eee;padding-bottom:4px;margin-top:36px}
table{border-collapse:collapse;font-size:11px;margin:12px 0}
th,td{border:1px solid #ddd;padding:2px 5px;text-align:right;white-space:nowrap}th{background:#f3f3f3}
td.l,th.l{text-align:left}tr.skipped td{color:#a80}tr.failed td{color:#c00}tr.pareto td{background:#eefbea}
tr.floor td{background:#fdecec}
tr.busy td{background:#fff7e0}
.answer td{font-size:14px;padding:6px 10px}.answer td.big{font-weight:600}
.answer td.note{font-size:12px;white-space:normal;min-width:16em;max-width:32em}
img{max-width:100%;border:1px solid #eee;margin:8px 0}figure{margin:0}figcaption{color:#888;font-size:11px}
.note{color:#a60}.warn{background:#fff3f3;border-left:4px solid #c00;padding:8px 12px}
.info{background:#f0f7ff;border-left:4px solid #36c;padding:8px 12px}
.legend{color:#666;font-size:12px;white-space:pre-line}.env td{text-align:left;white-space:normal;max-width:900px}
.scroll{overflow-x:auto}
"""


def _esc(v) -> str:
    """Every value that reaches the page from a record or manifest goes through here (quotes included)."""
    return html.escape(str(v), quote=True)


def _num(v, fmt: str) -> str:
    return "—" if v is None else _esc(format(v, fmt))


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return (f'<figure><img alt="{_esc(path.stem)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_esc(path.name)}</figcaption></figure>")


def _variant(r: dict | None) -> str:
    """A winner's name; a random-init one is a speed-only pick and says so."""
    if r is None:
        return "—"
    star = (' <span class="note">(random weights: speed only)</span>' if r.get("weights_provenance") == "random-init"
            else "")
    return f"{_esc(r['model'])} {_esc(r['variant'])}{star}"


def _f1(r: dict | None) -> str:
    """The winner's F1; none for random-init weights (the number would mean nothing)."""
    return "—" if r is None or r.get("weights_provenance") == "random-init" else _num(r["f1"], ".3f")


def _answer(rows: list[dict], include_contended: bool | None = None) -> str:
    """Best per device and board vs desktop, as two small tables, with the comparison's notes under the first."""
    from harness.results.compare import comparison_notes

    best = best_per_device(rows, include_contended)
    out = ["<h2>Which variant wins</h2>",
           "<p>Among cells that ran, are at or above their experiment's accuracy floor, have real weights (random-init "
           "F1 means nothing: such a variant is named only as a speed-only fact, or as the fastest when nothing else "
           "ran), were not measured on a busy host and (for FPS/W) have a valid power figure.</p>",
           "<table class='answer'><thead><tr><th class='l'>device</th><th class='l'>best FPS/W</th><th>FPS/W</th>"
           "<th>mJ/frame</th><th class='l'>fastest</th><th>p50 ms</th><th>FPS</th><th>F1</th><th class='l'>note</th>"
           "</tr></thead><tbody>"]
    for b in best:
        e, l_ = b["best_fps_per_w"], b["best_latency"]
        out.append(
            f"<tr><td class='l big'>{_esc(b['device'])}</td><td class='l big'>{_variant(e)}</td>"
            f"<td class='big'>{_num(e and e['fps_per_w'], '.2f')}</td><td>{_num(e and e['energy_per_frame_mj'], '.1f')}</td>"
            f"<td class='l big'>{_variant(l_)}</td><td class='big'>{_num(l_ and l_['latency_p50_ms'], '.1f')}</td>"
            f"<td>{_num(l_ and l_['fps'], '.1f')}</td><td>{_f1(l_)}</td>"
            f"<td class='l note'>{_esc(b['note'] or '')}</td></tr>")
    out.append("</tbody></table>")
    out += [f"<p class='note'>{_esc(n)}</p>" for n in comparison_notes(rows, include_contended)]
    pairs = board_vs_desktop(rows, include_contended)
    if pairs:
        out.append("<h3>Boards against desktops</h3><p>A board is a run that recorded an L4T release or a board model; "
                   "any other host is a desktop. Latency and energy ratios: the median over the configurations both "
                   "ran (the same model and weights, format, precision, pruning, fine-tune, imgsz, power mode and "
                   "engine target, whatever the experiment is called; board / desktop; below 1 the board is faster or "
                   "spends less energy per frame). Best FPS/W: the board's best against the desktop's best (above 1 "
                   "the board does more work per joule).</p>"
                   "<table class='answer'><thead><tr><th class='l'>board</th><th class='l'>desktop</th><th>cells</th>"
                   "<th>latency board/desktop</th><th>energy board/desktop</th><th>best FPS/W board/desktop</th>"
                   "</tr></thead><tbody>")
        for p in pairs:
            out.append(f"<tr><td class='l'>{_esc(p['board'])}</td><td class='l'>{_esc(p['desktop'])}</td>"
                       f"<td>{_esc(p['cells'])}</td><td class='big'>{_ratio(p['latency_ratio'])}</td>"
                       f"<td class='big'>{_ratio(p['energy_ratio'])}</td><td class='big'>{_ratio(p['best_fps_per_w_ratio'])}</td></tr>")
        out.append("</tbody></table>")
    return "".join(out)


def _ratio(v) -> str:
    return "—" if v is None else _esc(f"{v:.2f}x")


def _table(rows: list[dict]) -> str:
    """The comparison rows of one experiment, device by device (fastest first), every column of the terminal
    table that has a value somewhere."""
    order = {d: i for i, d in enumerate(dict.fromkeys(r["device"] for r in rows))}
    rows = sorted(rows, key=lambda r: order[r["device"]])  # stable: the latency order stays inside a device
    devices = device_labels(rows)
    several = len(set(devices)) > 1
    columns = [c for c in COLUMNS if not is_empty(c, rows)]
    if len({r["run_id"] for r in rows}) < 2:
        columns = [c for c in columns if c.name not in ("x base", "E/base")]
    head = ("<th class='l'>device</th>" if several else "") + "".join(
        f"<th class='{'l' if c.justify == 'left' else ''}'>{_esc(c.name)}</th>" for c in columns)
    body = []
    for r, device in zip(rows, devices):
        cls = [_esc(r["status"])]
        if r.get("pareto_f1_energy") or r.get("pareto_f1_latency"):
            cls.append("pareto")
        if r.get("below_floor"):
            cls.append("floor")
        if r.get("contended") is True:
            cls.append("busy")
        cells = [f"<td class='l'>{_esc(device)}</td>"] if several else []
        for c in columns:
            val = c.cell(r)
            cells.append(f"<td class='{'l' if c.justify == 'left' else ''}'>{_esc(getattr(val, 'plain', val))}</td>")
        body.append(f"<tr class='{' '.join(cls)}'>{''.join(cells)}</tr>")
    return (f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


PLOTTED_EXPERIMENTS = 8  # experiments drawn (four plots each, ~2 s); the others get their table


def _experiment(mine: list[dict], exp: str, out: Path, pngs: list[Path], plotted: bool) -> str:
    charts = [p for p in (plots.speed_bars(mine, exp, out), plots.f1_bars(mine, exp, out),
                          plots.params_bars(mine, exp, out),
                          plots_front.scatter(mine, "latency_p50_ms", "latency p50 (ms / frame)", out, f"tradeoff_{exp}",
                                        f"{exp}: speed against accuracy",
                                        "pareto_f1_latency")) if p is not None] if plotted else []
    pngs += charts
    return f"<h3>{_esc(exp)}</h3>{''.join(_img(p) for p in charts)}{_table(mine)}"


def _experiments(rows: list[dict], out: Path, pngs: list[Path]) -> str:
    """A section per experiment: its plots (the first ``PLOTTED_EXPERIMENTS``) and its table."""
    by_exp: dict[str, list[dict]] = {}
    for r in rows:
        if r["experiment"]:
            by_exp.setdefault(r["experiment"], []).append(r)
    note = (f"<p class='info'>{len(by_exp)} experiments: the first {PLOTTED_EXPERIMENTS} are plotted, every one has "
            "its table (<code>harness compare --filter experiment=NAME</code> for one).</p>"
            if len(by_exp) > PLOTTED_EXPERIMENTS else "")
    return note + "".join(_experiment(mine, exp, out, pngs, i < PLOTTED_EXPERIMENTS)
                          for i, (exp, mine) in enumerate(by_exp.items()))


def _env_value(v, depth: int = 0) -> str:
    """A manifest's environment value as one line (nested blocks inline, to a depth of 8: a run is input)."""
    if depth > 8 and isinstance(v, (dict, list)):
        return "…"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_env_value(x, depth + 1)}" for k, x in v.items())
    if isinstance(v, list):
        return ", ".join(_env_value(x, depth + 1) for x in v)
    return str(v)


def _environment(run: Run) -> str:
    env = run.manifest.get("environment") or {}
    tele = run.manifest.get("telemetry") or {}
    suite = run.manifest.get("suite") or {}
    facts = {"run": run.run_id, "suite": suite.get("name"), "imgsz": suite.get("imgsz"),
             "sequence": run.manifest.get("sequence"), "telemetry": tele.get("selected"), **env}
    rows = "".join(f"<tr><th class='l'>{_esc(k)}</th><td>{_esc(_env_value(v))}</td></tr>"
                   for k, v in facts.items() if v not in (None, "", [], {}))
    return f"<h3>{_esc(run.device)}</h3><table class='env'>{rows}</table>"


def _simulated_banner(runs: list[Run]) -> str:
    """The banner of a report with runs from a simulated board (``harness sim``): first, before any number."""
    sim = [r for r in runs if r.simulated]
    if not sim:
        return ""
    names = ", ".join(f"{r.device}/{r.run_id}" for r in sim)
    return ("<p class='warn simulated'><b>SIMULATED BOARD: not a measurement.</b> " + _esc(names) +
            " ran on a simulated board (<code>harness sim</code>: a loopback sshd with a fake L4T tree, its power a "
            "model of its load). Its latency is this machine's, its power made up: never compare it with a real "
            "board.</p>")


def build_report(runs: list[Run], out: Path, baseline: str | None = None, top: str = "") -> dict:
    """Write plots and report.html into ``out``; returns {'html': path, 'plots': [paths]}. ``top``: an HTML section
    placed first (the catalogue's "Since last time", made by the caller: results do not read the catalogue)."""
    out.mkdir(parents=True, exist_ok=True)
    rows = sort_rows(compare(runs, baseline), "latency")
    pngs: list[Path] = []
    ranking = [p for p in (
        plots.device_bars(rows, "fps_per_w", "frames per second per watt (higher is better)", out, "fps_per_w",
                          "Work per watt: FPS/W per variant (cells at or above the accuracy floor)", True),
        plots.device_bars(rows, "energy_per_frame_mj", "energy per frame (mJ, lower is better)", out, "energy",
                          "Energy per frame per variant", False),
        plots_front.scatter(rows, "latency_p50_ms", "latency p50 (ms / frame)", out, "frontier_latency",
                      "F1 against latency", "pareto_f1_latency"),
        plots_front.scatter(rows, "energy_per_frame_mj", "energy per frame (mJ)", out, "frontier_energy",
                      "F1 against energy per frame", "pareto_f1_energy"),
    ) if p is not None]
    pngs += ranking
    configurations = modes.section(rows, out, pngs, _esc, _img)
    sections = _experiments(rows, out, pngs)
    per_run = plots_runs.run_plots(runs, out)
    pngs += per_run
    random_init = any(r["weights_provenance"] == "random-init" for r in rows)
    warn = ("<p class='warn'><b>Random-init weights</b> in some rows: their latency and energy are valid, their "
            "F1/AP50 are meaningless. Use real weights or the reference detector (<code>harness models reference</code>)."
            "</p>" if random_init else "")
    busy = [r for r in rows if r.get("contended") is True]
    if busy:
        head = (f"<p class='warn'><b>Busy host</b>: {len(busy)} of {len(rows)} rows were measured while other processes "
                "used the CPUs (marked <code>busy</code>")
        warn += head + ("); they are counted in the picks and fronts below, as asked (<code>--include-contended</code>).</p>"
                        if counting_contended(None) else
                        f"; e.g. {_esc(busy[0]['cell_id'])}: {_esc(busy[0].get('contended_reason') or '')}). They are left "
                        "out of every best pick and front; rerun them on a quiet host (<code>harness doctor</code> says "
                        "when it is).</p>")
    warn = _simulated_banner(runs) + warn
    warn += "".join(f"<p class='info'><b>Reference detector</b> (model <code>reference</code>): {_esc(src)}. "
                    f"{_esc(REFERENCE_MEANING)}.</p>" for src in reference_sources(rows))
    legend = _esc(notes(rows, {c.name for c in COLUMNS}).plain)
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>edge-harness report</title>"
        f"<style>{CSS}</style></head><body><h1>edge-harness report</h1>"
        f"<p class='sub'>{len(runs)} run(s) on {len({r.device for r in runs})} device(s), {len(rows)} rows, generated "
        f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}</p>{top}{warn}{_answer(rows)}"
        f"{configurations}"
        f"<h2>Across devices</h2>{''.join(_img(p) for p in ranking) or '<p>No cell has a power figure or F1.</p>'}"
        f"<h2>Experiments</h2>{sections}<p class='legend'>{legend}</p>"
        f"<h2>Per-frame latency, power and samples</h2>"
        f"{''.join(_img(p) for p in per_run) or '<p>These runs carry no per-frame, telemetry or detection files.</p>'}"
        f"<h2>Environments</h2>{''.join(_environment(r) for r in runs)}</body></html>"
    )
    path = out / "report.html"
    atomic_write_text(path, page)
    return {"html": path, "plots": pngs}
