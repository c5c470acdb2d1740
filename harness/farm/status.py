"""What a farm looks like now: its places (tags, holder, since when, exporter there), the reservations
in the queue, and the leases this host's harness processes hold -- for ``harness farm status``."""

from __future__ import annotations

from harness.farm.labgrid import LabgridClient, identity
from harness.farm.lease import LeaseBook


def farm_status(coordinator: str, client: LabgridClient | None = None, book: LeaseBook | None = None) -> dict:
    """A JSON-able snapshot; ``places[].mine`` marks what this host's harness holds (with its pid and run)."""
    client = client or LabgridClient(coordinator)
    book = book or LeaseBook()
    places, reservations = client.places(), client.reservations()
    me = identity()
    local = {r["lease"].place: r for r in book.records(coordinator)}
    rows = []
    for p in places:
        rec = local.get(p.name)
        ours = rec is not None and p.holder == me
        rows.append({"place": p.name, "tags": p.tags, "holder": p.holder, "since": p.changed if p.holder else None,
                     "exporter": "online" if p.resources or not p.holder else "offline",
                     "reserved_for": next((r.owner for r in reservations if r.token == p.reservation), None),
                     "harness": ({"pid": rec["pid"], "run_id": rec.get("run_id"), "alive": rec["live"]} if ours else None)})
    queue = [{"token": r.token, "owner": r.owner, "state": r.state, "filters": r.filters, "place": r.place,
              "created": r.created} for r in reservations if r.state in ("waiting", "allocated")]
    stale = [r["lease"].place for r in local.values() if r["lease"].holder == me and (not r["live"] or r.get("release_pending"))]
    return {"coordinator": coordinator, "me": me, "places": rows, "queue": queue, "stale_here": stale}
