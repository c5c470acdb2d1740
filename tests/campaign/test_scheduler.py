"""Campaigns over real loopback sshd "devices": parallel, quarantine, recovery, resume after the host died."""

import json
import subprocess
import sys
import time

import pytest
import yaml

from harness.campaign.fleet import Campaign, ordered_suite
from harness.campaign.journal import Journal
from harness.campaign.scheduler import run_campaign
from harness.config.campaign import load_campaign
from harness.results.store import RunStore
from harness.config.suite import load_suite
from harness.testing.infra.sshd import make_device
from tests.cli.conftest import assert_user_error

pytestmark = pytest.mark.slow

SUITE = {"name": "tiny", "frames": 4, "warmup": 1, "imgsz": 64, "experiments": [{"name": "b", "models": ["yolov8n"]}]}


@pytest.fixture
def fleet(tmp_path, harness_cache):
    devices = []

    def make(n):
        for i in range(n):
            d = make_device(tmp_path / f"dev{i}")
            d.start(env={"HARNESS_OFFLINE": "1", "HARNESS_CACHE_DIR": str(harness_cache)})
            prof = {"name": f"dev{i}", "kind": "local", "runtime": "host", "compute": "cpu",
                    "connection": {"host": "127.0.0.1", "user": "root", "port": d.port, "key_file": str(d.client_key),
                                   # not 2 s: a handshake with 8 runners on a few busy cores may take longer;
                                   # the dead board is refused at once either way
                                   "known_hosts": str(d.known_hosts), "connect_timeout_s": 10},
                    "host_runtime": {"python": sys.executable, "venv": False, "workdir": str(tmp_path / f"wd{i}")}}
            (tmp_path / f"dev{i}.yaml").write_text(yaml.safe_dump(prof))
            devices.append(d)
        (tmp_path / "suite.yaml").write_text(yaml.safe_dump(SUITE))
        return devices

    yield make
    for d in devices:
        d.kill_all()


def write_campaign(tmp_path, n, small_seq, **extra):
    spec = {"name": "night", "devices": [f"dev{i}.yaml" for i in range(n)], "suite": "suite.yaml", "sequence": str(small_seq),
            "workers": 8, "quarantine_after": 2, "retry_backoff_s": 0.5, "reconnect_budget_s": 60, "poll_s": 0.5, **extra}
    f = tmp_path / "campaign.yaml"
    f.write_text(yaml.safe_dump(spec))
    return f


def test_eight_devices_one_dead_one_flaky(fleet, tmp_path, small_seq):
    devs = fleet(8)
    devs[0].kill_all()  # this board is gone for good
    spec_file = write_campaign(tmp_path, 8, small_seq, repetitions=2)
    c = Campaign(load_campaign(spec_file), tmp_path / "results" / "night", tmp_path)
    chaos = {}

    def log(dev, e):
        if dev == "dev1" and e.name == "started" and "flap" not in chaos:
            chaos["flap"] = devs[1].flap(after_s=1.0, down_s=3.0)
        if dev == "dev1" and e.name == "reconnected":
            chaos["reconnected"] = time.monotonic()

    t0 = time.perf_counter()
    outcomes = run_campaign(c, log)
    wall = time.perf_counter() - t0
    summary = {r["device"]: r for r in Journal(c.journal_path).summary()}
    assert outcomes["dev0"].state == "quarantined" and all(outcomes[f"dev{i}"].state == "done" for i in range(1, 8)), \
        "\n".join(f"{k}: {v['state']}: {v['reason']}" for k, v in summary.items() if v["state"] != "done")
    assert "unreachable" in summary["dev0"]["reason"] and "unreachable" in outcomes["dev0"].reason  # the real error
    assert outcomes["dev1"].runs_done == 2
    for i in range(1, 8):
        assert summary[f"dev{i}"]["runs_done"] == 2 and summary[f"dev{i}"]["cells"] == 2
        for rep in (1, 2):
            recs = RunStore(c.root / "runs" / f"night-dev{i}-r{rep}").read_records()
            assert [r["status"] for r in recs] == ["ok"]  # one cell, exactly once
    assert "reconnected" in chaos
    print(f"8 devices x 2 repetitions: {wall:.1f} s; dev1 recovered "
          f"{chaos['reconnected'] - chaos['flap']['restarted']:.1f} s after its sshd came back")


