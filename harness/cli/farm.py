"""``harness farm status|release``: the boards a labgrid coordinator shares, who holds them, the queue (docs/farm.md)."""

from __future__ import annotations

import typer

from harness.cli import _options as opts
from harness.cli._console import output

app = typer.Typer(help="Boards shared through a labgrid coordinator: who holds what, the queue, stale locks.",
                  no_args_is_help=True)

COORDINATOR = typer.Option(None, "--coordinator", "-x", envvar="LG_COORDINATOR", metavar="HOST:PORT",
                           help="The labgrid coordinator (default: LG_COORDINATOR).")


def _coordinator(value: str | None) -> str:
    import re

    from harness.config.connection import COORDINATOR_RE
    from harness.errors import ProfileError

    if not value:
        raise ProfileError("no coordinator", "pass --coordinator HOST:PORT or set LG_COORDINATOR=HOST:PORT")
    if not re.match(COORDINATOR_RE, value):
        raise ProfileError(f"coordinator {value[:80]!r} is not HOST:PORT", "e.g. --coordinator lab-server:20408")
    return value


@app.command("status")
def status_command(coordinator: str = COORDINATOR, as_json: bool = opts.JSON) -> None:
    """Every place: its tags, who holds it since when, whether its exporter is there; the reservations waiting;
    the boards this host's harness holds (a stopped harness's lease is marked stale)."""
    from rich.table import Table
    from rich.text import Text

    from harness.farm.status import farm_status

    st = farm_status(_coordinator(coordinator))
    out = output(as_json)
    if as_json:
        out.json(st)
        return
    t = Table(title=f"farm {st['coordinator']} (you: {st['me']})", header_style="bold", title_justify="left")
    t.add_column("place", no_wrap=True)
    t.add_column("tags", overflow="fold")
    t.add_column("held by", overflow="fold")
    t.add_column("since", no_wrap=True)
    t.add_column("note", overflow="fold")
    for p in st["places"]:
        h = p["harness"]
        note = []
        if h:
            note.append(f"this host: pid {h['pid']}, run {h['run_id']}" + ("" if h["alive"] else " (stopped: stale)"))
        if p["holder"] and p["exporter"] == "offline":
            note.append("exporter offline")
        if p["reserved_for"] and not p["holder"]:
            note.append(f"allocated to {p['reserved_for']}")
        holder = Text(p["holder"] or "free", style="" if p["holder"] else "green")
        t.add_row(Text(p["place"]), Text(", ".join(f"{k}={v}" for k, v in p["tags"].items())), holder,
                  Text((p["since"] or "")[5:19]), Text("; ".join(note)))
    out.show(t)
    if st["queue"]:
        q = Table(title="queue", header_style="bold", title_justify="left")
        for c in ("#", "owner", "wants", "state", "since"):
            q.add_column(c, overflow="fold")
        for i, r in enumerate(st["queue"], 1):
            q.add_row(str(i), Text(r["owner"]), Text(", ".join(f"{k}={v}" for k, v in r["filters"].items())),
                      Text(r["state"] + (f" ({r['place']})" if r["place"] else "")), Text(r["created"][5:19]))
        out.show(q)
    else:
        out.line("queue: empty")
    for place in st["stale_here"]:
        out.flagged("stale", "yellow", f"{place}: leased by a harness here that stopped; the next deploy or "
                    f"`harness farm release {place}` frees it")


@app.command("release")
def release_command(place: str = typer.Argument(..., metavar="PLACE", help="The place to give back."),
                    coordinator: str = COORDINATOR,
                    kick: bool = typer.Option(False, "--kick", help="Also when another user holds it (a stale lock).")) -> None:
    """Give a place back: yours (a harness that was killed), or anyone's with --kick (tell them first)."""
    import re

    from harness.config.connection import PLACE_RE
    from harness.errors import ProfileError
    from harness.farm.labgrid import LabgridClient
    from harness.farm.lease import LeaseBook

    if not re.match(PLACE_RE, place):
        raise ProfileError(f"{place[:80]!r} is not a place name", "`harness farm status` lists them")
    addr = _coordinator(coordinator)
    client = LabgridClient(addr)
    held = next((p for p in client.places() if p.name == place), None)
    if held is None:
        raise ProfileError(f"coordinator {addr} has no place {place!r}", "`harness farm status` lists them")
    if held.holder is None:
        output().line(f"{place} is free")
    else:
        client.unlock(place, kick)
        output().line(f"released {place} (held by {held.holder})")
    LeaseBook().forget(addr, place)
