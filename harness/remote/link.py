"""The host's link to one deployed board: an SSH connection reopened when it drops (with backoff, within a
budget) and the boot the board is known to be in. Everything that runs commands on a deployed board goes through
one link, so a reconnect made by one step (a mode switch waiting for a reboot) is the link of every other step."""

from __future__ import annotations

import time
from typing import Callable

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from harness.errors import LinkError, RemoteError, printable
from harness.subproc import CommandResult

# What one command through the link may print (a mode switch, a statement written): nvpmodel prints lines; the
# connection's own cap (16 MiB) is for pulls and logs.
LINK_OUTPUT_BYTES = 4 << 20

BOOT_ID_ARGV = ["sh", "-c", 'f="$1/proc/sys/kernel/random/boot_id"; [ -f "$f" ] || f=/proc/sys/kernel/random/boot_id; '
                '[ -f "$f" ] && exec head -c 128 "$f"', "sh"]


class BoardLink:
    """One board's connection (``open_connection`` makes a fresh, opened one) and its boot id."""

    def __init__(self, open_connection: Callable[[], object], probe_root: str = "") -> None:
        self._open = open_connection
        self.probe_root = probe_root.rstrip("/")  # a test's fake board tree, where the boot id is read first
        self.conn = None  # a DeviceConnection once opened
        self.boot_id = ""  # the boot the deployment knows the board in (preflight, then each reboot seen)

    @property
    def where(self) -> str:
        return self.conn.where

    def open(self) -> BoardLink:
        self.conn = self._open()
        return self

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def ensure(self) -> None:
        """Reopen a connection that dropped (once; RemoteError/LinkError when the board does not answer)."""
        if self.conn is None or not self.conn.link_ok():
            self.close()
            self.open()

    def run(self, argv, timeout_s: float | None = None, max_output_bytes: int = LINK_OUTPUT_BYTES, *,
            stdin: str = "") -> CommandResult:
        return self.conn.run(argv, timeout_s, max_output_bytes, stdin=stdin)

    def reconnect(self, budget_s: float, on_retry: Callable[[float, str], None], hint: str) -> float:
        """Reopen with exponential backoff (1 s .. 30 s) within ``budget_s``; seconds it took. ``on_retry(in_s,
        error)`` before each wait. LinkError (with ``hint``) when the budget runs out."""
        t0 = time.monotonic()

        def once() -> None:
            self.close()
            self.open()

        def note(rs) -> None:
            e = rs.outcome.exception()
            on_retry(round(rs.next_action.sleep, 1), getattr(e, "message", str(e)))

        retrying = Retrying(stop=stop_after_delay(budget_s), wait=wait_exponential(min=1, max=30),
                            retry=retry_if_exception_type(RemoteError), before_sleep=note)
        try:
            retrying(once)
        except RetryError as e:
            last = e.last_attempt.exception()
            raise LinkError(f"{getattr(last, 'message', last)}; gave up after {time.monotonic() - t0:.0f} s of "
                            "reconnecting", hint) from last
        return time.monotonic() - t0

    def current_boot_id(self) -> str:
        """The board's boot id now (under ``probe_root`` when set: a test's fake tree), printable, at most 64."""
        r = self.conn.run([*BOOT_ID_ARGV, self.probe_root], max_output_bytes=4096)
        return printable(r.stdout.strip())[:64]
