"""The report's answer to "which variant, in which power mode, on which engine": per board, every configuration
(variant x power mode x engine target) with the clocks it ran at, its power and energy per frame, the Pareto
front of F1 against energy per frame across all of them, and the single best configuration at or above the
accuracy floor (the lowest energy per frame, i.e. the most frames per joule).

Shown only when a comparison holds power-mode sweeps or DLA cells. Values from records are escaped by the caller's
``esc`` (a board is not trusted).
"""

from __future__ import annotations

from pathlib import Path

from harness.results.best import eligible
from harness.results.render import plots_modes


def has_configurations(rows: list[dict]) -> bool:
    return any(r.get("power_mode") or str(r.get("target") or "").startswith("dla") for r in rows)


def best_configuration(rows: list[dict]) -> dict | None:
    """The lowest energy per frame among a device's rows at or above the floor with a valid power figure."""
    ok = [r for r in eligible(rows, need_power=True) if r.get("energy_per_frame_mj") is not None]
    return min(ok, key=lambda r: r["energy_per_frame_mj"]) if ok else None


def _mhz(v, scale: float) -> str:
    return "—" if v is None or v != v else f"{v / scale:.0f}"


def _n(v, fmt: str) -> str:
    if v is None or v != v:  # None or NaN (a DataFrame's gap)
        return "—"
    return format(int(v), "d") if fmt == "d" else format(v, fmt)


def section(rows: list[dict], out: Path, pngs: list[Path], esc, img) -> str:
    """HTML for every device with modes or DLA cells; the plots it draws are appended to ``pngs``."""
    if not has_configurations(rows):
        return ""
    parts = ["<h2>Power modes and engine targets</h2><p>Every configuration a board ran: the variant, the power mode "
             "(nvpmodel, verified before each timed window, with the clocks read then) and where the engine ran (GPU or a "
             "DLA core). Ringed points and &#9679; rows are the board's Pareto front of F1 against energy per frame; "
             "&#9733; is the best configuration at or above the accuracy floor.</p>"]
    for device in dict.fromkeys(r["device"] for r in rows):
        mine = [r for r in rows if r["device"] == device]
        if not has_configurations(mine):
            continue
        best = best_configuration(mine)
        verdict = (f"<p class='big'><b>{esc(device)}</b>: best frames per joule is <b>{esc(best['model'])} "
                   f"{esc(best['variant'])}</b> at {_n(best['energy_per_frame_mj'], '.1f')} mJ/frame "
                   f"({_n(best['fps_per_w'], '.2f')} FPS/W, {_n(best['fps'], '.1f')} FPS, F1 {_n(best['f1'], '.3f')}).</p>"
                   if best else f"<p><b>{esc(device)}</b>: no configuration has a valid power figure at or above the floor.</p>")
        charts = [c for c in (
            plots_modes.mode_front(mine, out, f"modes_{device}", f"{device}: F1 against energy per frame across power "
                                   "modes and engine targets", best),
            plots_modes.mode_energy(mine, out, f"modes_energy_{device}", f"{device}: energy per frame in each power mode")) if c is not None]
        pngs += charts
        head = ("<tr><th class='l'>configuration</th><th class='l'>mode</th><th class='l'>target</th><th>CPU cores</th>"
                "<th>CPU MHz</th><th>GPU MHz</th><th>DLA/GPU layers</th><th>W</th><th>mJ/frame</th><th>FPS</th>"
                "<th>FPS/W</th><th>F1</th><th>front</th><th class='l'>status</th></tr>")
        body = []
        order = sorted(mine, key=lambda r: (r.get("energy_per_frame_mj") is None, r.get("energy_per_frame_mj") or 0))
        for r in order:
            layers = ("—" if r.get("dla_layers") is None and r.get("gpu_layers") is None
                      else f"{_n(r.get('dla_layers'), 'd')}/{_n(r.get('gpu_layers'), 'd')}")
            mark = ("&#9733; " if r is best else "") + ("&#9679;" if r.get("pareto_f1_energy") else "")
            status = r["status"] + (" (below floor)" if r.get("below_floor") else "") + (
                f": {r['reason']}" if r.get("reason") and r["status"] != "ok" else "")
            body.append(
                f"<tr class='{esc(r['status'])}{' pareto' if r.get('pareto_f1_energy') else ''}'>"
                f"<td class='l'>{esc(r['model'])} {esc(r['variant'])}</td><td class='l'>{esc(r.get('power_mode') or '—')}</td>"
                f"<td class='l'>{esc(r.get('target') or '—')}</td><td>{_n(r.get('cpu_online'), 'd')}</td>"
                f"<td>{_mhz(r.get('cpu_max_khz'), 1e3)}</td><td>{_mhz(r.get('gpu_max_hz'), 1e6)}</td><td>{layers}</td>"
                f"<td>{_n(r.get('mean_w'), '.2f')}</td><td>{_n(r.get('energy_per_frame_mj'), '.1f')}</td>"
                f"<td>{_n(r.get('fps'), '.1f')}</td><td>{_n(r.get('fps_per_w'), '.2f')}</td><td>{_n(r.get('f1'), '.3f')}</td>"
                f"<td>{mark}</td><td class='l note'>{esc(status[:200])}</td></tr>")
        parts.append(f"{verdict}{''.join(img(c) for c in charts)}<div class='scroll'><table><thead>{head}</thead>"
                     f"<tbody>{''.join(body)}</tbody></table></div>")
    return "".join(parts)
