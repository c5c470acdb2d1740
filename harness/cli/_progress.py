"""Progress of long work, in a terminal as rich bars (cells with ETA, the stage inside a cell, bytes of a
transfer) and as plain lines when output is piped or logged."""

from __future__ import annotations

import time


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


class RunProgress:
    """The runner's events (start, cell_start, stage, cell_done) as a bar over the cells, or as lines."""

    def __init__(self, con) -> None:
        self.con = con
        self.live = con.is_terminal
        self.progress = None
        self.task = None
        self.cell = ""

    def __call__(self, event: str, data: dict) -> None:
        if event == "start":
            self._start(data)
        elif event == "cell_start":
            self.cell = data["cell"].key
            if self.progress:
                self.progress.update(self.task, description=f"{self.cell}: loading")
            else:
                self.con.print(f"[{data['index']}/{data['total']}] {self.cell} ...", highlight=False)
        elif event == "stage":
            if self.progress:
                self.progress.update(self.task, description=f"{self.cell}: {data['stage']}")
            else:
                self.con.print(f"  {data['stage']}", highlight=False)
        elif event == "cell_done":
            self._done(data["record"])
        elif event == "host":
            for why in (data.get("contended_reason"), data.get("threads_warning")):
                if why:
                    self.con.print(f"[yellow]host not quiet[/]: {why}; its cells will be marked contended",
                                   highlight=False, markup=True)

    def _start(self, data: dict) -> None:
        self.con.print(f"{data['todo']} of {data['total']} cells to run -> {data['run_dir']}", highlight=False)
        if self.live and data["todo"]:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                     TextColumn("ETA"), TimeRemainingColumn(), console=self.con, transient=False)
            self.task = self.progress.add_task("starting", total=data["todo"])
            self.progress.start()

    def _done(self, r: dict) -> None:
        from harness.results.rows import at

        if r["status"] == "ok":
            f1 = at(r, "quality", "f1")
            busy = at(r, "host_state", "contended_reason")
            line = (f"[green]ok[/] {r['cell_id']}: p50 {at(r, 'latency', 'total', 'p50_ms'):.1f} ms"
                    + (f", F1 {f1:.3f}" if f1 is not None else "") + f" ({r['duration_s']:.0f} s)"
                    + (f" [yellow]contended[/]: {busy}" if busy else ""))
        else:
            style = "yellow" if r["status"] == "skipped" else "red"
            line = f"[{style}]{r['status']}[/] {r['cell_id']}: {r['reason']}"
        if self.progress:
            self.progress.console.print(line, highlight=False)
            self.progress.advance(self.task)
        else:
            self.con.print(f"  {line}", highlight=False)

    def close(self) -> None:
        if self.progress:
            self.progress.stop()
            self.progress = None


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
