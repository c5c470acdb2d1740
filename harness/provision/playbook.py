"""Running ``ansible-playbook``: finding it, its command line, streaming its output, its PLAY RECAP."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import devtext
from harness.errors import ProvisionError
from harness.subproc import stream

INSTALL_FIX = "pip install ansible-core (into the environment harness runs from)"

_COUNT = re.compile(r"([a-z_]{1,32})=(\d{1,9})")  # one "ok=40" of a recap line (bounded: linear on any line)


@dataclass(frozen=True)
class HostRecap:
    """One host's line of the PLAY RECAP: task counts."""

    host: str
    ok: int = 0
    changed: int = 0
    unreachable: int = 0
    failed: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0

    @property
    def succeeded(self) -> bool:
        return self.failed == 0 and self.unreachable == 0


def parse_recap(text: str) -> dict[str, HostRecap]:
    """The per-host counts after the last ``PLAY RECAP`` header of ansible-playbook's default output."""
    at = text.rfind("PLAY RECAP")
    if at < 0:
        return {}
    fields = set(HostRecap.__dataclass_fields__) - {"host"}
    out = {}
    for line in devtext.lines(text[at:].partition("\n")[2]):  # the lines after the header
        if (parsed := _recap_line(line)) is None:
            continue
        host, counts = parsed
        out[host] = HostRecap(host, **{k: v for k, v in counts.items() if k in fields})
    return out


def _recap_line(line: str) -> tuple[str, dict[str, int]] | None:
    """``host : ok=40 changed=12 ...`` -> (host, counts); None for any other line.

    By ``str`` methods and one bounded pattern per count: ``^(\\S+)\\s*:\\s*((?:\\w+=\\d+\\s*)+)$`` was
    quadratic on a long run of digits (``\\w`` matches them too) and took ``ok=1changed=2`` as counts, which then
    raised ValueError.
    """
    host, sep, rest = line.rpartition(":")  # counts have no colon; a host (an IPv6 address) may
    host, tokens = host.strip(), rest.split()
    if not sep or not host or any(c.isspace() for c in host) or not tokens:
        return None
    counts = {}
    for token in tokens:
        if not (m := _COUNT.fullmatch(token)):
            return None
        counts[m.group(1)] = int(m.group(2))
    return host, counts


def ansible_exe(name: str) -> str:
    """An Ansible program (``ansible-playbook``, ``ansible-inventory``) next to this Python (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise ProvisionError(f"{name} not found (neither next to this Python nor on PATH)", INSTALL_FIX)


def ansible_playbook_exe() -> str:
    return ansible_exe("ansible-playbook")


def playbook_argv(exe: str, playbook: Path, inventories: list[Path], *, limit: str | None = None, check: bool = False,
                  diff: bool = False, extra_vars: Sequence[str] = (), ask_become_pass: bool = False,
                  verbosity: int = 0) -> list[str]:
    argv = [exe, str(playbook)]
    for inv in inventories:
        argv += ["-i", str(inv)]
    if limit:
        argv += ["--limit", limit]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if ask_become_pass:
        argv.append("--ask-become-pass")
    for ev in extra_vars:
        argv += ["--extra-vars", ev]
    if verbosity:
        argv.append("-" + "v" * verbosity)
    return argv


def run_streaming(argv: list[str], env: dict[str, str], cwd: Path, on_line: Callable[[str], None] | None,
                  timeout_s: float | None = None, interactive: bool = False) -> tuple[int, str]:
    """Run ``argv``, hand each output line (stdout and stderr merged) to ``on_line``; (exit code, whole output).

    Past ``timeout_s`` the process (its session, unless ``interactive``: a password prompt
    needs the terminal) is killed and ProvisionError raised.
    """
    try:
        r = stream(argv, on_line, env=env, cwd=cwd, timeout_s=timeout_s, interactive=interactive)
    except OSError as e:
        raise ProvisionError(f"cannot start {argv[0]} ({e})", INSTALL_FIX) from e
    if r.timed_out:
        raise ProvisionError(f"ansible-playbook did not finish within {timeout_s:g} s (killed)",
                             "check that the device is reachable; a slow apt mirror may need a longer timeout")
    return r.exit_code, r.stdout
