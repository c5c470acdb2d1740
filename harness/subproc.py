"""Running a long local command while its output streams line by line (ansible-playbook, image builds)."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Streamed:
    returncode: int
    output: str  # stdout and stderr merged, in order
    timed_out: bool


def stream(argv: list[str], on_line: Callable[[str], None] | None, *, env: dict[str, str] | None = None,
           cwd: Path | None = None, timeout_s: float | None = None, interactive: bool = False) -> Streamed:
    """Run ``argv``, handing each output line to ``on_line``; past ``timeout_s`` it is killed (``timed_out``).

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
    return Streamed(rc, "".join(lines), bool(killed))
