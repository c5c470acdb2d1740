"""The results table (``harness run``'s closing table, ``harness compare``): as many columns as the width allows.

Rows are ``results.compare`` rows, grouped by experiment (one section each). Columns have a priority (the
essentials, then energy when there is power data, then the rest); the table takes them in that fixed order and
stops at the first that does not fit, so a number column is shown whole or not at all, and whatever is shown at
one width is shown at every wider one. The columns left out are named below the table (``hidden: ... — use
--wide``). ``wide`` takes every column and is never squeezed: it may be wider than the terminal. A model that is
the same on every row is said once below the table; a device label longer than ``LABEL_CELLS`` is shortened, with
its full form below. Below the table as well: the reasons of skipped and failed cells, insufficient power,
random-init weights and a legend of the marks that were used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from harness.errors import printable
from harness.results.columns import SHOWN, Column
from harness.results.compare import device_labels
from harness.results.render.plain_table import STYLED_ROWS, PlainTable, plain_results
from harness.results.render.table_notes import notes

STATUS_STYLE = {"ok": "green", "skipped": "yellow", "failed": "red"}


def number_text(v, fmt: str) -> str:
    return "—" if v is None else format(v, fmt)


def with_interval(v, lo, hi, fmt: str) -> str:
    """``value ±half-width`` (the half-width of the 95 % rerun interval), or the value alone."""
    if v is None:
        return "—"
    if lo is None or hi is None:
        return format(v, fmt)
    return f"{format(v, fmt)} ±{format((hi - lo) / 2, fmt)}"


def _repeats(r: dict) -> str:
    """How many windows the row's numbers come from (``1``: no rerun interval)."""
    n = r.get("repeats")
    return "—" if n is None or n != n or r["status"] != "ok" else str(int(n))


def ratio_text(v, sig) -> str:
    """A ratio as ``1.85x``, with ``~`` when its interval contains 1 (within noise)."""
    return "—" if v is None else f"{v:.2f}x" + ("~" if sig is False else "")


def _status(r: dict) -> Text:
    t = Text(r["status"] or "?", style=STATUS_STYLE.get(r["status"], ""))
    for flag, on, style in ((" <floor", r.get("below_floor"), "bold red"), (" thr", r.get("throttled"), "red"),
                            (" !", r.get("settings_note"), "bold yellow"), (" ~T", r.get("not_steady"), "yellow"),
                            (" busy", r.get("contended") is True, "bold yellow"),
                            (" thr>", r.get("threads_over_idle") is True, "yellow")):
        if on:
            t.append(flag, style=style)
    return t


def _model(r: dict) -> Text:
    t = Text(printable(r["model"] or "?"))  # a record's text: never markup, never a terminal escape
    if r.get("weights_provenance") == "random-init":
        t.append("*", style="bold red")
    return t


def _pareto(r: dict) -> Text:
    return Text(("E" if r.get("pareto_f1_energy") else "") + ("L" if r.get("pareto_f1_latency") else ""), style="bold green")


@dataclass(frozen=True)
class Col:
    name: str
    cell: Callable[[dict], str | Text]
    priority: int  # lower first
    justify: str = "right"
    place: float = 0.0  # order in the table


def _runtime(r: dict) -> Text:
    return Text(printable(r.get("runtime") or "—").replace("ExecutionProvider", " EP"))


RENDERERS = {"model": _model, "status": _status, "runtime": _runtime}  # registry columns drawn in their own way


def _registered(c: Column) -> Col:
    """A table column from a registry column's ``show``: ``±`` its interval, ``~`` on a ratio within noise."""
    show = c.show
    if c.name in RENDERERS:
        cell = RENDERERS[c.name]
    elif c.repeats == "interval":
        lo, hi = c.bounds[:2]
        cell = lambda r: with_interval(r[c.name], r[lo], r[hi], show.fmt)  # noqa: E731
    elif show.significant:
        cell = lambda r: ratio_text(r[c.name], r[show.significant])  # noqa: E731
    elif show.fmt:
        cell = lambda r: number_text(None if r[c.name] is None else r[c.name] * show.scale, show.fmt)  # noqa: E731
    else:
        cell = lambda r: Text(printable(str(r[c.name]) if r[c.name] is not None else "—"))  # noqa: E731
    return Col(show.header, cell, int(show.place), show.justify, show.place)


