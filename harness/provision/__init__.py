"""``harness provision``: the playbook in ``ansible/`` applied to devices.

Either one profile (its inventory is rendered from ``connection`` and the profile's
power mode, runtime and workdir) or a user's Ansible inventory (its hosts'
``harness_profile`` supply the same variables; what the inventory sets wins).
``--extra-vars`` win over both. ansible-playbook runs with ``ansible/ansible.cfg``;
its output is streamed and its PLAY RECAP parsed into a map host -> counts.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ProvisionError
from harness.config.profiles import load_profile
from harness.provision.inventory import dump_inventory, inventory_overlay, profile_vars, render_inventory
from harness.provision.playbook import HostRecap, ansible_playbook_exe, parse_recap, playbook_argv, run_streaming

__all__ = ["HostRecap", "ProvisionResult", "ansible_dir", "hints", "parse_recap", "profile_vars", "provision", "render_inventory"]

# (what ansible-playbook printed, what to do about it)
_HINTS = (
    ("Host key verification failed", "the device's host key is not in the profile's known_hosts: check it is the right "
                                     "device, then pin it with --accept-new-host-key"),
    ("REMOTE HOST IDENTIFICATION HAS CHANGED", "the device's host key changed: if it was reinstalled, remove its line "
                                               "from known_hosts; otherwise do not connect"),
    ("Permission denied (publickey", "SSH refused the key: check connection.user and connection.key_file in the profile"),
    ("Missing sudo password", "sudo on the device asks for a password: add --ask-become-pass (-K)"),
    ("Incorrect sudo password", "wrong sudo password for the device user"),
)


@dataclass
class ProvisionResult:
    """Exit code of ansible-playbook and the recap per host (empty when it stopped before any play)."""

    returncode: int
    recap: dict[str, HostRecap] = field(default_factory=dict)
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and bool(self.recap) and all(r.succeeded for r in self.recap.values())


def hints(output: str) -> list[str]:
    """Remedies for the known ways a run fails before it reaches the tasks (host keys, SSH auth, sudo)."""
    return [fix for needle, fix in _HINTS if needle in output]


def ansible_dir() -> Path:
    """``HARNESS_ANSIBLE_DIR`` or the checkout's ``ansible/`` (playbook, roles, ansible.cfg)."""
    d = Path(os.environ.get("HARNESS_ANSIBLE_DIR") or Path(__file__).resolve().parents[2] / "ansible")
    if not (d / "site.yml").is_file():
        raise ProvisionError(f"no provisioning playbook at {d / 'site.yml'}",
                             "run harness from a source checkout, or set HARNESS_ANSIBLE_DIR to its ansible/ directory")
    return d


def ansible_env(adir: Path, tmp: Path) -> dict[str, str]:
    """ansible.cfg from ``adir``; SSH control sockets of this run only (a master left by an earlier run, checked
    against another known_hosts, is never reused)."""
    env = {**os.environ, "ANSIBLE_CONFIG": str(adir / "ansible.cfg"), "PYTHONUNBUFFERED": "1",
           "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp / "cp")}
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    return env


def provision(profile: str | None = None, inventory: Path | None = None, *, limit: str | None = None,
              check: bool = False, diff: bool = False, extra_vars: Sequence[str] = (),
              accept_new_host_key: bool = False, ask_become_pass: bool = False, verbosity: int = 0,
              on_line: Callable[[str], None] | None = print, timeout_s: float | None = None) -> ProvisionResult:
    """Apply ``ansible/site.yml`` to the profile's device or to an inventory's hosts; never raises on task failures.

    Raises ProvisionError when ansible-playbook is missing or provisions no host (bad
    inventory or extra vars, no host matched); ProfileError for a profile without ``connection``.
    """
    if (profile is None) == (inventory is None):
        raise ProvisionError("pass exactly one of --profile or --inventory", "harness provision --profile orin-nano")
    adir = ansible_dir()
    exe = ansible_playbook_exe()
    with tempfile.TemporaryDirectory(prefix="harness-provision-") as tmp:
        inventories: list[Path] = []
        if profile is not None:
            data = render_inventory(load_profile(profile), accept_new_host_key)
        else:
            if not inventory.is_file():
                raise ProvisionError(f"inventory {inventory} not found", "pass the path of an Ansible inventory file")
            data = inventory_overlay(inventory, accept_new_host_key)
        if data:
            rendered = Path(tmp) / "harness-inventory.yml"
            rendered.write_text(dump_inventory(data))
            inventories.append(rendered)
        if inventory is not None:
            inventories.append(inventory.resolve())
        argv = playbook_argv(exe, adir / "site.yml", inventories, limit=limit, check=check, diff=diff,
                             extra_vars=extra_vars, ask_become_pass=ask_become_pass, verbosity=verbosity)
        rc, out = run_streaming(argv, ansible_env(adir, Path(tmp)), adir, on_line, timeout_s, interactive=ask_become_pass)
    recap = parse_recap(out)
    if not recap:
        tail = " | ".join(line.strip() for line in out.strip().splitlines()[-4:] if line.strip())[-400:]
        raise ProvisionError(f"ansible-playbook provisioned no host (exit {rc}): {tail or 'no output'}",
                             "check the inventory, --limit and --extra-vars")
    return ProvisionResult(rc, recap, out)
