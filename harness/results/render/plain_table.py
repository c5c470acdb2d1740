"""A large results table laid out without rich's per-cell layout: the same lines, no colours.

rich lays a table out cell by cell (padding, wrapping, cropping: about a millisecond a row here), so a
comparison of 20 000 records spent most of its time printing. Beyond ``STYLED_ROWS`` rows the table is
laid out here, as rich lays out ``box.SIMPLE_HEAD`` with ``pad_edge=False``, a right padding of one and
``no_wrap`` columns (one space of edge, two between columns, a rule under the header, a blank line between
sections), so the text is the same; only the styles (status colours, bold winners) are left out. The caption
(notes, legend) keeps its styles.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.constrain import Constrain
from rich.segment import Segment
from rich.text import Text

STYLED_ROWS = 2000  # rows up to which the table is rich's own (styled)


def _fit(text: str, width: int, justify: str) -> str:
    pad = width - cell_len(text)
    if justify == "right":
        return " " * pad + text
    if justify == "center":
        return " " * (pad // 2) + text + " " * (pad - pad // 2)
    return text + " " * pad


class PlainTable:
    """``header`` and ``justify`` per column; ``body``: rows of cell texts, None where a section ends."""

    def __init__(self, header: list[str], justify: list[str], body: list[list[str] | None], title: str | None = None,
                 caption: Text | None = None) -> None:
        self.header, self.justify, self.body, self.title, self.caption = header, justify, body, title, caption
        self.widths = [max([cell_len(h)] + [cell_len(r[i]) for r in body if r is not None])
                       for i, h in enumerate(header)]

    @property
    def width(self) -> int:
        return sum(self.widths) + 2 * (len(self.widths) - 1) + 2

    def _line(self, cells: list[str], justify: list[str] | None = None) -> str:
        just = justify or self.justify
        return " " + "  ".join(_fit(c, w, j) for c, w, j in zip(cells, self.widths, just)) + " "

    def lines(self) -> list[str]:
        """The table's lines (title and caption aside)."""
        out = [" " * self.width, self._line(self.header), " " + "─" * (self.width - 2) + " "]
        body = self.body[:-1] if self.body and self.body[-1] is None else self.body
        out += [" " * self.width if r is None else self._line(r) for r in body]
        out.append(" " * self.width)
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.title:
            yield Text(self.title, style="table.title", no_wrap=True, overflow="ignore")
        yield Segment("\n".join(line[: max(options.max_width, 1)] for line in self.lines()) + "\n")  # wide: unsqueezed
        if self.caption is not None and self.caption.plain:
            yield Constrain(self.caption, width=self.width)  # wrapped to the table's width, as rich wraps a caption


def plain_results(rows: list[dict], lead: list[tuple[str, list[str]]], cols: list[tuple[str, str, list]],
                  title: str | None, caption: Text) -> PlainTable:
    """The results table (``render.table``) as plain text: ``lead`` columns (name, values), then ``cols`` (name,
    justify, cells); a section per experiment, headed by a row carrying its name."""
    text = lambda v: v.plain if isinstance(v, Text) else str(v)  # noqa: E731
    width = len(lead) + len(cols)
    body: list[list[str] | None] = []
    for i, r in enumerate(rows):
        if i == 0 or rows[i - 1]["experiment"] != r["experiment"]:
            body.append([r["experiment"] or ""] + [""] * (width - 1))
        body.append([vals[i] for _, vals in lead] + [text(cells[i]) for _, _, cells in cols])
        if i + 1 == len(rows) or rows[i + 1]["experiment"] != r["experiment"]:
            body.append(None)
    return PlainTable([name for name, _ in lead] + [name for name, _, _ in cols],
                      ["left"] * len(lead) + [j for _, j, _ in cols], body, title, caption)
