"""``harness campaign``: a suite on a fleet of devices, unattended, resumable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import output

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
    from harness.cli._progress import CampaignProgress

    view = output()
    live = CampaignProgress(view.con, c.spec.name)
    try:
        outcomes = run_campaign(c, live)
    finally:
        live.close()
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
    view.show(t)
    dirs = run_dirs(c)
    _since(view, dirs)
    if dirs:
        view.comparison(dirs[-1], dirs[:-1], f"campaign {c.spec.name}")
        from harness.results.load import load_runs
        from harness.results.render.html import build_report

        from harness.catalogue.render import since_section

        res = build_report(load_runs(dirs), c.root / "report", top=since_section(dirs))
        view.line(f"report: {res['html']}")
    view.line(f"campaign directory: {c.root}")
    if any(getattr(o, "state", None) != "done" for o in outcomes.values()):
        raise typer.Exit(1)  # a quarantined or crashed device is a failed campaign, whatever else finished


def _since(view, dirs) -> None:
    """What changed against the catalogue's earlier runs (``harness regressions`` for the whole catalogue)."""
    from harness.catalogue.regressions import since_last_time
    from harness.catalogue.render import regressions_table, summary_line

    since = since_last_time(dirs)
    if since is None:
        return
    changes, configs = since
    if changes:
        view.show(regressions_table(changes))
    view.line(f"since last time: {summary_line(changes, configs)}")


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
        output().line(f"campaign {c.spec.name} running in the background (pid {p.pid}); "
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
        output().json({"campaign": c.spec.name, "devices": Journal(c.journal_path).summary()})
        return
    t = Table(title=f"campaign {c.spec.name}", header_style="bold")
    for col in ("device", "state", "runs done", "cells", "failures", "reason"):
        t.add_column(col)
    for r in Journal(c.journal_path).summary():
        t.add_row(r["device"], r["state"], str(r["runs_done"]), str(r["cells"]), str(r["failures"]), r["reason"] or "")
    output().show(t)


@app.command("stop")
def stop_cmd(root: Path = typer.Argument(..., help="Campaign directory (<out>/<name>).")) -> None:
    """Ask a running campaign to stop starting work (running device runs finish their current attempt)."""
    from harness.fsutil import atomic_write_text

    c = _from_dir(root)
    atomic_write_text(c.stop_flag, "stop\n")
    output().line(f"stop requested for {c.spec.name}; `harness campaign resume {c.root}` continues later")