# What only a comparison has (compare's columns, not a record's): placed among the registry's.
COMPARISON = [
    Col("variant", lambda r: r["variant"], 0, "left", 0.1),
    Col("n", _repeats, 3, place=0.3),
    Col("x base", lambda r: ratio_text(r["speedup_vs_baseline"], r["speedup_vs_baseline_significant"]), 4, place=4.0),
    Col("pareto", _pareto, 5, "center", 5.0),
    Col("E/base", lambda r: ratio_text(r["energy_ratio_vs_baseline"], r["energy_vs_baseline_significant"]), 6,
        place=6.0),
]
COLUMNS = sorted([*(_registered(c) for c in SHOWN), *COMPARISON], key=lambda c: c.place)
ONCE = ("model",)  # said once below the table when every row has the same (rarely not so in a comparison)
LABEL_CELLS = 20  # a longer device label (``device/run-id``) is shortened in the table, its full form below


def short_labels(labels: list[str], limit: int = LABEL_CELLS) -> tuple[list[str], dict[str, str]]:
    """Each label, or its short form when longer than ``limit`` cells (its start, ``…``, its end; its start and a
    hash of it where two would read alike), and short -> full for the legend. The same label is always shortened
    the same way among the same labels."""
    full = list(dict.fromkeys(labels))
    cut = lambda t: t[: limit - 8] + "…" + t[-7:]  # noqa: E731
    short = {t: t if cell_len(t) <= limit else cut(t) for t in full}
    seen: dict[str, int] = {}
    for v in short.values():
        seen[v] = seen.get(v, 0) + 1
    for t, v in short.items():
        if v != t and seen[v] > 1:
            short[t] = t[: limit - 7] + "…" + hashlib.sha1(t.encode()).hexdigest()[:6]
    return [short[t] for t in labels], {v: t for t, v in short.items() if v != t}


class Unsqueezed:
    """A table drawn at its natural width even where the terminal is narrower (``--wide``): its lines run past the
    edge (print it with ``crop=False``) rather than a number being cut."""

    def __init__(self, table: RenderableType, width: int) -> None:
        self.table, self.width = table, width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from console.render(self.table, options.update_width(max(options.max_width, self.width)))

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.width, self.width)


def _grouped(rows: list[dict]) -> list[dict]:
    """Rows grouped by experiment, then device (each in order of first appearance), the given order kept inside."""
    exp: dict[str, int] = {}
    dev: dict[str, int] = {}
    for r in rows:
        exp.setdefault(r["experiment"] or "", len(exp))
        dev.setdefault(r["device"] or "", len(dev))
    return sorted(rows, key=lambda r: (exp[r["experiment"] or ""], dev[r["device"] or ""]))


def _build(rows: list[dict], cols: list[Col], lead: list[tuple[str, list[str]]], title: str | None,
           cells: dict[str, list] | None = None) -> Table:
    """The table; each experiment is a section headed by a row carrying its name (no column spent on it).
    ``cells``: each column's cells, when already computed (``results_table``)."""
    t = Table(title=title, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left",
              padding=(0, 1, 0, 0))  # two spaces between columns (a padding and the box's blank divider)
    for name, _ in lead:
        t.add_column(name, no_wrap=True)
    for c in cols:
        t.add_column(c.name, justify=c.justify, no_wrap=True)
    width = len(lead) + len(cols)
    values = [cells[c.name] if cells and c.name in cells else [c.cell(r) for r in rows] for c in cols]
    for i, r in enumerate(rows):
        if i == 0 or rows[i - 1]["experiment"] != r["experiment"]:
            t.add_row(Text(r["experiment"] or "", style="bold underline"), *[""] * (width - 1))
        last = i + 1 == len(rows) or rows[i + 1]["experiment"] != r["experiment"]
        t.add_row(*(Text(vals[i]) for _, vals in lead), *(v[i] for v in values), end_section=last)
    return t


