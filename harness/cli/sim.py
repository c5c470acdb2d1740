"""``harness sim start|stop|status``: a simulated Jetson on loopback to try the board workflow without a board
(docs/sim.md). Its profile is ``sim-<name>``; everything it produces is marked simulated."""

from __future__ import annotations

import enum

import typer

from harness.cli import _options as opts
from harness.cli._console import output
from harness.sim.boards import KINDS

app = typer.Typer(help="A simulated Jetson on loopback (sshd, fake L4T tree, INA3221 rails that follow the load): "
                       "the board workflow without a board. Not a measurement.", no_args_is_help=True)

Kind = enum.Enum("Kind", {k: k for k in KINDS})
NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"


def _name(value: str | None) -> str | None:
    import re

    if value is not None and not re.match(NAME_RE, value):
        raise typer.BadParameter("letters, digits, - and _ (at most 32)")
    return value


def _next_steps(profile: str) -> None:
    out = output()
    for cmd in (f"harness doctor --profile {profile}", f"harness deploy --profile {profile} --suite smoke"):
        out.line(f"  {cmd}")


@app.command("start")
def start_command(kind: Kind = typer.Argument(..., help="Board kind: " + ", ".join(KINDS) + "."),
                  name: str = typer.Option(None, "--name", callback=_name, help="Name of the board (default: the kind); "
                                           "its profile is sim-<name>."),
                  as_json: bool = opts.JSON) -> None:
    """Start a simulated board in the background (idempotent) and print its profile: sim-<name>."""
    from harness.sim.lifecycle import profile_name, start

    sim, started = start(kind.value, name)
    prof = profile_name(sim.name)
    if as_json:
        output().json({"name": sim.name, "profile": prof, "profile_path": str(sim.profile), "started": started, **sim.info})
        return
    out = output()
    out.line(f"{'started' if started else 'already running:'} simulated {sim.info.get('kind')} board {sim.name!r} on "
             f"127.0.0.1:{sim.info.get('port')} (pid {sim.info.get('pid')}); SIMULATED: its numbers are not measurements")
    out.line(f"profile: {prof} ({sim.profile})")
    _next_steps(prof)


@app.command("stop")
def stop_command(name: str = typer.Argument(None, callback=_name, help="Board to stop (default: every simulated board).")) -> None:
    """Stop a simulated board (sshd and everything it runs) and remove its state."""
    from harness.sim.lifecycle import boards, stop

    names = [name] if name else [b.name for b in boards()]
    stopped = [n for n in names if stop(n)]
    if not stopped:
        output().line(f"no simulated board {name!r}" if name else "no simulated board")
    for n in stopped:
        output().line(f"stopped simulated board {n!r}")


@app.command("status")
def status_command(as_json: bool = opts.JSON) -> None:
    """The simulated boards: kind, port, pid, running or stale, profile."""
    from harness.sim.lifecycle import boards, profile_name

    found = boards()
    rows = [{"name": b.name, "kind": b.info.get("kind"), "port": b.info.get("port"), "pid": b.info.get("pid"),
             "running": b.alive, "profile": profile_name(b.name), "profile_path": str(b.profile)} for b in found]
    if as_json:
        output().json({"rows": rows})
        return
    if not rows:
        output().line("no simulated board (harness sim start orin-nano)")
    for r in rows:
        state = "running" if r["running"] else "stale (daemon gone: harness sim start cleans it up)"
        output().line(f"{r['name']}: {r['kind']} on 127.0.0.1:{r['port']}, pid {r['pid']}, {state}; profile {r['profile']}")
