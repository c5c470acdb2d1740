"""``harness status|pull|logs|stop RUN_DIR``: a deployed run, found again through its deploy.json."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import output


def _attach(run_dir: Path):
    from harness.remote.deploy import Deployment

    return Deployment.from_session(run_dir)


def status_command(run_dir: Path = typer.Argument(..., help="Local run directory of a deploy."),
                   as_json: bool = opts.JSON) -> None:
    """Progress of a deployed run on its device: cells done / total, current cell, runner alive."""
    from harness.remote.intake import RemoteRunDir

    d = _attach(run_dir)
    try:
        m = RemoteRunDir(d.conn, d.remote_run_dir, d.plan.profile.limits, d.store.root).manifest(d.plan.run_id)
        alive = d.alive()
    finally:
        d.conn.close()
    cells = m["cells"] if m else []
    done = sum(c["state"] in ("ok", "skipped", "failed") for c in cells)
    cur = next((c["cell_id"] for c in cells if c["state"] == "running"), None)
    if as_json:
        output().json({"run_id": d.plan.run_id, "device": d.conn.where, "state": m["state"] if m else None, "done": done,
                       "total": len(cells), "running": cur, "runner_alive": alive, "pid": d.pid})
        return
    if m is None:
        output().line(f"{d.plan.run_id}: runner {'running' if alive else 'not running'}, no manifest yet")
        return
    output().line(f"{d.plan.run_id} on {d.conn.where}: {m['state']}, {done}/{len(cells)} cells done"
                  + (f", running {cur}" if cur else "") + f"; runner {'alive' if alive else 'not running'} (pid {d.pid})")


def pull_command(run_dir: Path = typer.Argument(..., help="Local run directory of a deploy.")) -> None:
    """Pull every finished record (and its files) from the device now."""
    from harness.fsutil import DirLock

    with DirLock(run_dir, "harness pull"):
        d = _attach(run_dir)
        try:
            m = d.pull()
        finally:
            d.conn.close()
    out = output()
    out.line(f"pulled {len(d.store.read_records())} records into {d.store.root} (device state: {m.get('state')})")
    _catalogue(d.store.root)


def _catalogue(run_dir: Path) -> None:
    """A pulled run (whole or partial) goes into its results catalogue; re-adding replaces its rows."""
    from harness.catalogue.store import add_finished

    problem = add_finished(run_dir)[1]
    if problem:
        output().flagged("warning", "yellow", problem)


def logs_command(run_dir: Path = typer.Argument(..., help="Local run directory of a deploy."),
                 lines: int = typer.Option(50, "--lines", "-n", callback=opts.between(1, 1_000_000), help="How many lines from the end.")) -> None:
    """The runner's log on the device (last --lines lines)."""
    from harness.errors import printable

    d = _attach(run_dir)
    try:
        text = d.runtime.logs(d.conn, d.pid, d.log, lines)
    finally:
        d.conn.close()
    # the device's text, line by line, with its control characters (terminal escapes) neutralised
    out = output()
    for line in text.splitlines():
        out.text(printable(line))


def stop_command(run_dir: Path = typer.Argument(..., help="Local run directory of a deploy.")) -> None:
    """Stop the runner on the device (finished cells stay; `harness deploy --resume` continues) and free the board."""
    from harness.fsutil import DirLock

    with DirLock(run_dir, "harness stop"):
        d = _attach(run_dir)
        try:
            d.stop_runner()
            d.pull()
            d.release()
        finally:
            d.conn.close()
    output().line(f"stopped {d.plan.run_id} on its device; finished records are in {d.store.root}")
    _catalogue(d.store.root)


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)
    app.command("pull")(pull_command)
    app.command("logs")(logs_command)
    app.command("stop")(stop_command)
