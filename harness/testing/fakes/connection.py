"""An in-process stand-in for ``remote.connection.DeviceConnection``: the remote logic (lock, preflight, power
modes, follow) tested in milliseconds, without sshd.

Scripted answers come first (``script(prefix, answer)``: an argv prefix and a ``CommandResult``, or a function of
argv and stdin that returns one); any other command runs on this machine, with a fake board's tools first on
PATH (``FAKE_JETSON_ROOT`` set) when a board tree is given. Every command is recorded in ``commands``. ``drop()``
makes the link fail (``LinkError``) until it is opened again, as a dropped SSH link does. The real-sshd tests in
``tests/remote`` stay as the end-to-end tier that proves the wiring.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from harness.errors import LinkError
from harness.subproc import CommandResult

Answer = CommandResult | Callable[[list[str], str], CommandResult]


class FakeConnection:
    where = "root@fake-board"

    def __init__(self, board: Path | None = None, where: str | None = None, home: Path | None = None) -> None:
        self.env = dict(os.environ)
        if board is not None:
            self.env.update(FAKE_JETSON_ROOT=str(board),
                            PATH=f"{Path(board) / 'usr/sbin'}:{Path(board) / 'usr/bin'}:{os.environ['PATH']}")
        if home is not None:
            self.env["HOME"] = str(home)
        if where is not None:
            self.where = where
        self.commands: list[list[str]] = []
        self.answers: list[tuple[list[str], Answer]] = []
        self.up = True

    def script(self, prefix: list[str], answer: Answer) -> FakeConnection:
        """Answer every command starting with ``prefix`` with ``answer`` (the latest script of a prefix wins)."""
        self.answers.insert(0, (list(prefix), answer))
        return self

    def open(self) -> FakeConnection:
        self.up = True
        return self

    def drop(self) -> None:
        self.up = False

    def link_ok(self) -> bool:
        return self.up

    def close(self) -> None:
        pass

    def expand_user(self, path: str) -> str:
        return path.replace("~", self.env.get("HOME", str(Path.home())), 1) if path.startswith("~") else path

    def run(self, argv, timeout_s: float | None = None, max_output_bytes: int | None = None, *,
            stdin: str = "") -> CommandResult:
        argv = shlex.split(argv) if isinstance(argv, str) else list(argv)
        self.commands.append(argv)
        if not self.up:
            raise LinkError(f"{self.where}: `{shlex.join(argv)[:80]}` did not complete (the link is down)",
                            "the fake link was dropped")
        for prefix, answer in self.answers:
            if argv[:len(prefix)] == prefix:
                return answer(argv, stdin) if callable(answer) else answer
        p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=self.env, timeout=timeout_s or 30)
        return CommandResult(shlex.join(argv), p.returncode, p.stdout, p.stderr)

    def stream_in(self, argv, chunks, on_bytes=None, timeout_s: float | None = None) -> CommandResult:
        data = b"".join(chunks)
        if on_bytes:
            on_bytes(len(data))
        return self.run(argv, timeout_s, stdin=data.decode(errors="replace"))
