"""A campaign on disk and its fleet: the devices (profiles, or the hosts of an Ansible inventory group) and
the order each repetition runs its cells in."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from harness.config.campaign import CampaignSpec, InventoryRef
from harness.config.profiles import DeviceProfile, load_profile
from harness.config.suite import Experiment, Suite, VariantSpec
from harness.config.yamlio import describe_validation_error
from harness.errors import ProfileError


@dataclass
class Campaign:
    spec: CampaignSpec
    root: Path  # <out>/<campaign name>
    base: Path  # where relative paths in the spec resolve

    @property
    def journal_path(self) -> Path:
        return self.root / "journal.sqlite"

    @property
    def stop_flag(self) -> Path:
        return self.root / "STOP"

    def profiles(self) -> list[DeviceProfile]:
        profs = [load_profile(resolve_ref(d, self.base)) for d in self.spec.devices]
        if self.spec.inventory is not None:
            profs += inventory_profiles(self.spec.inventory, self.base)
        for want in self.spec.boards:
            prof = load_profile(resolve_ref(want.profile, self.base))
            if prof.connection is None or not prof.connection.pooled:
                raise ProfileError(f"campaign {self.spec.name}: boards: profile {want.profile!r} names a fixed host",
                                   "list it under devices:, or give it connection: {pool: labgrid, tags: {...}}")
            profs += [prof.model_copy(update={"name": f"{prof.name}-{i + 1}"}) for i in range(want.count)]
        names = [p.name for p in profs]
        if len(set(names)) != len(names):
            raise ProfileError(f"campaign {self.spec.name}: device names repeat ({names})", "give every device its own profile name")
        unknown = [d for d in self.spec.power_modes if d not in names]
        if unknown:  # a typo would silently run that board in the suite's modes (or none)
            from harness.names import did_you_mean

            raise ProfileError(f"campaign {self.spec.name}: power_modes names {', '.join(map(repr, unknown))}"
                               f"{did_you_mean(unknown[0], names)}, not a device "
                               f"of this campaign (its devices: {', '.join(names)})",
                               "key power_modes by the profile name of a device (inventory: the host name)")
        return profs

    def absolute_spec(self) -> CampaignSpec:
        """The spec with every relative path made absolute, so ``campaign resume DIR`` works from anywhere."""
        spec, base = self.spec, self.base
        d = spec.model_dump(exclude_unset=True)
        d["devices"] = [resolve_ref(x, base) for x in spec.devices]
        if spec.boards:
            d["boards"] = [{"profile": resolve_ref(b.profile, base), "count": b.count} for b in spec.boards]
        d["suite"] = resolve_ref(spec.suite, base)
        d["suites"] = [resolve_ref(x, base) for x in spec.suites]
        if spec.sequence and not Path(spec.sequence).is_absolute():
            d["sequence"] = str((base / spec.sequence).resolve())
        if spec.inventory and not Path(spec.inventory.path).is_absolute():
            d["inventory"]["path"] = str((base / spec.inventory.path).resolve())
        return CampaignSpec.model_validate(d)


def resolve_ref(ref: str, base: Path) -> str:
    """A relative YAML path made absolute against ``base``; names (profiles, suites) stay names."""
    return str((base / ref).resolve()) if ref.endswith((".yaml", ".yml")) and not Path(ref).is_absolute() else ref


def inventory_profiles(inv: InventoryRef, base: Path) -> list[DeviceProfile]:
    """One profile per host of the inventory group, as Ansible resolves the inventory (group vars, children,
    host vars): the host's ``harness_profile`` (default ``local``) with its connection taken from
    ``ansible_host`` / ``ansible_user`` / ``ansible_port`` / ``ansible_ssh_private_key_file`` and
    ``harness_known_hosts``, and ``harness_overrides`` on top."""
    from harness.provision.inventory import read_inventory

    path = (base / inv.path) if not Path(inv.path).is_absolute() else Path(inv.path)
    inventory = read_inventory(path)
    hosts = inventory.hosts_of(inv.group)
    if not hosts:
        raise ProfileError(f"{path}: group {inv.group!r} has no hosts", "check inventory.group")
    profiles = []
    for host in hosts:
        hv = inventory.hostvars.get(host, {})
        prof = load_profile(str(hv.get("harness_profile", "local"))).model_dump()
        conn = dict(prof.get("connection") or {})
        conn.update(host=hv.get("ansible_host", host), user=hv.get("ansible_user", conn.get("user", "root")),
                    port=hv.get("ansible_port", conn.get("port", 22)))  # validated with the profile below
        if hv.get("ansible_ssh_private_key_file"):
            conn["key_file"] = hv["ansible_ssh_private_key_file"]
        if hv.get("harness_known_hosts"):
            conn["known_hosts"] = hv["harness_known_hosts"]
        overrides = hv.get("harness_overrides") or {}
        if not isinstance(overrides, dict):
            raise ProfileError(f"{path}: host {host}: harness_overrides must be a mapping", "set profile fields under it")
        overrides = dict(overrides)
        if isinstance(overrides.get("connection"), dict):  # on top of the ansible_* values, key by key
            conn.update(overrides.pop("connection"))
        if "name" in overrides:  # (a TypeError here before) the host name is the device's name in the campaign
            raise ProfileError(f"{path}: host {host}: harness_overrides may not set name",
                               "the inventory host name is the device's name (power_modes, results)")
        prof.update(overrides)
        prof.update(name=host, connection=conn)
        try:
            profiles.append(DeviceProfile.model_validate(prof))
        except ValidationError as e:
            raise ProfileError(f"{path}: host {host}: {describe_validation_error(e, DeviceProfile)}",
                               "fix the host's variables in the inventory") from None
    return profiles


def with_device_modes(suite: Suite, modes: dict[str, list[str]], device: str) -> Suite:
    """The suite with this device's power modes from the campaign (names differ per board; ``[]`` drops the sweep)."""
    if device not in modes:
        return suite
    return Suite.model_validate({**suite.model_dump(), "power_modes": modes[device] or None})


def ordered_suite(suite: Suite, order: str, rep: int, seed: int, device: str) -> Suite:
    """The suite with its cells reordered (cell ids unchanged): interleaved rotates by repetition, random shuffles.
    Power modes stay the outer loop (one switch per mode): the order applies within each mode."""
    cells = [c for c in suite.cells() if c.power_mode == (suite.power_modes or [None])[0]]
    if order == "interleaved" and cells:
        k = rep % len(cells)
        cells = cells[k:] + cells[:k]
    elif order == "random":
        random.Random(f"{seed}|{device}|{rep}").shuffle(cells)
    else:
        return suite
    refs = {e.name: e.reference for e in suite.experiments}
    exps = [Experiment(name=c.experiment, models=[c.model], reference=refs[c.experiment],
                       variants=[VariantSpec(format=c.format, precision=c.precision, prune_ratio=c.prune_ratio,
                                             finetuned=c.finetuned, recovery=c.recovery, dla_core=c.dla_core,
                                             gpu_fallback=c.gpu_fallback)])
            for c in cells]
    return Suite.model_validate({**suite.model_dump(), "experiments": [e.model_dump() for e in exps]})
