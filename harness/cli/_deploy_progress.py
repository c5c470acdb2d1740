"""A deploy's progress: the cells with the ETA from measured cells, the cell running and the board now, bytes of a
transfer; rich bars in a terminal, plain lines when output is piped or logged."""

from __future__ import annotations

import time

from rich.text import Text


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


class Transfer:
    """Bytes of one transfer with its total, %, rate and ETA: a bar in a terminal, a line every few seconds else."""

    def __init__(self, con, what: str, total: int | None) -> None:
        self.con, self.what, self.total = con, what, total
        self.t0 = self.last = time.monotonic()
        self.done = 0
        self.progress = None
        if con.is_terminal:
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

            self.progress = Progress(TextColumn(what), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                                     TextColumn("ETA"), TimeRemainingColumn(), console=con)
            self.task = self.progress.add_task(what, total=total)
            self.progress.start()

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if self.progress:
            self.progress.update(self.task, completed=done)
        elif now - self.last >= 5 or (self.total and done >= self.total):
            self.last = now
            rate = done / max(now - self.t0, 1e-9)
            pct = f" of {human_bytes(self.total)} ({100 * done / self.total:.0f} %)" if self.total else ""
            eta = f", ETA {(self.total - done) / rate:.0f} s" if self.total and rate > 0 and done < self.total else ""
            self.con.print(f"  {self.what}: {human_bytes(done)}{pct}, {human_bytes(rate)}/s{eta}", highlight=False)

    def close(self) -> None:
        if self.progress:
            self.progress.stop()
            self.progress = None


class CellClock:
    """The ETA of a deploy from its own measured cells: the mean time per cell finished since it started following,
    times the cells left (rich's rate estimate from the first seconds said 35 s for a run that took 2 min 19 s)."""

    def __init__(self) -> None:
        self.t0: float | None = None
        self.done0 = 0

    def eta_s(self, done: int, total: int, now: float | None = None) -> float | None:
        now = time.monotonic() if now is None else now
        if self.t0 is None:
            self.t0, self.done0 = now, done
        finished = done - self.done0
        return None if finished <= 0 or done >= total else (now - self.t0) / finished * (total - done)


def eta_text(eta_s: float | None, done: int, total: int) -> str:
    if total and done >= total:
        return "done"
    if eta_s is None:
        return "ETA after the first cell"
    m, s = divmod(int(eta_s + 0.5), 60)
    return f"ETA {m // 60} h {m % 60:02d} min" if m >= 60 else f"ETA {m} min {s:02d} s" if m else f"ETA {s} s"


