"""A labgrid coordinator, driven through ``labgrid-client`` (its documented interface) with argv only.

Everything the coordinator says is untrusted input (docs/farm.md, "Trust"): output is size-bounded,
parsed line by line, and a place's name, tags, holder and SSH address are kept only when they match
the patterns a profile's own values must match; anything else is dropped or refused with a
``FarmError`` naming the coordinator. ``CoordinatorDown`` is the one failure worth retrying.
"""

from __future__ import annotations

import ast
import getpass
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.config.connection import HOST_RE, PLACE_RE, TAG_KEY_RE, TAG_VALUE_RE, USER_RE
from harness.errors import FarmError, printable

MAX_OUTPUT_CHARS = 1 << 20  # a farm of a thousand places prints well under this
CALL_TIMEOUT_S = 60.0
HOLDER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}/[A-Za-z_][A-Za-z0-9_.-]{0,31}$")  # host/user
TOKEN_RE = re.compile(r"^[A-Za-z0-9]{4,64}$")
_DOWN = ("Could not connect to coordinator", "coordinator is unavailable", "failed to connect to all addresses",
         "Connection refused", "Socket closed", "Deadline Exceeded", "UNAVAILABLE")


class CoordinatorDown(FarmError):
    """The coordinator did not answer (restarting, unreachable): wait and try again."""


@dataclass
class Place:
    name: str
    tags: dict[str, str] = field(default_factory=dict)
    holder: str | None = None  # host/user, None when free
    changed: str = ""  # the coordinator's last change of the place (when it was locked, for a held one)
    reservation: str | None = None
    resources: int = 0  # acquired resources listed (0 when the exporter is gone)


@dataclass
class Reservation:
    token: str
    owner: str
    state: str  # waiting | allocated | acquired | expired | invalid
    filters: dict[str, str] = field(default_factory=dict)
    place: str | None = None
    created: str = ""


def identity() -> str:
    """Who the coordinator sees: ``LG_HOSTNAME/LG_USERNAME`` or this host and user (as labgrid-client computes it)."""
    return f"{os.environ.get('LG_HOSTNAME', socket.gethostname())}/{os.environ.get('LG_USERNAME', getpass.getuser())}"


def client_path() -> str:
    """``labgrid-client`` beside this Python (a venv), else on PATH; FarmError with the install line when missing."""
    here = Path(sys.executable).parent / "labgrid-client"
    found = str(here) if here.exists() else shutil.which("labgrid-client")
    if found is None:
        raise FarmError("labgrid-client is not installed (pool: labgrid needs it)",
                        "pip install 'edge-harness[farm]' (labgrid 26.0.1) into harness's environment")
    return found


