"""``harness campaign``: a suite on a fleet of devices, unattended, resumable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import console, print_comparison, print_json

app = typer.Typer(help="Unattended campaigns across several devices (journal, resume, quarantine).", no_args_is_help=True)


def _campaign(spec_path: Path, out: Path):
    from harness.campaign.fleet import Campaign
    from harness.config.campaign import load_campaign

    spec = load_campaign(spec_path)
    return Campaign(spec, out / spec.name, spec_path.resolve().parent)


def _from_dir(root: Path):
    from harness.campaign.fleet import Campaign
    from harness.config.campaign import load_campaign
    from harness.errors import ResultsError

    if not (root / "campaign.yaml").is_file():
        raise ResultsError(f"{root}: not a campaign directory (no campaign.yaml)", "pass results/<campaign-name>")
    return Campaign(load_campaign(root / "campaign.yaml"), root, root)


def _run(c) -> None:
    from rich.table import Table
    from rich.text import Text

    from harness.campaign.journal import Journal
    from harness.campaign.scheduler import run_campaign, run_dirs

    import threading
    import time

    from rich.live import Live

    con = console()
    rows: dict[str, dict] = {}
    lock = threading.Lock()

    def live_table():
        t = Table(title=f"campaign {c.spec.name} (live)", header_style="bold")
        for col in ("device", "state", "cells", "current cell", "ETA", "last W", "last C"):
            t.add_column(col)
        for dev, r in sorted(rows.items()):
            eta = "—"
            if r.get("done") and r.get("total") and r.get("t0"):
                per = (time.monotonic() - r["t0"]) / r["done"]
                eta = f"{per * (r['total'] - r['done']):.0f} s"
            t.add_row(dev, r.get("state", "?"), f"{r.get('done', 0)}/{r.get('total', '?')}", r.get("current") or "", eta,
                      "—" if r.get("last_w") is None else f"{r['last_w']:.2f}",
                      "—" if r.get("last_temp_c") is None else f"{r['last_temp_c']:.0f}")
        return t

    live = Live(live_table(), console=con, auto_refresh=False) if con.is_terminal else None

    def log(dev: str, event: str, data: dict) -> None:
        with lock:
            r = rows.setdefault(dev, {"state": "pending"})
            if event == "poll":
                r.update({k: data.get(k) for k in ("done", "total", "current", "last_w", "last_temp_c")})
                r.setdefault("t0", time.monotonic())
                r["state"] = "running" if data.get("state") != "complete" else "pulled"
            elif event in ("started", "reattached", "failed", "quarantined", "link_lost", "reconnected", "rebooted", "preflight",
                           "shipped"):
                r["state"] = event
            elif event in ("power_mode", "rebooting"):
                r["state"] = f"{'rebooting' if event == 'rebooting' else 'mode'} {data.get('mode')}"
            if live is not None:
                live.update(live_table(), refresh=True)
            elif event in ("started", "reattached", "failed", "quarantined", "link_lost", "reconnected", "rebooted", "power_mode",
                           "rebooting") or (
                    event == "poll" and data.get("state") == "complete"):
                con.print(f"[{dev}] {event} " + (f"{data['done']}/{data['total']} cells done" if event == "poll" else str(data)))

    if live is not None:
        live.start()
    try:
        outcomes = run_campaign(c, log)
    finally:
        if live is not None:
            live.stop()
    t = Table(title=f"campaign {c.spec.name}", header_style="bold")
    for col in ("device", "outcome", "runs done", "cells", "reason"):
        t.add_column(col)
    by = {r["device"]: r for r in Journal(c.journal_path).summary()}
    for dev, outcome in outcomes.items():
        r = by.get(dev, {})
        state = getattr(outcome, "state", "crashed")  # a DeviceResult, or the exception its worker died of
        reason = getattr(outcome, "reason", None) if state != "crashed" else f"{type(outcome).__name__}: {outcome}"
        t.add_row(dev, Text(state, style="green" if state == "done" else "red"), str(r.get("runs_done", 0)),
                  str(r.get("cells", 0)), Text(reason or ""))
    con.print(t)
    dirs = run_dirs(c)
    if dirs:
        print_comparison(dirs[-1], dirs[:-1], f"campaign {c.spec.name}")
        from harness.results.load import load_runs
        from harness.results.render.html import build_report

        res = build_report(load_runs(dirs), c.root / "report")
        con.print(f"report: {res['html']}")
    con.print(f"campaign directory: {c.root}")
    if any(getattr(o, "state", None) != "done" for o in outcomes.values()):
        raise typer.Exit(1)  # a quarantined or crashed device is a failed campaign, whatever else finished


@app.command("run")
def run_cmd(file: Path = typer.Argument(..., help="Campaign YAML."), out: Path = opts.OUT,
            detach: bool = typer.Option(False, "--detach", help="Run in the background (survives this shell); log in <dir>/campaign.log.", metavar="")) -> None:
    """Run a campaign: every device in parallel, results and journal under <out>/<name>/."""
    c = _campaign(file, out)
    if detach:
        from harness.fsutil import storage_error

        c.profiles()  # a bad device or power_modes key is refused here, not in the background log
        try:
            c.root.mkdir(parents=True, exist_ok=True)
            log = open(c.root / "campaign.log", "ab")
        except OSError as e:
            raise storage_error(e, c.root / "campaign.log") from e
        p = subprocess.Popen([sys.executable, "-m", "harness", "campaign", "run", str(file.resolve()), "--out", str(out.resolve())],
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                             env=os.environ.copy())
        console().print(f"campaign {c.spec.name} running in the background (pid {p.pid}); "
                        f"`harness campaign status {c.root}` to follow, log {c.root / 'campaign.log'}")
        return
    _run(c)


@app.command("resume")
def resume_cmd(root: Path = typer.Argument(..., help="Campaign directory (<out>/<name>).")) -> None:
    """Carry on after the host stopped: finished runs are skipped, unfinished ones resumed on their devices."""
    _run(_from_dir(root))


@app.command("status")
def status_cmd(root: Path = typer.Argument(..., help="Campaign directory (<out>/<name>)."), as_json: bool = opts.JSON) -> None:
    """Every device's state, finished runs and cells, from the journal."""
    from rich.table import Table

    from harness.campaign.journal import Journal

    c = _from_dir(root)
    if as_json:
        print_json({"campaign": c.spec.name, "devices": Journal(c.journal_path).summary()})
        return
    t = Table(title=f"campaign {c.spec.name}", header_style="bold")
    for col in ("device", "state", "runs done", "cells", "failures", "reason"):
        t.add_column(col)
    for r in Journal(c.journal_path).summary():
        t.add_row(r["device"], r["state"], str(r["runs_done"]), str(r["cells"]), str(r["failures"]), r["reason"] or "")
    console().print(t)


@app.command("stop")
def stop_cmd(root: Path = typer.Argument(..., help="Campaign directory (<out>/<name>).")) -> None:
    """Ask a running campaign to stop starting work (running device runs finish their current attempt)."""
    from harness.fsutil import atomic_write_text

    c = _from_dir(root)
    atomic_write_text(c.stop_flag, "stop\n")
    console().print(f"stop requested for {c.spec.name}; `harness campaign resume {c.root}` continues later")