def test_the_host_dies_and_resume_finishes_without_duplicates(fleet, tmp_path, small_seq, run_harness):
    fleet(3)
    spec_file = write_campaign(tmp_path, 3, small_seq, repetitions=2)
    out = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "campaign", "run", str(spec_file), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    journal = out / "night" / "journal.sqlite"
    deadline = time.time() + 180
    while time.time() < deadline:
        if journal.exists() and Journal(journal).exec("select count(*) from runs where state='done'")[0][0] >= 1:
            break
        time.sleep(0.3)
    proc.kill()  # the host goes down mid-campaign
    proc.wait()
    p = run_harness("campaign", "status", out / "night")
    assert p.returncode == 0 and "dev0" in p.stdout
    p = run_harness("campaign", "resume", out / "night")
    assert p.returncode == 0, p.stdout + p.stderr
    out_text = " ".join(p.stdout.split())
    assert "Which variant wins" in out_text and "against dev0" in out_text
    assert (out / "night" / "report" / "report.html").is_file()
    j = Journal(journal)
    assert j.exec("select count(*) from runs where state='done'")[0][0] == 6
    for i in range(3):
        for rep in (1, 2):
            ids = [r["cell_id"] for r in RunStore(out / "night" / "runs" / f"night-dev{i}-r{rep}").read_records()]
            assert ids == ["b.yolov8n.pytorch-fp32"]  # no cell missing or duplicated


def test_cell_order_policies_keep_cell_ids():
    suite = load_suite("quick")
    ids = [c.cell_id for c in suite.cells()]
    inter = [c.cell_id for c in ordered_suite(suite, "interleaved", 1, 0, "d").cells()]
    rnd = [c.cell_id for c in ordered_suite(suite, "random", 0, 7, "d").cells()]
    assert inter == ids[1:] + ids[:1] and sorted(rnd) == sorted(ids) and rnd != ids
    assert [c.cell_id for c in ordered_suite(suite, "random", 0, 7, "d").cells()] == rnd  # seeded


def test_inventory_group_defines_the_fleet(tmp_path):
    from harness.campaign.fleet import inventory_profiles
    from harness.config.campaign import InventoryRef as Inventory

    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump({"all": {"children": {"jetsons": {"hosts": {
        "nano-1": {"ansible_host": "10.0.0.11", "ansible_user": "jetson", "harness_profile": "orin-nano"},
        "nano-2": {"ansible_host": "10.0.0.12", "ansible_port": 2222, "harness_profile": "orin-nano"}}},
        "desktops": {"hosts": {"gpu-1": {"harness_profile": "desktop-gpu"}}}}}}))
    profs = inventory_profiles(Inventory(path=str(inv), group="jetsons"), tmp_path)
    assert [(p.name, p.connection.host, p.connection.port, p.connection.user) for p in profs] == [
        ("nano-1", "10.0.0.11", 22, "jetson"), ("nano-2", "10.0.0.12", 2222, "jetson")]
    assert all(p.expect.l4t_major == 36 for p in profs)  # the rest comes from the orin-nano profile
    assert len(inventory_profiles(Inventory(path=str(inv)), tmp_path)) == 3
    assert json.dumps([p.name for p in profs])


def test_an_alias_bomb_in_a_campaign_file_is_refused_before_anything_expands_it(tmp_path, run_harness):
    import time

    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    bomb = tmp_path / "night.yaml"
    bomb.write_text("\n".join(levels) + "\nname: night\ndevices: [local]\ncooldown: {max_start_temp_c: *a8}\n")
    t0 = time.monotonic()
    p = run_harness("campaign", "run", bomb, "--out", tmp_path / "out", timeout=60)
    assert_user_error(p, "expands to more than")
    assert time.monotonic() - t0 < 30 and not (tmp_path / "out").exists()
    # a cooldown block is a cooldown block: unknown keys are named, not carried into every profile
    bomb.write_text("name: night\ndevices: [local]\ncooldown: {max_start_temp: 50}\n")
    assert_user_error(run_harness("campaign", "run", bomb, "--out", tmp_path / "out"), "cooldown.max_start_temp: unknown key")


def test_per_device_power_modes_and_orders_keep_modes_grouped_and_dla_variants():
    from harness.campaign.fleet import with_device_modes
    from harness.config.suite import Suite
    from harness.config.campaign import CampaignSpec

    suite = Suite.model_validate({"name": "s", "power_modes": ["15W", "25W"], "experiments": [
        {"name": "q", "models": ["yolov8n", "yolo11n"], "variants": [
            {"format": "tensorrt", "precision": "int8"}, {"format": "tensorrt", "precision": "int8", "dla_core": 0}]}]})
    spec = CampaignSpec.model_validate({"name": "c", "devices": ["orin-nx", "desktop-gpu"],
                                        "power_modes": {"orin-nx": ["10W", "MAXN_SUPER"], "desktop-gpu": []}})
    nx = with_device_modes(suite, spec.power_modes, "orin-nx")
    assert nx.power_modes == ["10W", "MAXN_SUPER"] and with_device_modes(suite, spec.power_modes, "desktop-gpu").power_modes is None
    assert with_device_modes(suite, spec.power_modes, "agx-orin").power_modes == ["15W", "25W"]  # not listed: the suite's
    for order in ("interleaved", "random"):
        cells = ordered_suite(nx, order, 1, 3, "orin-nx").instances()
        assert sorted(c.cell_id for c in cells) == sorted(c.cell_id for c in nx.instances())  # same cells, DLA kept
        modes = [c.power_mode for c in cells]
        assert modes == sorted(modes, key=["10W", "MAXN_SUPER"].index)  # one switch: the order is within a mode
