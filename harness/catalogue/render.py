"""What ``harness history`` and ``harness regressions`` show: rich tables, the history plot (PNG) and the report's
"Since last time" section. Text from records (names, reasons, versions) is shown literally, never as markup."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from harness.catalogue.regressions import Change


def _ci(v, lo, hi, fmt: str) -> str:
    if v is None or v != v:
        return "—"
    if lo is None or hi is None or lo != lo or hi != hi:
        return format(v, fmt)
    return f"{format(v, fmt)} ±{format((hi - lo) / 2, fmt)}"


def _plain(v, fmt: str) -> str:
    return "—" if v is None or v != v else format(v, fmt)


WIDE_HISTORY = 110  # from this width "changed" is a column; below it, lines under the table


def _middle(text: str, width: int) -> str:
    """``text`` in ``width`` characters: whole, or its start and end around an ellipsis."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def history_tables(df: pd.DataFrame, width: int = 120) -> list:
    """One table per configuration: a row per run, oldest first, with what changed since the run before (a
    column on a wide terminal, lines under the table on a narrow one: numbers are never folded)."""
    from rich.table import Table
    from rich.text import Text

    out = []
    inline = width >= WIDE_HISTORY
    heads = (("when (UTC)", "left"), ("run", "left"), ("status", "left"), ("p50 ms", "right"), ("mJ/frame", "right"),
             ("FPS/W", "right"), ("F1", "right"))
    for label, runs in df.groupby("label", sort=False):
        rows, notes = [], []
        for r in runs.to_dict("records"):
            when = pd.Timestamp(r["run_created_at"]).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")
            rows.append([when, str(r["run_id"]), str(r["status"]),
                         _ci(r["latency_p50_ms"], r["latency_p50_ci_lo_ms"], r["latency_p50_ci_hi_ms"], ".2f"),
                         _ci(r["energy_per_frame_mj"], r["energy_per_frame_ci_lo_mj"], r["energy_per_frame_ci_hi_mj"], ".1f"),
                         _plain(r["fps_per_w"], ".1f"), _plain(r["f1"], ".3f"), r["changed"] or ""])
            if not inline and r["changed"]:
                notes.append(Text.assemble((f"  {when} {r['run_id']}: ", "dim"), r["changed"]))
        t = Table(title=Text(str(label), style="bold"), title_justify="left", show_edge=False, pad_edge=False)
        widths = [max(len(name), *(len(row[i]) for row in rows)) for i, (name, _) in enumerate(heads)]
        fixed = sum(w for i, w in enumerate(widths) if i != 1) + 3 * (len(heads) - 1 + inline) + (20 if inline else 0)
        for i, (name, just) in enumerate(heads):
            if name == "run":  # the one column that gives way: a long id keeps its start and end (they differ)
                run_w = max(7, min(widths[1], width - fixed))
                t.add_column(name, justify=just, no_wrap=True, width=run_w)
            else:  # every number whole, whatever the width
                t.add_column(name, justify=just, no_wrap=True, min_width=widths[i])
        if inline:
            t.add_column("changed since the run before", overflow="fold")
        for row in rows:
            status = Text(row[2], style="" if row[2] == "ok" else "red")
            t.add_row(row[0], Text(_middle(row[1], run_w)), status, *row[3:7], *([Text(row[7])] if inline else []))
        out.append(t)
        out.extend(notes)
    return out


def _amount(c: Change) -> str:
    if c.change is None:
        return ""
    return f"{c.change:+.1%}" if c.metric != "f1" else f"{c.change:+.3f}"


def _band(c: Change) -> str:
    if c.band is None:
        return ""
    return f"±{c.band:.1%}" if c.metric != "f1" else f"±{c.band:.3f}"


def _value(c: Change, v) -> str:
    if isinstance(v, str) or v is None:
        return v or "—"
    return format(v, ".3f" if c.metric == "f1" else ".2f" if c.metric == "latency_p50_ms" else ".1f")


def _note(c: Change) -> str:
    """What else changed since the run before; for a cell that now fails, its reason first."""
    return c.since if c.metric != "status" else "; ".join(x for x in (c.reason, c.since) if x)


def regressions_table(changes: list[Change]):
    """The changes outside the noise, worse first (red), then better (green); under each configuration, what else
    changed since the run before (versions, clocks) or why the cell failed."""
    from rich.table import Table
    from rich.text import Text

    t = Table(show_edge=False, pad_edge=False)
    t.add_column("configuration", overflow="fold", ratio=1)
    for name in ("change", "before", "now", "by", "noise"):
        t.add_column(name, justify="left" if name == "change" else "right", no_wrap=True)
    for c in changes:
        note = _note(c)
        label = Text(c.label)
        if note:
            label.append(f"\n  {note}", style="dim")
        t.add_row(label, Text(c.what, style="red" if c.worse else "green"), _value(c, c.before), _value(c, c.now),
                  _amount(c), _band(c))
    return t


def summary_line(changes: list[Change], configs: int | None = None) -> str:
    worse = sum(c.worse for c in changes)
    of = f" in {configs} configuration(s)" if configs is not None else ""
    if not changes:
        return f"no change outside the noise{of}"
    return f"{worse} worse, {len(changes) - worse} better, outside the noise{of}"


