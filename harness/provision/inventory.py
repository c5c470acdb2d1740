"""Ansible inventories from device profiles: connection, host-key policy and role variables.

A profile becomes one inventory host whose variables reach it the way the harness
itself does (docs/architecture.md, "The trust boundary"): only the profile's key, no ssh config unless the
profile asks, no agent forwarding, and the host key checked against the profile's
known_hosts (``StrictHostKeyChecking=yes``; ``accept-new`` only when the user opts in).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ProfileError
from harness.config.profiles import Connection, DeviceProfile, load_profile


class _Unsafe(str):
    """A string Ansible must never template (written as ``!unsafe``)."""


class _InventoryDumper(yaml.SafeDumper):
    pass


_InventoryDumper.add_representer(_Unsafe, lambda d, v: d.represent_scalar("!unsafe", str(v), style="'"))


def _mark_unsafe(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _mark_unsafe(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_mark_unsafe(v) for v in node]
    return _Unsafe(node) if isinstance(node, str) else node


def dump_inventory(data: dict[str, Any]) -> str:
    """YAML for ansible-playbook with every string value tagged ``!unsafe``.

    Ansible templates every variable it is handed; a profile value such as
    ``{{ lookup('pipe', 'id') }}`` would otherwise run on this host. ``!unsafe`` makes
    each one plain data (the profile fields are validated as well, docs/architecture.md, "The trust boundary").
    """
    return yaml.dump(_mark_unsafe(data), Dumper=_InventoryDumper, sort_keys=False)


def profile_vars(prof: DeviceProfile) -> dict[str, Any]:
    """The role variables a profile implies (see ansible/roles/*/defaults/main.yml)."""
    return {
        "harness_profile": prof.name,
        "harness_facts_expected_l4t_major": prof.expect.l4t_major or 0,
        "harness_base_data_dir": prof.host_runtime.workdir,
        "harness_container_engine": prof.runtime if prof.runtime in ("docker", "podman") else "none",
        "harness_container_nvidia_default": prof.container.nvidia_runtime,
        "harness_jtop_enabled": "jtop" in prof.telemetry.prefer or prof.container.mount_jtop_socket,
        "harness_power_nvpmodel_mode": prof.power_mode.nvpmodel or "",
        "harness_power_jetson_clocks": prof.power_mode.jetson_clocks,
        "harness_power_jetson_clocks_persist": prof.power_mode.jetson_clocks,
        "harness_headless_enabled": prof.kind == "jetson",
    }


def ssh_common_args(conn: Connection, accept_new_host_key: bool = False, known_hosts: str | None = None) -> str:
    """ssh options: pinned known_hosts, strict host-key checking, the profile's key only."""
    kh = Path(known_hosts or conn.known_hosts or "~/.ssh/known_hosts").expanduser()
    if accept_new_host_key:
        kh.parent.mkdir(parents=True, exist_ok=True)
    args = [] if conn.load_ssh_config else ["-F", "/dev/null"]
    args += ["-o", f"UserKnownHostsFile={kh}", "-o", f"StrictHostKeyChecking={'accept-new' if accept_new_host_key else 'yes'}",
             "-o", f"ForwardAgent={'yes' if conn.forward_agent else 'no'}"]
    if conn.key_file:
        args += ["-o", "IdentitiesOnly=yes"]
    return shlex.join(args)


def connection_vars(conn: Connection, accept_new_host_key: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ansible_host": conn.host,
        "ansible_user": conn.user,
        "ansible_port": conn.port,
        "ansible_ssh_common_args": ssh_common_args(conn, accept_new_host_key),
        "ansible_ssh_timeout": max(1, round(conn.connect_timeout_s)),
    }
    if conn.key_file:
        out["ansible_ssh_private_key_file"] = str(Path(conn.key_file).expanduser())
    return out


def group_of(prof: DeviceProfile) -> str:
    return "jetsons" if prof.kind == "jetson" else "desktops"


def render_inventory(prof: DeviceProfile, accept_new_host_key: bool = False) -> dict[str, Any]:
    """A YAML inventory (as data) with the profile as its one host, in group ``jetsons`` or ``desktops``."""
    if prof.connection is None:
        raise ProfileError(f"profile {prof.name!r} has no connection block",
                           "provision configures a remote device; add connection: {host: ..., user: ...}")
    host = {**connection_vars(prof.connection, accept_new_host_key), **profile_vars(prof)}
    return {"all": {"children": {group_of(prof): {"hosts": {prof.name: host}}}}}


@dataclass(frozen=True)
class Inventory:
    """An Ansible inventory as Ansible resolves it: every host's variables (group vars, children, host vars,
    in Ansible's precedence) and each group's direct hosts and child groups."""

    path: Path
    hostvars: dict[str, dict[str, Any]]
    groups: dict[str, dict[str, list[str]]]

    def hosts_of(self, group: str) -> list[str]:
        """The hosts of ``group`` and of its child groups, recursively, in Ansible's order, each once."""
        if group not in self.groups and group != "all":
            raise ProfileError(f"{self.path}: no group {group!r} (groups: {', '.join(sorted(self.groups)) or 'none'})",
                               "check inventory.group")
        if group == "all":
            return list(self.hostvars) or self._walk("all", set())
        return self._walk(group, set())

    def _walk(self, group: str, seen: set[str]) -> list[str]:
        if group in seen:
            return []
        seen.add(group)
        node = self.groups.get(group, {})
        out = list(node.get("hosts", []))
        for child in node.get("children", []):
            out += self._walk(child, seen)
        return list(dict.fromkeys(out))


def read_inventory(path: Path) -> Inventory:
    """Resolve an inventory (YAML, INI or a script) with Ansible's own resolver, ``ansible-inventory --list``.

    Provisioning and campaigns read inventories only through here, so a group's ``vars``, its
    ``children`` and a host's own variables mean the same in both (and what Ansible says they mean).
    """
    import json
    import os
    import subprocess

    from harness.provision.playbook import ansible_exe

    path = Path(path)
    if not path.exists():
        raise ProfileError(f"inventory {path} not found", "pass the path of an Ansible inventory")
    env = {**os.environ, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True",
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_DEPRECATION_WARNINGS": "False"}
    try:
        r = subprocess.run([ansible_exe("ansible-inventory"), "-i", str(path), "--list"], capture_output=True, text=True,
                           timeout=120, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ProfileError(f"{path}: ansible-inventory did not answer within 120 s", "check the inventory (a script?)") from None
    if r.returncode != 0:
        why = " | ".join(line.strip() for line in r.stderr.strip().splitlines()[-3:])[-400:]
        raise ProfileError(f"{path}: not a readable Ansible inventory ({why or f'exit {r.returncode}'})",
                           "check it with `ansible-inventory -i FILE --list`")
    try:
        data = json.loads(r.stdout)
    except ValueError as e:
        raise ProfileError(f"{path}: ansible-inventory printed no JSON ({e})", "check your Ansible installation") from e
    meta = data.pop("_meta", {}) if isinstance(data, dict) else {}
    hostvars = meta.get("hostvars", {}) if isinstance(meta, dict) else {}
    groups = {g: {"hosts": list(v.get("hosts", [])), "children": list(v.get("children", []))}
              for g, v in data.items() if isinstance(v, dict)}
    return Inventory(path, {h: (v if isinstance(v, dict) else {}) for h, v in hostvars.items()}, groups)


def inventory_overlay(path: Path, accept_new_host_key: bool = False) -> dict[str, Any]:
    """Variables derived from each host's ``harness_profile`` in a user's inventory (as Ansible resolves it).

    The overlay is given to ansible-playbook *before* the user's inventory, so what the
    inventory sets itself wins; hosts without ``harness_profile`` get nothing.
    """
    overlay = {}
    for name, hv in read_inventory(path).hostvars.items():
        if not hv.get("harness_profile"):
            continue
        prof = load_profile(str(hv["harness_profile"]))
        v = profile_vars(prof)
        conn = prof.connection or Connection(host=name)
        v["ansible_ssh_common_args"] = ssh_common_args(conn, accept_new_host_key, hv.get("harness_known_hosts"))
        if prof.connection is not None:
            v.update(ansible_user=conn.user, ansible_port=conn.port, ansible_ssh_timeout=max(1, round(conn.connect_timeout_s)))
            if conn.key_file:
                v["ansible_ssh_private_key_file"] = str(Path(conn.key_file).expanduser())
        overlay[name] = v
    return {"all": {"hosts": overlay}} if overlay else {}
