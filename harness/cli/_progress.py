"""Progress of long work, in a terminal as rich bars (cells with ETA, the stage inside a cell) and as plain lines
when output is piped or logged; a deploy's progress is in ``_deploy_progress``."""

from __future__ import annotations

import time

from rich.text import Text


class RunProgress:
    """The runner's events (start, cell_start, stage, cell_done) as a bar over the cells, or as lines."""

    def __init__(self, con) -> None:
        self.con = con
        self.live = con.is_terminal
        self.progress = None
        self.task = None
        self.cell = ""

    def __call__(self, event) -> None:
        from harness.measure import events as ev

        if isinstance(event, ev.RunStarted):
            self._start(event)
        elif isinstance(event, ev.CellStarted):
            self.cell = event.cell.key
            if self.progress:
                self.progress.update(self.task, description=f"{self.cell}: loading")
            else:
                self.con.print(Text(f"[{event.index}/{event.total}] {self.cell} ..."))
        elif isinstance(event, ev.Stage):
            if self.progress:
                self.progress.update(self.task, description=f"{self.cell}: {event.text}")
            else:
                self.con.print(Text(f"  {event.text}"))
        elif isinstance(event, ev.CellDone):
            self._done(event.record)
        elif isinstance(event, ev.HostBusy):
            for why in (event.contended_reason, event.threads_warning):
                if why:
                    self.con.print(Text.assemble(("host not quiet", "yellow"),
                                                 f": {why}; its cells will be marked contended"))

    def _start(self, e) -> None:
        self.con.print(Text(f"{e.todo} of {e.total} cells to run -> {e.run_dir}"))
        if self.live and e.todo:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                     TextColumn("ETA"), TimeRemainingColumn(), console=self.con, transient=False)
            self.task = self.progress.add_task("starting", total=e.todo)
            self.progress.start()

    def _done(self, r: dict) -> None:
        from harness.results.rows import at

        if r["status"] == "ok":
            f1 = at(r, "quality", "f1")
            busy = at(r, "host_state", "contended_reason")
            line = Text.assemble(("ok", "green"), f" {r['cell_id']}: p50 {at(r, 'latency', 'total', 'p50_ms'):.1f} ms"
                                 + (f", F1 {f1:.3f}" if f1 is not None else "") + f" ({r['duration_s']:.0f} s)")
            if busy:
                line.append_text(Text.assemble(" ", ("contended", "yellow"), f": {busy}"))
        else:  # a reason is free text (an exception's words, a device's): literal, never markup
            line = Text.assemble((r["status"], "yellow" if r["status"] == "skipped" else "red"),
                                 f" {r['cell_id']}: {r['reason']}")
        if self.progress:
            self.progress.console.print(line, highlight=False)
            self.progress.advance(self.task)
        else:
            self.con.print(Text("  ") + line, highlight=False)

    def close(self) -> None:
        if self.progress:
            self.progress.stop()
            self.progress = None


class CampaignProgress:
    """A campaign's per-device events: a live table in a terminal (state, cells, ETA, the last cell's W and C),
    the state changes as lines otherwise."""

    SAID = ("started", "reattached", "failed", "quarantined", "link_lost", "reconnected", "rebooted", "power_mode",
            "rebooting", "farm")

    def __init__(self, con, name: str) -> None:
        import threading

        from rich.live import Live

        from harness.cli._deploy_progress import DeployProgress

        self.con, self.name = con, name
        self.words = DeployProgress(con)  # an event as the deploy's own line (a device's words literal, never markup)
        self.rows: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.live = Live(self._table(), console=con, auto_refresh=False) if con.is_terminal else None
        if self.live is not None:
            self.live.start()

    def _table(self):
        from rich.table import Table

        t = Table(title=f"campaign {self.name} (live)", header_style="bold")
        for col in ("device", "state", "cells", "current cell", "ETA", "last W", "last C"):
            t.add_column(col)
        for dev, r in sorted(self.rows.items()):
            eta = "—"
            if r.get("done") and r.get("total") and r.get("t0"):
                per = (time.monotonic() - r["t0"]) / r["done"]
                eta = f"{per * (r['total'] - r['done']):.0f} s"
            t.add_row(Text(dev), r.get("state", "?"), f"{r.get('done', 0)}/{r.get('total', '?')}",
                      Text(r.get("current") or ""), eta, "—" if r.get("last_w") is None else f"{r['last_w']:.2f}",
                      "—" if r.get("last_temp_c") is None else f"{r['last_temp_c']:.0f}")
        return t

    def __call__(self, dev: str, e) -> None:
        from harness.remote import events as ev

        name, data = e.name, e.as_dict()
        with self.lock:
            r = self.rows.setdefault(dev, {"state": "pending"})
            if isinstance(e, ev.Poll):
                r.update({k: data[k] for k in ("done", "total", "current", "last_w", "last_temp_c")})
                r.setdefault("t0", time.monotonic())
                r["state"] = "running" if e.state != "complete" else "pulled"
            elif isinstance(e, (ev.PowerMode, ev.Rebooting)):
                r["state"] = f"{'rebooting' if isinstance(e, ev.Rebooting) else 'mode'} {e.mode}"
            elif name in (*self.SAID, "preflight", "shipped"):
                r["state"] = name
            if self.live is not None:
                self.live.update(self._table(), refresh=True)
            elif name in self.SAID or (isinstance(e, ev.Poll) and e.state == "complete"):
                said = Text(f"{name} {e.done}/{e.total} cells done") if isinstance(e, ev.Poll) else self.words.line(e)
                if said is not None:
                    self.con.print(Text(f"[{dev}] ") + said)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