def _cells_bar(con):
    """The cells bar: ``cells ━━━━ 3/10  ETA 2 min 05 s  running CELL`` and, below it, the board now. The counts
    and the ETA keep their width on a narrow terminal; the cell's name gives way (ends in …)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Column

    class Cells(Progress):
        board = ""

        def get_renderables(self):
            yield self.make_tasks_table(self.tasks)
            if self.board:
                yield Text(self.board, no_wrap=True, overflow="ellipsis")

    keep = lambda n: Column(no_wrap=True, min_width=n)  # noqa: E731
    return Cells(TextColumn("cells", table_column=keep(5)), BarColumn(bar_width=20), MofNCompleteColumn(table_column=keep(5)),
                 TextColumn("{task.fields[eta]}", table_column=keep(15)),
                 TextColumn("{task.description}", table_column=Column(no_wrap=True, overflow="ellipsis",
                                                                      max_width=max(8, con.width - 52))),
                 console=con, transient=True)


class DeployProgress:
    """A deploy's events: lines, and in a terminal a bar over the cells with the ETA from measured cells, the cell
    running and the board now (W, °C, clocks from ``remote/live.py``); transfers get their own bytes bar."""

    BOARD_LINE_S = 30.0  # piped output: the board's reading at most this often

    def __init__(self, con) -> None:
        self.con, self.last, self.transfer = con, None, None
        self.cells = self.task = None
        self.clock = CellClock()
        self.board_printed = 0.0

    def _bytes(self, what: str, done: int, total: int | None) -> None:
        if self.transfer is None:
            self.transfer = Transfer(self.con, what, total)
        self.transfer.update(done)

    def close(self) -> None:
        if self.transfer is not None:
            self.transfer.close()
            self.transfer = None
        if self.cells is not None:
            self.cells.stop()
            self.cells = None

    def _print(self, line: Text) -> None:
        (self.cells.console if self.cells is not None else self.con).print(line, highlight=False)

    def _poll(self, e) -> None:
        from harness.remote.live import board_text

        if not e.total:
            line = self.line(e)
            if line is not None:
                self._print(line)
            return
        eta = eta_text(self.clock.eta_s(e.done, e.total), e.done, e.total)
        board = board_text(e.board) if e.board else ""
        if self.con.is_terminal:
            if self.cells is None:
                self.cells = _cells_bar(self.con)
                self.task = self.cells.add_task("", total=e.total, eta=eta)
                self.cells.start()
            self.cells.board = f"board now: {board}" if board else ""
            self.cells.update(self.task, completed=e.done, total=e.total, eta=eta,
                              description=f"running {e.current}" if e.current else "")
            return
        line = self.line(e)
        if line is not None:
            self._print(line + Text(f", {eta}"))
        now = time.monotonic()
        if board and now - self.board_printed >= self.BOARD_LINE_S:
            self.board_printed = now
            self._print(Text(f"  board now: {board}"))

    def __call__(self, e) -> None:
        from harness.remote import events as ev

        if isinstance(e, ev.SequenceBytes):
            if e.total:
                self._bytes("sequence", e.sent, e.total)
            return
        if isinstance(e, ev.ImageBytes):
            self._bytes("image", e.read, e.total)
            return
        if self.transfer is not None:
            self.transfer.close()
            self.transfer = None
        if isinstance(e, ev.Poll):
            self._poll(e)
            return
        line = self.line(e)
        if line is not None:
            self._print(line)

    def line(self, e) -> Text | None:
        """One event as a line (None: nothing worth a line); a device's words are literal, never markup."""
        from harness.remote import events as ev

        warn = lambda label, rest: Text.assemble((label, "yellow"), f" {rest}")  # noqa: E731
        if isinstance(e, ev.Preflight):
            return Text("preflight: " + ", ".join(f"{c.name} {c.mark}" for c in e.checks))
        if isinstance(e, ev.Shipped):
            d = e.info
            if d["sequence_skipped"]:
                seq = "already on the device"
            else:
                seq = f"{human_bytes(d['sequence_bytes_sent'])} sent" + (
                    f" ({d['sequence_files_kept']} files kept from an interrupted upload)" if d.get("sequence_files_kept") else "")
            image = ""
            if "image" in d:
                image = "; image " + ("already there" if d["image"]["skipped"] else
                                      f"sent ({human_bytes(d['image'].get('bytes_sent', 0))} compressed)")
            return Text(f"shipped: sequence {seq}{image}")
        if isinstance(e, ev.Started):
            return Text(f"runner started on the device (pid {e.pid}{', resuming' if e.resume else ''})")
        if isinstance(e, ev.Reattached):
            return Text(f"following the runner already on the device (pid {e.pid})")
        if isinstance(e, ev.Poll):
            text = ("  waiting for the runner's first manifest ..." if not e.total else
                    f"  {e.done}/{e.total} cells done" + (f", running {e.current}" if e.current else ""))
            if text == self.last:  # print changes only
                return None
            self.last = text
            return Text(text)
        if isinstance(e, ev.PowerMode):
            extra = f" (id {e.id}{', after a reboot' if e.rebooted else ''})" if e.id is not None else ""
            return Text(f"power mode {'back in' if e.restored else 'set to'} {e.mode}{extra}")
        if isinstance(e, ev.Rebooting):
            return warn("rebooting", f"the board: power mode {e.mode} needs it (nvpmodel says so)")
        if isinstance(e, ev.PowerModeNotRestored):
            return Text.assemble(("warning", "yellow"), f": the board was not returned to power mode {e.mode}: {e.error}")
        if isinstance(e, ev.Catalogued):
            return warn("warning", e.problem) if e.problem else None  # added: nothing worth a line
        if isinstance(e, ev.Farm):
            return Text.assemble(("farm", "cyan"), f": {e.text}")
        # the link's and the reboot's events, and a campaign's (failed, quarantined): their fields as words
        return warn(e.name, ", ".join(f"{k} {v}" for k, v in e.as_dict().items() if v is not None))