def is_empty(c: Col, rows: list[dict]) -> bool:
    """Every cell of the column is a dash (e.g. energy without power data): not worth the width."""
    return all(str(c.cell(r)) in ("—", "") for r in rows)


def _widest(values: list) -> str | Text:
    """The cell of a column that needs the most width (what the column's natural width is)."""
    return max(values, key=lambda v: v.cell_len if isinstance(v, Text) else cell_len(v), default="")


def results_table(rows: list[dict], width: int, title: str | None = None,
                  wide: bool = False) -> Table | PlainTable | Unsqueezed:
    """The table for ``width`` columns of terminal (every column with ``wide``), with its notes as the caption.

    Columns are taken in a fixed priority order up to the first that does not fit (so the set only grows with the
    width); those left out are named in the caption. Each column's cells are computed once; what fits is measured
    on a one-row probe holding each column's widest cell (a table's natural width is its columns' widest cells
    plus padding), so the cost is linear in rows. Beyond ``STYLED_ROWS`` rows it is laid out as plain text
    (``render.plain_table``), the same lines unstyled. ``wide`` comes back ``Unsqueezed``: print it uncropped.
    """
    rows = _grouped(rows)
    lead = []
    devices, labels = short_labels(device_labels(rows))
    if len(set(devices)) > 1:
        lead.append(("device", devices))
    else:
        labels = {}
    several_runs = len({r["run_id"] for r in rows}) > 1
    cells = {c.name: [c.cell(r) for r in rows] for c in COLUMNS
             if several_runs or c.name not in ("x base", "E/base")}
    once = {} if wide else {name: cells[name][0] for name in ONCE
                            if rows and len({_plain(v) for v in cells[name]}) == 1}
    wanted = [c for c in COLUMNS if c.name in cells and c.name not in once
              and (wide or c.priority == 0 or not all(_plain(v) in ("—", "") for v in cells[c.name]))]
    wanted.sort(key=lambda c: _priority(c, several_runs))  # stable: equals keep their place order
    experiments = [Text(e or "", style="bold underline") for e in dict.fromkeys(r["experiment"] for r in rows)]
    probe_lead = [(name, [_widest(vals)]) for name, vals in lead]
    probe_rows = [{"experiment": _widest(experiments).plain if experiments else ""}]
    console = Console(width=10_000)

    def natural(cols: list[Col]) -> int:
        probe = _build(probe_rows, sorted(cols, key=COLUMNS.index), probe_lead, None,
                       {k.name: [_widest(cells[k.name])] for k in cols})
        return Measurement.get(console, console.options, probe).maximum

    chosen = [c for c in wanted if wide or c.priority == 0]  # the essentials stay even on a very narrow terminal
    for c in wanted[len(chosen):] if not wide else []:
        if natural(chosen + [c]) > width:
            break  # never a later, narrower column instead: the shown set only grows with the width
        chosen.append(c)
    hidden = [c.name for c in wanted if c not in chosen]
    caption = notes(rows, {c.name for c in chosen}, hidden, once, labels)
    cols = sorted(chosen, key=COLUMNS.index)
    if len(rows) > STYLED_ROWS:
        table = plain_results(rows, lead, [(c.name, c.justify, cells[c.name]) for c in cols], title, caption)
    else:
        table = _build(rows, cols, lead, title, cells)
        if caption.plain:
            table.caption, table.caption_justify = caption, "left"
    return Unsqueezed(table, natural(chosen)) if wide else table


def _plain(v) -> str:
    return v.plain if isinstance(v, Text) else str(v)


def _priority(c: Col, several_runs: bool) -> float:
    """Against another run, that run is the comparison the user asked for: its ratio comes right after energy."""
    return 1.5 if several_runs and c.name == "x base" else c.priority
