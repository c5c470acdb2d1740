"""A device-side lock so two runs never collide on one board.

``<workdir>/lock.json`` is created with ``set -o noclobber`` (atomic on POSIX
shells) and holds owner, run id, boot id and a heartbeat time. A lock is stale
when the device rebooted (boot id differs) or the heartbeat is older than
``STALE_S``; a stale lock is taken over, a live one is refused with its owner.
"""

from __future__ import annotations

import getpass
import json
import shlex
import socket
import time

from harness.errors import RemoteError
from harness.remote.connection import read_small_argv

STALE_S = 600


def owner() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _lock_path(workdir: str) -> str:
    return f"{workdir}/lock.json"


def acquire(conn, workdir: str, run_id: str, boot_id: str) -> dict:
    """Take the lock in ``workdir`` (an absolute path; every path is quoted)."""
    info = {"owner": owner(), "run_id": run_id, "boot_id": boot_id, "heartbeat": time.time()}
    path = shlex.quote(_lock_path(workdir))
    body = json.dumps(info)
    # noclobber refuses an existing regular file only (it writes into a FIFO or a device): anything there is refused
    create = (f"mkdir -p {shlex.quote(workdir)} && ! [ -e {path} ] && ! [ -L {path} ] && "
              f"(set -o noclobber; printf %s {shlex.quote(body)} > {path})")
    r = conn.run(["sh", "-c", create])
    if r.ok:
        return info
    current = conn.run(read_small_argv(_lock_path(workdir), 64 << 10))
    held = _parse(current.stdout)
    if held is None:
        raise RemoteError(f"{conn.where}: {_lock_path(workdir)} exists but is not a harness lock",
                          "remove that file on the device if no run uses the board")
    stale = held.get("boot_id") != boot_id or time.time() - float(held.get("heartbeat", 0)) > STALE_S
    if held.get("run_id") == run_id or stale:
        _write(conn, workdir, info)
        return {**info, "took_over": held}
    raise RemoteError(
        f"{conn.where}: locked by {held.get('owner', '?')} for run {held.get('run_id', '?')} "
        f"(heartbeat {int(time.time() - float(held.get('heartbeat', 0)))} s ago)",
        f"wait for that run, or `harness deploy --resume {held.get('run_id', 'RUN')}` from its owner; a lock goes stale after "
        f"{STALE_S} s without heartbeat or after a reboot",
    )


def _parse(text: str) -> dict | None:
    """A lock file's content when it is one (an object with string ids and a numeric heartbeat), else None."""
    try:
        held = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(held, dict) or not isinstance(held.get("heartbeat", 0), (int, float)):
        return None
    if not all(isinstance(held.get(k, ""), str) for k in ("owner", "run_id", "boot_id")):
        return None
    return held


def _write(conn, workdir: str, info: dict) -> None:
    """Replace the lock file (a temp file renamed over it: whatever was there, a FIFO included, is never opened)."""
    conn.run(["sh", "-c", 't=$(mktemp "$1/.lock.XXXXXX") && printf %s "$2" > "$t" && mv -f "$t" "$1/lock.json"',
              "sh", workdir, json.dumps(info)])


def heartbeat(conn, workdir: str, info: dict) -> None:
    info["heartbeat"] = time.time()
    _write(conn, workdir, info)


def release(conn, workdir: str) -> None:
    conn.run(["rm", "-f", _lock_path(workdir)])
