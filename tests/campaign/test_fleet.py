"""The fleet a campaign file names, checked before anything runs or is written; campaign files on a full disk."""

import pytest
import yaml

from harness.campaign.fleet import Campaign
from harness.campaign.journal import Journal
from harness.campaign.scheduler import run_campaign
from harness.config.campaign import CampaignSpec, load_campaign
from harness.errors import ProfileError, StorageError
from tests.test_fsutil import full_tmpfs  # noqa: F401 - fixture


def test_power_modes_for_a_device_not_in_the_campaign_is_refused_before_anything_is_written(tmp_path):
    spec = CampaignSpec.model_validate({"name": "night", "devices": ["local", "desktop-cpu"],
                                        "power_modes": {"orin-nano": ["15W"], "local": []}})
    c = Campaign(spec, tmp_path / "out" / "night", tmp_path)
    with pytest.raises(ProfileError) as e:
        c.profiles()
    assert e.value.message == ("campaign night: power_modes names 'orin-nano', not a device of this campaign "
                               "(its devices: local, desktop-cpu)")
    assert "profile name" in e.value.hint
    with pytest.raises(ProfileError, match="power_modes names 'orin-nano'"):
        run_campaign(c)
    assert not (tmp_path / "out").exists()  # refused before the campaign directory, its journal or a board


def test_power_modes_keyed_by_the_campaign_devices_are_taken(tmp_path):
    spec = CampaignSpec.model_validate({"name": "night", "devices": ["local", "orin-nano"],
                                        "power_modes": {"orin-nano": ["15W"], "local": []}})
    assert [p.name for p in Campaign(spec, tmp_path, tmp_path).profiles()] == ["local", "orin-nano"]


def test_an_inventory_host_with_a_bad_port_is_one_line_naming_host_and_field(tmp_path):
    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump({"all": {"hosts": {"nano-1": {"ansible_host": "10.0.0.11", "ansible_port": "ssh",
                                                                 "harness_profile": "orin-nano"}}}}))
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump({"name": "night", "inventory": {"path": str(inv)}}))
    with pytest.raises(ProfileError) as e:
        Campaign(load_campaign(f), tmp_path / "out", tmp_path).profiles()
    assert e.value.message == f"{inv}: host nano-1: connection.port: 'ssh' is not allowed: use a whole number from 1 to 65535"
    inv.write_text(yaml.safe_dump({"all": {"hosts": {"nano-1": {
        "harness_profile": "orin-nano", "harness_overrides": {"timeouts": {"cell_s": float("inf")}}}}}}))
    with pytest.raises(ProfileError, match="host nano-1: timeouts.cell_s: inf is not allowed"):
        Campaign(load_campaign(f), tmp_path / "out", tmp_path).profiles()


def test_a_campaign_on_a_full_disk_names_the_file(full_tmpfs, tmp_path):  # noqa: F811 - the fixture
    spec = CampaignSpec.model_validate({"name": "night", "devices": ["local"]})
    with pytest.raises(StorageError) as e:
        run_campaign(Campaign(spec, full_tmpfs / "night", tmp_path))
    assert e.value.message.startswith(f"{full_tmpfs / 'night' / 'campaign.yaml'}: No space left on device")
    with pytest.raises(StorageError) as e:
        Journal(full_tmpfs / "journal.sqlite")
    assert e.value.message.startswith(f"{full_tmpfs / 'journal.sqlite'}: ") and "full" in e.value.message
    assert "free space" in e.value.hint


def test_inventory_overrides_go_on_top_of_the_host_and_cannot_rename_it(tmp_path):
    from harness.campaign.fleet import inventory_profiles
    from harness.config.campaign import InventoryRef

    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump({"all": {"hosts": {"nano-1": {
        "ansible_host": "10.0.0.11", "harness_profile": "orin-nano",
        "harness_overrides": {"connection": {"connect_timeout_s": 30}, "timeouts": {"cell_s": 7200}}}}}}))
    (p,) = inventory_profiles(InventoryRef(path=str(inv)), tmp_path)
    assert (p.name, p.connection.host, p.connection.connect_timeout_s, p.timeouts.cell_s) == ("nano-1", "10.0.0.11", 30, 7200)
    inv.write_text(yaml.safe_dump({"all": {"hosts": {"nano-1": {"harness_overrides": {"name": "other"}}}}}))
    with pytest.raises(ProfileError, match="host nano-1: harness_overrides may not set name"):
        inventory_profiles(InventoryRef(path=str(inv)), tmp_path)


def _pool_profile(tmp_path, name="lab-nano"):
    f = tmp_path / f"{name}.yaml"
    f.write_text(yaml.safe_dump({"name": name, "kind": "jetson", "connection": {
        "pool": "labgrid", "tags": {"board": "orin-nano"}, "coordinator": "lab:20408"}}))
    return f


def test_boards_by_kind_and_count_become_numbered_devices_beside_fixed_ones(tmp_path):
    spec = CampaignSpec.model_validate({"name": "night", "devices": ["local"],
                                        "boards": [{"profile": str(_pool_profile(tmp_path)), "count": 2}]})
    profs = Campaign(spec, tmp_path, tmp_path).profiles()
    assert [p.name for p in profs] == ["local", "lab-nano-1", "lab-nano-2"]
    assert all(p.connection.pooled and p.connection.tags == {"board": "orin-nano"} for p in profs[1:])


def test_a_fixed_host_profile_under_boards_is_refused_with_where_it_belongs(tmp_path):
    spec = CampaignSpec.model_validate({"name": "night", "boards": [{"profile": "orin-nano", "count": 2}]})
    with pytest.raises(ProfileError, match="boards: profile 'orin-nano' names a fixed host") as e:
        Campaign(spec, tmp_path, tmp_path).profiles()
    assert "devices:" in e.value.hint


def test_a_campaign_of_boards_only_is_a_campaign(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump({"name": "night", "boards": [{"profile": "lab.yaml", "count": 1}]}))
    assert load_campaign(f).boards[0].count == 1
    f.write_text(yaml.safe_dump({"name": "night"}))
    with pytest.raises(ProfileError, match=r"boards: \[\{profile, count\}\]"):
        load_campaign(f)
