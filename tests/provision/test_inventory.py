"""Inventories rendered from profiles: connection, host-key policy, role variables (no Ansible needed)."""

import shlex
from pathlib import Path

import pytest
import yaml

from harness.errors import ProfileError
from harness.config.profiles import DeviceProfile, load_profile
from harness.provision import profile_vars, render_inventory
from harness.provision.inventory import inventory_overlay
from tests.cli.conftest import assert_user_error


def _host(inv: dict) -> tuple[str, str, dict]:
    (group, node), = inv["all"]["children"].items()
    (name, hv), = node["hosts"].items()
    return group, name, hv


def test_jetson_profile_renders_one_host_with_strict_host_keys():
    group, name, hv = _host(render_inventory(load_profile("orin-nano")))
    assert (group, name) == ("jetsons", "orin-nano")
    assert hv["ansible_host"] == "orin-nano.local" and hv["ansible_user"] == "jetson" and hv["ansible_port"] == 22
    assert hv["ansible_ssh_private_key_file"] == str(Path("~/.ssh/id_ed25519").expanduser())
    args = shlex.split(hv["ansible_ssh_common_args"])
    assert f"UserKnownHostsFile={Path('~/.ssh/known_hosts').expanduser()}" in args
    assert "StrictHostKeyChecking=yes" in args and "ForwardAgent=no" in args and "IdentitiesOnly=yes" in args
    assert args[:2] == ["-F", "/dev/null"]  # no ssh config unless the profile asks
    # the profile's power mode by name, its runtime and workdir become role variables
    assert hv["harness_power_nvpmodel_mode"] == "15W" and hv["harness_power_jetson_clocks"] is True
    assert hv["harness_container_engine"] == "docker" and hv["harness_container_nvidia_default"] is True
    assert hv["harness_base_data_dir"] == "~/edge-harness" and hv["harness_facts_expected_l4t_major"] == 36
    assert hv["harness_jtop_enabled"] is True and hv["harness_headless_enabled"] is True
    yaml.safe_load(yaml.safe_dump(render_inventory(load_profile("orin-nano"))))  # plain data


def test_accept_new_host_key_is_opt_in(tmp_path):
    prof = DeviceProfile.model_validate({"name": "d", "kind": "desktop-cpu", "runtime": "host", "connection": {
        "host": "10.0.0.5", "known_hosts": str(tmp_path / "kh" / "known_hosts"), "load_ssh_config": True}})
    args = shlex.split(_host(render_inventory(prof, accept_new_host_key=True))[2]["ansible_ssh_common_args"])
    assert "StrictHostKeyChecking=accept-new" in args and "-F" not in args and "IdentitiesOnly=yes" not in args
    assert (tmp_path / "kh").is_dir()  # ssh can write the pinned key there
    group, _, hv = _host(render_inventory(prof))
    assert group == "desktops" and hv["harness_container_engine"] == "none" and hv["harness_headless_enabled"] is False
    assert hv["harness_power_nvpmodel_mode"] == "" and "ansible_ssh_private_key_file" not in hv


def test_profile_without_connection_is_a_one_line_error(run_harness):
    with pytest.raises(ProfileError, match="profile 'local' has no connection block"):
        render_inventory(load_profile("local"))
    assert_user_error(run_harness("provision", "--profile", "local"), "profile 'local' has no connection block")
    assert_user_error(run_harness("provision", env={"HARNESS_PROFILE": ""}), "nothing to provision")
    assert_user_error(run_harness("provision", "--profile", "orin-nano", "--limit", "x"), "--limit needs --inventory")


def test_inventory_overlay_derives_vars_from_harness_profile(tmp_path):
    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump({"all": {"children": {
        "jetsons": {"vars": {"harness_profile": "orin-nano"}, "hosts": {
            "nano-1": {"ansible_host": "192.0.2.11"},
            "nano-2": {"ansible_host": "192.0.2.12", "harness_known_hosts": "/etc/harness/known_hosts"}}},
        "others": {"hosts": {"plain": {"ansible_host": "192.0.2.13"}}}}}}))
    hosts = inventory_overlay(inv)["all"]["hosts"]
    assert set(hosts) == {"nano-1", "nano-2"}  # hosts without harness_profile get nothing
    assert hosts["nano-1"]["harness_power_nvpmodel_mode"] == "15W" and hosts["nano-1"]["ansible_user"] == "jetson"
    assert "ansible_host" not in hosts["nano-1"]  # the user's inventory says where the host is
    assert "UserKnownHostsFile=/etc/harness/known_hosts" in hosts["nano-2"]["ansible_ssh_common_args"]
    assert profile_vars(load_profile("orin-nano")).items() <= hosts["nano-2"].items()
    (tmp_path / "bad.yaml").write_text("all: [\n")
    with pytest.raises(ProfileError, match=r"bad.yaml: not a readable Ansible inventory"):
        inventory_overlay(tmp_path / "bad.yaml")