def history_plot(df: pd.DataFrame, path: Path) -> Path:
    """p50, energy per frame, FPS/W and F1 per run (with their intervals), one line per configuration."""
    from harness.results.render.plots import PALETTE, empty, plt_, save, short

    plt = plt_()
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True)
    panels = (("latency_p50_ms", "latency_p50_ci_lo_ms", "latency_p50_ci_hi_ms", "p50 latency (ms)"),
              ("energy_per_frame_mj", "energy_per_frame_ci_lo_mj", "energy_per_frame_ci_hi_mj", "energy per frame (mJ)"),
              ("fps_per_w", None, None, "FPS/W (frames per joule)"), ("f1", None, None, "F1"))
    ok = df[df.status == "ok"]
    for ax, (col, lo, hi, title) in zip(axes.flat, panels):
        ax.set_title(title, loc="left")
        drawn = False
        for i, (label, g) in enumerate(ok.groupby("label", sort=False)):
            g = g[g[col].notna()]
            if g.empty:
                continue
            x = pd.to_datetime(g.run_created_at).dt.tz_convert("UTC").dt.tz_localize(None)
            y = g[col].astype(float)
            color = PALETTE[i % len(PALETTE)]
            if lo and g[lo].notna().any():
                err = [(y - g[lo].astype(float)).clip(lower=0).fillna(0), (g[hi].astype(float) - y).clip(lower=0).fillna(0)]
                ax.errorbar(x, y, yerr=err, color=color, marker="o", ms=4, capsize=3, lw=1.2, label=short(str(label), 60))
            else:
                ax.plot(x, y, color=color, marker="o", ms=4, lw=1.2, label=short(str(label), 60))
            drawn = True
        if not drawn:
            empty(ax, "no values in these runs")
        ax.grid(alpha=0.3)
    failed = df[df.status != "ok"]
    for ax in axes.flat:
        for t in pd.to_datetime(failed.run_created_at).dt.tz_convert("UTC").dt.tz_localize(None):
            ax.axvline(t, color="#c00", ls=":", lw=1)
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    for ax in axes.flat:
        locator = AutoDateLocator(maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    handles, labels = axes.flat[0].get_legend_handles_labels()
    rows = (len(labels) + 1) // 2
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(2, len(labels)), fontsize=8, frameon=False)
    fig.suptitle("history per configuration (bars: 95 % rerun intervals; dotted red: a run in which a cell failed)",
                 fontsize=10)
    return save(fig, path, rect=(0, 0.02 + 0.035 * rows, 1, 1))


def since_last_time_html(changes: list[Change], configs: int) -> str:
    """The report's first section: the changes of these runs against the catalogue's earlier runs."""
    esc = lambda v: html.escape(str(v), quote=True)  # noqa: E731 - names, versions and reasons come from devices
    head = (f"<h2>Since last time</h2><p>{esc(summary_line(changes, configs))} against the earlier runs in the results "
            "catalogue (<code>harness regressions</code> says what outside the noise means)</p>")
    if not changes:
        return head
    rows = "".join(
        f'<tr class="{"failed" if c.worse else "pareto"}"><td class="l">{esc(c.label)}</td><td class="l">{esc(c.what)}</td>'
        f"<td>{esc(_value(c, c.before))}</td><td>{esc(_value(c, c.now))}</td><td>{esc(_amount(c))}</td>"
        f'<td>{esc(_band(c))}</td><td class="l">{esc(_note(c))}</td></tr>' for c in changes)
    return (head + '<div class="scroll"><table><tr><th class="l">configuration</th><th class="l">change</th>'
            "<th>before</th><th>now</th><th>by</th><th>noise</th><th class=\"l\">since the run before</th></tr>"
            f"{rows}</table></div>")


def frame_table(df: pd.DataFrame):
    """A query's result as a table: numbers right-aligned, missing values as —; past ``STYLED_ROWS`` rows laid out
    without rich's per-cell work (``render.plain_table``)."""
    from rich.table import Table
    from rich.text import Text

    from harness.results.render.plain_table import STYLED_ROWS, PlainTable

    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]

    def text(v) -> str:
        if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
            return "—"
        return f"{v:.6g}" if isinstance(v, float) else str(v)

    body = [[text(v) for v in row] for row in df.itertuples(index=False)]
    justify = ["right" if n else "left" for n in numeric]
    if len(body) > STYLED_ROWS:
        return PlainTable([str(c) for c in df.columns], justify, body)
    t = Table(show_edge=False, pad_edge=False)
    for c, j in zip(df.columns, justify):
        t.add_column(str(c), justify=j, overflow="fold")
    for row in body:
        t.add_row(*(Text(v) for v in row))  # values from records: literal, never markup
    return t


def since_section(run_dirs: list) -> str:
    """The report's "Since last time" section for these runs ('' when they have no catalogue)."""
    from harness.catalogue.regressions import since_last_time

    since = since_last_time(run_dirs)
    return since_last_time_html(*since) if since is not None else ""
