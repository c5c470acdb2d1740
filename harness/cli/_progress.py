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


class DeployProgress:
    """A deploy's events as lines (and transfer bars in a terminal)."""

    def __init__(self, con) -> None:
        self.con, self.last, self.transfer = con, None, None

    def _bytes(self, what: str, done: int, total: int | None) -> None:
        if self.transfer is None:
            self.transfer = Transfer(self.con, what, total)
        self.transfer.update(done)

    def close(self) -> None:
        if self.transfer is not None:
            self.transfer.close()
            self.transfer = None

    def __call__(self, event: str, data: dict) -> None:
        con = self.con
        if event == "sequence_bytes":
            if data["total"]:
                self._bytes("sequence", data["bytes"], data["total"])
            return
        if event == "image_bytes":
            self._bytes("image", data["bytes"], data["total"])
            return
        self.close()
        if event == "preflight":
            con.print("preflight: " + ", ".join(f"{c.name} {c.mark}" for c in data["checks"]), highlight=False)
        elif event == "shipped":
            if data["sequence_skipped"]:
                seq = "already on the device"
            else:
                seq = f"{human_bytes(data['sequence_bytes_sent'])} sent" + (
                    f" ({data['sequence_files_kept']} files kept from an interrupted upload)" if data.get("sequence_files_kept") else "")
            image = ""
            if "image" in data:
                image = "; image " + ("already there" if data["image"]["skipped"] else
                                      f"sent ({human_bytes(data['image'].get('bytes_sent', 0))} compressed)")
            con.print(f"shipped: sequence {seq}{image}", highlight=False)
        elif event == "started":
            con.print(f"runner started on the device (pid {data['pid']}{', resuming' if data['resume'] else ''})", highlight=False)
        elif event == "poll":
            if not data["total"]:
                line = "  waiting for the runner's first manifest ..."
            else:
                line = f"  {data['done']}/{data['total']} cells done" + (f", running {data['current']}" if data["current"] else "")
            if line != self.last:  # print changes only
                con.print(line, highlight=False)
                self.last = line
        elif event in ("link_lost", "reconnecting", "reconnected", "rebooted"):
            detail = ", ".join(f"{k} {v}" for k, v in data.items())
            con.print(f"[yellow]{event}[/] {detail}", highlight=False)
        elif event == "power_mode":
            what = "back in" if data.get("restored") else "set to"
            extra = f" (id {data['id']}{', after a reboot' if data.get('rebooted') else ''})" if "id" in data else ""
            con.print(f"power mode {what} {data['mode']}{extra}", highlight=False)
        elif event == "rebooting":
            con.print(f"[yellow]rebooting[/] the board: power mode {data['mode']} needs it (nvpmodel says so)", highlight=False)
        elif event == "power_mode_not_restored":
            con.print(f"[yellow]warning[/]: the board was not returned to power mode {data['mode']}: {data['error']}",
                      highlight=False)


class CampaignProgress:
    """A campaign's per-device events: a live table in a terminal (state, cells, ETA, the last cell's W and C),
    the state changes as lines otherwise."""

    SAID = ("started", "reattached", "failed", "quarantined", "link_lost", "reconnected", "rebooted", "power_mode",
            "rebooting")

    def __init__(self, con, name: str) -> None:
        import threading

        from rich.live import Live

        self.con, self.name = con, name
        self.rows: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.live = Live(self._table(), console=con, auto_refresh=False) if con.is_terminal else None
        if self.live is not None:
            self.live.start()

    def _table(self):
        from rich.table import Table
        from rich.text import Text

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

    def __call__(self, dev: str, event: str, data: dict) -> None:
        from rich.text import Text

        with self.lock:
            r = self.rows.setdefault(dev, {"state": "pending"})
            if event == "poll":
                r.update({k: data.get(k) for k in ("done", "total", "current", "last_w", "last_temp_c")})
                r.setdefault("t0", time.monotonic())
                r["state"] = "running" if data.get("state") != "complete" else "pulled"
            elif event in (*self.SAID, "preflight", "shipped"):
                r["state"] = event if event not in ("power_mode", "rebooting") else (
                    f"{'rebooting' if event == 'rebooting' else 'mode'} {data.get('mode')}")
            if self.live is not None:
                self.live.update(self._table(), refresh=True)
            elif event in self.SAID or (event == "poll" and data.get("state") == "complete"):
                said = f"{data['done']}/{data['total']} cells done" if event == "poll" else str(data)
                self.con.print(Text(f"[{dev}] {event} {said}"))

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