class LabgridClient:
    """One coordinator: each method is one ``labgrid-client`` call."""

    def __init__(self, coordinator: str, timeout_s: float = CALL_TIMEOUT_S) -> None:
        self.coordinator = coordinator
        self.timeout_s = timeout_s
        self.exe = client_path()

    def _call(self, *argv: str, timeout_s: float | None = None) -> str:
        env = {**os.environ, "LG_COORDINATOR": self.coordinator}
        env.pop("LG_PLACE", None)
        env.pop("LG_TOKEN", None)
        try:
            p = subprocess.run([self.exe, "-x", self.coordinator, *argv], capture_output=True, text=True, env=env,
                               timeout=timeout_s or self.timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise CoordinatorDown(f"coordinator {self.coordinator}: `labgrid-client {' '.join(argv)}` gave no answer in "
                                  f"{timeout_s or self.timeout_s:.0f} s", "check that labgrid-coordinator runs there") from None
        out, err = p.stdout[:MAX_OUTPUT_CHARS], p.stderr[-4000:]
        if p.returncode != 0:
            said = printable(err.strip().splitlines()[-1] if err.strip() else out.strip()[-300:])[:300]
            if any(s in err for s in _DOWN):
                raise CoordinatorDown(f"coordinator {self.coordinator} is unreachable ({said})",
                                      "start labgrid-coordinator there, or set LG_COORDINATOR / connection.coordinator")
            raise FarmError(f"coordinator {self.coordinator}: `labgrid-client {' '.join(argv)}` failed: {said}",
                            "`harness farm status` shows the places and who holds them")
        return out

    # --- reading ---------------------------------------------------------------------
    def places(self) -> list[Place]:
        return parse_places(self._call("-v", "places"))

    def reservations(self) -> list[Reservation]:
        return parse_reservations(self._call("reservations"))

    def network_service(self, place: str) -> tuple[str, str, int]:
        """The (address, user, port) of the place's NetworkService, validated like a profile's connection."""
        return parse_network_service(self._call("-p", place, "show"), place, self.coordinator)

    # --- acting ----------------------------------------------------------------------
    def reserve(self, tags: dict[str, str]) -> str:
        out = self._call("reserve", "--shell", *(f"{k}={v}" for k, v in sorted(tags.items())))
        m = re.search(r"^export LG_TOKEN=([A-Za-z0-9]+)$", out, re.M)
        if m is None or not TOKEN_RE.match(m.group(1)):
            raise FarmError(f"coordinator {self.coordinator}: `reserve` gave no token", "check the coordinator's version (26.x)")
        return m.group(1)

    def wait(self, token: str, timeout_s: float) -> bool:
        """Keep the reservation alive up to ``timeout_s`` (labgrid-client polls it each second); True once allocated."""
        try:
            self._call("wait", token, timeout_s=timeout_s)
        except CoordinatorDown as e:
            if "gave no answer" in e.message:
                return False  # still waiting: the call was only cut short
            raise
        return True

    def lock(self, place: str, unmatched: bool = False) -> None:
        self._call("-p", place, "lock", *(["--allow-unmatched"] if unmatched else []))

    def unlock(self, place: str, kick: bool = False) -> None:
        self._call("-p", place, "unlock", *(["--kick"] if kick else []))

    def cancel(self, token: str) -> None:
        self._call("cancel-reservation", token)


def _tags(text: str) -> dict[str, str]:
    out = {}
    for pair in text.split(", "):
        k, _, v = pair.partition("=")
        if re.match(TAG_KEY_RE, k) and re.match(TAG_VALUE_RE, v):
            out[k] = v
    return out


def parse_places(text: str) -> list[Place]:
    """``labgrid-client -v places``: blocks headed ``Place 'NAME':``; a block with a name that is not a place name
    is skipped whole, a holder that is not ``host/user`` reads as held by ``?``."""
    places: list[Place] = []
    cur: Place | None = None
    section = None
    for line in text.splitlines():
        m = re.match(r"^Place '(.*)':$", line)
        if m:
            cur = Place(m.group(1)) if re.match(PLACE_RE, m.group(1)) else None
            if cur is not None:
                places.append(cur)
            section = None
            continue
        if cur is None or not line.startswith("  "):
            continue
        key, _, value = line.strip().partition(": ") if not line.startswith("    ") else ("", "", "")
        if not line.startswith("    "):
            section = line.strip().rstrip(":")
        if key == "tags":
            cur.tags = _tags(value)
        elif key == "acquired":
            cur.holder = None if value == "None" else (value if HOLDER_RE.match(value) else "?")
        elif key == "changed":
            cur.changed = printable(value)[:32]
        elif key == "reservation":
            cur.reservation = value if TOKEN_RE.match(value) else None
        elif line.startswith("    ") and section == "acquired resources":
            cur.resources += 1
    return places


def parse_reservations(text: str) -> list[Reservation]:
    """``labgrid-client reservations``: blocks headed ``Reservation 'TOKEN':``, in the coordinator's queue order."""
    out: list[Reservation] = []
    cur: Reservation | None = None
    for line in text.splitlines():
        m = re.match(r"^Reservation '(.*)':$", line)
        if m:
            cur = Reservation(m.group(1), "?", "?") if TOKEN_RE.match(m.group(1)) else None
            if cur is not None:
                out.append(cur)
            continue
        if cur is None:
            continue
        s = line.strip()
        if s.startswith("owner: "):
            cur.owner = s[7:] if HOLDER_RE.match(s[7:]) else "?"
        elif s.startswith("state: "):
            cur.state = s[7:] if s[7:] in ("waiting", "allocated", "acquired", "expired", "invalid") else "?"
        elif s.startswith("main: ") and line.startswith("    "):
            value = s[6:]
            if cur.filters or "=" not in value:  # the allocations block comes after the filters block
                cur.place = value if re.match(PLACE_RE, value) else None
            else:
                cur.filters = _tags(value.replace(" ", ", "))
        elif s.startswith("created: "):
            cur.created = printable(s[9:])[:32]
    return out


def parse_network_service(text: str, place: str, coordinator: str) -> tuple[str, str, int]:
    """The first NetworkService dict ``labgrid-client -p PLACE show`` prints (a Python literal, never evaluated as
    code: ``ast.literal_eval``), its address, user and port checked like a profile's."""
    m = re.search(r"resource '[^'\n]*' \([^)\n]*/NetworkService/[^)\n]*\):\n((?:  .*\n?)+)", text)
    where = f"coordinator {coordinator}: place {place}"
    if m is None:
        raise FarmError(f"{where} has no NetworkService (its exporter is offline, or it exports none)",
                        "start the exporter next to the board (docs/farm.md), or use another place")
    try:
        info = ast.literal_eval(m.group(1).strip()[:65536])
        params = info["params"]
        if info.get("avail") is False:
            raise FarmError(f"{where}: its exporter says the board is not available", "check the board and its exporter")
        host, user, port = params["address"], params.get("username", "root"), params.get("port", 22)
    except (ValueError, SyntaxError, KeyError, TypeError, MemoryError, RecursionError):
        raise FarmError(f"{where}: its NetworkService is not readable", "check the exporter's YAML (docs/farm.md)") from None
    if not (isinstance(host, str) and re.match(HOST_RE, host)) or not (isinstance(user, str) and re.match(USER_RE, user)) \
            or not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise FarmError(f"{where}: its NetworkService names {printable(str(host))[:80]!r} user "
                        f"{printable(str(user))[:40]!r} port {port}: not an SSH address",
                        "fix the exporter's YAML: address (a host name or IP), username, port")
    return host, user, port