@pytest.mark.slow
def test_profile_values_reach_ansible_as_data_never_templated(tmp_path):
    """A profile value Ansible would template (``{{ lookup('pipe', ...) }}``) must stay text: no marker file appears."""
    import subprocess
    import sys

    from harness.provision.inventory import dump_inventory

    marker = tmp_path / "TEMPLATED"
    evil = "{{ lookup('pipe', 'touch " + str(marker) + "') }}"
    prof = DeviceProfile.model_validate({
        "name": "evil", "kind": "jetson", "connection": {"host": "127.0.0.1"},
        "host_runtime": {"workdir": "~/" + evil},  # a legal path, and a template to Ansible
    })
    inv = render_inventory(prof)
    _, _, hv = _host(inv)
    assert hv["harness_base_data_dir"] == "~/" + evil
    hv.update(ansible_connection="local", ansible_python_interpreter=sys.executable)
    (tmp_path / "inv.yml").write_text(dump_inventory(inv))
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "hosts": "all", "gather_facts": False,
        "tasks": [{"debug": {"msg": "dir={{ harness_base_data_dir }} host={{ ansible_host }}"}}]}]))
    exe = Path(sys.executable).parent / "ansible-playbook"
    p = subprocess.run([str(exe), "-i", str(tmp_path / "inv.yml"), str(tmp_path / "play.yml")], capture_output=True,
                       text=True, timeout=300, env={**__import__("os").environ, "ANSIBLE_NOCOLOR": "1"})
    assert p.returncode == 0, p.stdout + p.stderr
    assert not marker.exists(), "Ansible templated a profile value: it ran a command on the host"
    assert "lookup('pipe'" in p.stdout and "host=127.0.0.1" in p.stdout  # shown as the text it is


INVENTORY = {"all": {"children": {
    "jetsons": {
        "vars": {"harness_profile": "orin-nano", "ansible_user": "jetson"},
        "hosts": {"nx-1": {"ansible_host": "192.0.2.20", "harness_profile": "orin-nx"}},
        "children": {"nanos": {"hosts": {"nano-1": {"ansible_host": "192.0.2.11"},
                                         "nano-2": {"ansible_host": "192.0.2.12", "ansible_user": "root"}}}}},
    "desktops": {"hosts": {"gpu-1": {"ansible_host": "192.0.2.30", "harness_profile": "desktop-gpu"}}}}}}


def test_provision_and_campaigns_read_an_inventory_the_way_ansible_does(tmp_path):
    """Group vars, child groups and host vars, resolved by ansible-inventory for both readers (they used to disagree)."""
    from harness.campaign.fleet import inventory_profiles
    from harness.config.campaign import InventoryRef
    from harness.provision.inventory import read_inventory

    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump(INVENTORY))
    resolved = read_inventory(inv)
    assert resolved.hosts_of("jetsons") == ["nx-1", "nano-1", "nano-2"] and resolved.hosts_of("nanos") == ["nano-1", "nano-2"]
    assert sorted(resolved.hosts_of("all")) == ["gpu-1", "nano-1", "nano-2", "nx-1"]
    assert resolved.hostvars["nano-1"]["harness_profile"] == "orin-nano"  # from the parent group's vars
    assert resolved.hostvars["nano-2"]["ansible_user"] == "root"  # a host's own variable wins
    with pytest.raises(ProfileError, match="no group 'jetson'"):
        resolved.hosts_of("jetson")
    # the campaign's fleet
    profs = {p.name: p for p in inventory_profiles(InventoryRef(path=str(inv), group="jetsons"), tmp_path)}
    assert {n: (p.connection.host, p.connection.user, p.expect.board_contains) for n, p in profs.items()} == {
        "nx-1": ("192.0.2.20", "jetson", "Orin NX"), "nano-1": ("192.0.2.11", "jetson", "Orin Nano"),
        "nano-2": ("192.0.2.12", "root", "Orin Nano")}
    # provisioning derives the same profiles' variables
    overlay = inventory_overlay(inv)["all"]["hosts"]
    assert overlay["nano-1"]["harness_profile"] == "orin-nano" and overlay["nx-1"]["harness_profile"] == "orin-nx"
    assert set(overlay) == {"nx-1", "nano-1", "nano-2", "gpu-1"}
