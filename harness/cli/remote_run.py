"""``harness status|pull|logs|stop RUN_DIR``: a deployed run, found again through its deploy.json."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from harness.cli._console import console


def _attach(run_dir: Path):
    from harness.remote.deploy import Deployment

    return Deployment.from_session(run_dir)


def status_command(run_dir: Path = typer.Argument(..., help="Local run directory of a deploy.")) -> None:
    """Progress of a deployed run on its device: cells done / total, current cell, runner alive."""
    d = _attach(run_dir)
    try:
        raw = d.conn.read_bytes(f"{d.remote_run_dir}/manifest.json")
        alive = d.alive()
    finally:
        d.conn.close()
    if raw is None:
        console().print(f"{d.plan.run_id}: runner {'running' if alive else 'not running'}, no manifest yet")
        return
    m = json.loads(raw)
    cells = m.get("cells", [])
    done = sum(c["state"] in ("ok", "skipped", "failed") for c in cells)
    cur = next((c["cell_id"] for c in cells if c["state"] == "running"), None)
    console().print(f"{d.plan.run_id} on {d.conn.where}: {m.get('state')}, {done}/{len(cells)} cells done"
                    + (f", running {cur}" if cur else "") + f"; runner {'alive' if alive else 'not running'} (pid {d.pid})")


def pull_command(run_dir: Path = typer.Argument(..., help="Local run directory of a deploy.")) -> None:
    """Pull every finished record (and its files) from the device now."""
    d = _attach(run_dir)
    try:
        m = d.pull()
    finally:
        d.conn.close()
    console().print(f"pulled {len(d.store.read_records())} records into {d.store.root} (device state: {m.get('state')})")


def logs_command(run_dir: Path = typer.Argument(..., help="Local run directory of a deploy."),
                 lines: int = typer.Option(50, "--lines", "-n", help="How many lines from the end.")) -> None:
    """The runner's log on the device (last --lines lines)."""
    d = _attach(run_dir)
    try:
        if d.plan.profile.runtime != "host":
            r = d.conn.run([d.plan.profile.runtime, "logs", "--tail", str(lines), d.container_name])
        else:
            r = d.conn.run(["tail", "-n", str(lines), d.log])
    finally:
        d.conn.close()
    print(r.stdout, end="")


def stop_command(run_dir: Path = typer.Argument(..., help="Local run directory of a deploy.")) -> None:
    """Stop the runner on the device (finished cells stay; `harness deploy --resume` continues) and free the board."""
    from harness.remote import lock

    d = _attach(run_dir)
    try:
        if d.plan.profile.runtime != "host":
            d.conn.run([d.plan.profile.runtime, "stop", d.container_name])
        else:
            d.conn.run(["kill", "-TERM", str(d.pid)])
        d.pull()
        lock.release(d.conn, d.workdir)
    finally:
        d.conn.close()
    console().print(f"stopped {d.plan.run_id} on its device; finished records are in {d.store.root}")


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)
    app.command("pull")(pull_command)
    app.command("logs")(logs_command)
    app.command("stop")(stop_command)
