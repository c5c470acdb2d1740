"""Commands and what they return, on this machine or a device: one result type, one shell interface.

``CommandResult`` is what every command gives back, run here (``LocalShell``, ``stream``) or over SSH
(``remote.connection.DeviceConnection``); ``Shell`` is the interface both keep, so code that runs
commands (``powermodes.ModeControl``) does not care where. ``stream`` runs a long local command while its
output streams line by line (ansible-playbook, image builds).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

LOCAL_OUTPUT_CHARS = 4 << 20  # the start of a local command's stdout kept, as DeviceConnection.run keeps


@dataclass(frozen=True)
class CommandResult:
    command: str  # the command line as run (argv quoted)
    exit_code: int
    stdout: str  # stdout and stderr merged, in order, for ``stream``
    stderr: str = ""
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class Shell(Protocol):
    """Somewhere commands run: this machine (``LocalShell``) or a device (``DeviceConnection``)."""

    where: str

    def run(self, argv: list[str], *, stdin: str = "", timeout_s: float | None = None) -> CommandResult: ...


class LocalShell:
    """Commands on this machine (the runner on a board); a command that cannot start is exit code 127."""

    where = "this machine"

    def run(self, argv: list[str], *, stdin: str = "", timeout_s: float | None = None) -> CommandResult:
        command = shlex.join(argv)
        try:
            p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout_s or 120)
        except subprocess.TimeoutExpired as e:
            return CommandResult(command, 124, "", str(e), timed_out=True)
        except (OSError, subprocess.SubprocessError) as e:
            return CommandResult(command, 127, "", str(e))
        return CommandResult(command, p.returncode, p.stdout[:LOCAL_OUTPUT_CHARS], p.stderr[-65536:])


def stream(argv: list[str], on_line: Callable[[str], None] | None, *, env: dict[str, str] | None = None,
           cwd: Path | None = None, timeout_s: float | None = None, interactive: bool = False) -> CommandResult:
    """Run ``argv``, handing each output line to ``on_line`` (stdout and stderr merged into
    ``stdout``); past ``timeout_s`` it is killed (``timed_out``).

    The command runs in its own session so that the kill takes its children too,
    unless ``interactive`` (a password prompt needs the terminal). OSError when it cannot start.
    """
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            env=env, cwd=cwd, start_new_session=not interactive)
    lines: list[str] = []
    killed: list[bool] = []

    def kill() -> None:
        if proc.poll() is None:
            killed.append(True)
            proc.kill() if interactive else os.killpg(proc.pid, 9)

    timer = threading.Timer(timeout_s, kill) if timeout_s is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if on_line is not None:
                on_line(line.rstrip("\n"))
        rc = proc.wait()
    finally:
        if timer is not None:
            timer.cancel()
    return CommandResult(shlex.join(argv), rc, "".join(lines), timed_out=bool(killed))
