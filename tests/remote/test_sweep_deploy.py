"""Power-mode sweeps through `harness deploy` on a loopback sshd board (runtime: host) with a fake L4T: nvpmodel
and nvpmodel.conf, sysfs clocks and an INA3221 input rail that follow the mode, a mode that asks for a reboot."""

import json
import subprocess
import sys
import time
import uuid

import pytest

from harness.config.suite import Suite
from harness.errors import BenchmarkError, DeviceDataError, RemoteError
from harness.remote.deploy import DeployPlan, Deployment, deploy
from harness.remote.events import PowerMode, Rebooted, Rebooting
from harness.results.store import RunStore
from harness.testing.fakes import sysfs as fake_sysfs
from harness.testing.fakes.jetson import write_fake_jetson
from harness.testing.infra.sshd import make_device
from tests.remote.test_deploy import profile as base_profile
from tests.remote.test_deploy import with_board

pytestmark = pytest.mark.slow

RAIL_MA = {0: 2000, 1: 3000, 2: 4000, 3: 1200}  # 15W, 25W, MAXN_SUPER, 7W: 10, 15, 20, 6 W at 5 V


def suite(modes, repeats=1):
    return Suite.model_validate({"name": "sweep", "frames": 6, "warmup": 2, "imgsz": 160, "min_duration_s": 0.6,
                                 "repeats": repeats, "power_modes": modes,
                                 "experiments": [{"name": "baseline", "models": ["yolov8n"]}]})


@pytest.fixture
def board(tmp_path, harness_cache):
    dev = make_device(tmp_path / "dev")
    root = with_board(dev, tmp_path)
    sysroot = tmp_path / "sys-root"
    hwmon = fake_sysfs.ina3221_hwmon(sysroot, fake_sysfs.ORIN_NANO_RAILS)[0]
    write_fake_jetson(root, sysfs=sysroot, rail_ma=RAIL_MA, rail_file=hwmon / "curr1_input", reboot_modes=(3,))
    (root / "proc/sys/kernel/random").mkdir(parents=True)
    (root / "proc/sys/kernel/random/boot_id").write_text(str(uuid.uuid4()) + "\n")
    dev.start(path_dirs=(root / "usr/sbin", root / "usr/bin"),
              env={"HARNESS_OFFLINE": "1", "HARNESS_CACHE_DIR": str(harness_cache), "PYTHONDONTWRITEBYTECODE": "1",
                   "FAKE_JETSON_ROOT": str(root), "HARNESS_SYSFS_ROOT": str(sysroot)})
    dev.root_dir = root
    yield dev
    dev.kill_all()


def jetson_profile(dev, tmp_path, mode="25W"):
    prof = base_profile(dev, tmp_path, tmp_path / "wd")
    return prof.model_copy(update={
        "power_mode": prof.power_mode.model_copy(update={"nvpmodel": mode}),
        "telemetry": prof.telemetry.model_copy(update={"prefer": ["sysfs_ina3221", "none"], "interval_ms": 20, "idle_s": 0.2}),
    })


def mode_now(dev):
    state = dev.root_dir / "var/lib/fake-jetson/nvpmodel"
    return int(state.read_text()) if state.exists() else 0  # never switched: the default mode (ID 0)


def boot_id(dev):
    return (dev.root_dir / "proc/sys/kernel/random/boot_id").read_text().strip()


def test_a_sweep_over_three_modes_survives_a_reboot_and_ends_in_the_profile_mode(board, tmp_path, small_seq):
    before = boot_id(board)
    events = []
    plan = DeployPlan(jetson_profile(board, tmp_path), suite(["15W", "MAXN_SUPER", "7W"]), small_seq, "sw",
                      tmp_path / "results", poll_s=0.3)
    store = deploy(plan, events.append)
    recs = store.read_records()
    assert [r["cell"]["power_mode"] for r in recs] == ["15W", "MAXN_SUPER", "7W"] and all(r["status"] == "ok" for r in recs)
    facts = {r["cell"]["power_mode"]: r["power_mode"] for r in recs}
    assert {m: f["id"] for m, f in facts.items()} == {"15W": 0, "MAXN_SUPER": 2, "7W": 3}
    assert facts["7W"]["clocks"]["cpu_online"] == 4 and facts["MAXN_SUPER"]["clocks"]["gpu_max_hz"] == 1020000000
    assert all(f["clocks_match"] for f in facts.values())
    watts = {r["cell"]["power_mode"]: r["power"]["mean_w"] for r in recs}
    assert watts == {"15W": pytest.approx(10.0), "MAXN_SUPER": pytest.approx(20.0), "7W": pytest.approx(6.0)}
    energy = [r["power"]["energy_per_frame_mj"] for r in recs]
    assert len({round(e) for e in energy}) == 3
    # 7W asked for a reboot: the host confirmed it, saw a new boot id, took the lock for the new boot
    assert Rebooting("7W") in events and Rebooted("7W") in events
    assert boot_id(board) != before
    # the board was in 15W already (the runner checks with nvpmodel -q): switches to MAXN_SUPER, 7W, back to 25W
    assert [e.mode for e in events if isinstance(e, PowerMode)] == ["MAXN_SUPER", "7W", "25W"]
    assert mode_now(board) == 1  # the profile's 25W at the end
    assert json.loads((store.root / "deploy.json").read_text())["boot_id"] == boot_id(board)
    assert PowerMode("25W", restored=True) in events


def test_a_crash_mid_sweep_then_resume_finishes_without_rerunning_cells(board, tmp_path, small_seq, monkeypatch):
    prof = jetson_profile(board, tmp_path, mode="15W")
    plan = DeployPlan(prof, suite(["25W", "MAXN_SUPER"], repeats=2), small_seq, "cr", tmp_path / "results", poll_s=0.3)

    class HostCrash(Exception):
        pass

    state = {"killed": False}
    real_alive = Deployment.alive

    def alive(self):  # the runner dies once after the first finished cell (the board stays in 25W)
        if not state["killed"] and self.store.read_records():
            subprocess.run(["kill", "-KILL", str(self.pid)], check=False)
            time.sleep(0.3)
            state["killed"] = True
        return real_alive(self)

    monkeypatch.setattr(Deployment, "alive", alive)

    def progress(e):  # then the host itself goes away right after switching to MAXN_SUPER
        if isinstance(e, PowerMode) and e.mode == "MAXN_SUPER":
            raise HostCrash()

    with pytest.raises(HostCrash):
        deploy(plan, progress)
    assert state["killed"] and mode_now(board) == 2  # left in MAXN_SUPER
    monkeypatch.setattr(Deployment, "alive", real_alive)
    local = tmp_path / "results" / "cr"
    done_before = {(r["cell_id"], r.get("repeat", 1)): r["finished_at"]
                   for r in map(json.loads, (local / "records.jsonl").read_text().splitlines())}
    assert len(done_before) >= 1
    store = deploy(DeployPlan(prof, plan.suite, small_seq, "cr", tmp_path / "results", poll_s=0.3), resume=True)
    recs = store.read_records()
    keys = [(r["cell_id"], r.get("repeat", 1)) for r in recs]
    assert len(keys) == len(set(keys)) == 4 and all(r["status"] == "ok" for r in recs)
    assert all(r["finished_at"] == done_before[k] for k, r in zip(keys, recs) if k in done_before)
    assert [r["cell"]["power_mode"] for r in recs] == ["25W", "MAXN_SUPER", "MAXN_SUPER", "25W"]
    assert mode_now(board) == 0  # the profile's 15W after the resumed deploy


def test_an_unknown_mode_name_fails_the_deploy_and_lists_the_boards_modes(board, tmp_path, small_seq):
    plan = DeployPlan(jetson_profile(board, tmp_path), suite(["15W", "10W"]), small_seq, "bad", tmp_path / "results")
    with pytest.raises(RemoteError) as e:
        deploy(plan)
    assert "10W not defined" in e.value.message and "15W, 25W, MAXN_SUPER, 7W" in e.value.message
    assert mode_now(board) == 0  # nothing was switched


def test_a_device_asking_for_a_mode_outside_the_sweep_is_refused():
    from harness.remote.modes import HostModes

    plan = type("P", (), {"suite": suite(["15W", "7W"]), "profile": type("Q", (), {"probe_root": "/"})()})()
    link = type("L", (), {"where": "root@board"})()  # no command: the check is made before any reaches the device

    with pytest.raises(DeviceDataError, match="does not sweep"):
        HostModes(link, plan, "/runs/x", lambda new_boot: None, lambda e: None).set("MAXN_SUPER; reboot")


def test_a_runner_that_keeps_asking_for_modes_is_refused_at_the_second_switch(board, tmp_path, small_seq):
    """The attack (issue 22): a runner that asked for 25W, MAXN_SUPER, 25W, ... without finishing a cell made the
    host switch forever (39 switches in 150 s), each request resetting the restart budget."""
    looping = tmp_path / "looping-python"  # the runtime's interpreter: the real runner first, then it only asks
    looping.write_text(f"""#!{sys.executable}
import json, os, subprocess, sys
args = sys.argv[1:]
if "--resume" not in args:
    os.execv(sys.executable, [sys.executable, *args])
path = os.path.join(args[args.index("--resume") + 1], "manifest.json")
m = json.load(open(path))
active = subprocess.run(["nvpmodel", "-q"], capture_output=True, text=True).stdout.splitlines()[0].split(": ")[1]
m["state"], m["wanted_mode"] = "awaiting_mode", next(x for x in m["suite"]["power_modes"] if x != active)
json.dump(m, open(path + ".tmp", "w"))
os.replace(path + ".tmp", path)
""")
    looping.chmod(0o755)
    prof = jetson_profile(board, tmp_path)
    prof = prof.model_copy(update={"host_runtime": prof.host_runtime.model_copy(update={"python": str(looping)})})
    plan = DeployPlan(prof, suite(["25W", "MAXN_SUPER"], repeats=3), small_seq, "loop", tmp_path / "results", poll_s=0.3)
    events = []
    t0 = time.monotonic()
    with pytest.raises(DeviceDataError) as e:
        deploy(plan, events.append)
    assert time.monotonic() - t0 < 120
    assert "the runner asked for power mode MAXN_SUPER without finishing a cell since the switch to 25W" in e.value.message
    assert e.value.message.startswith(f"root@127.0.0.1:{board.port}: ")
    # one switch (15W -> 25W), then the board stays in the profile's 25W; the lock is free again
    assert [e.mode for e in events if isinstance(e, PowerMode)] == ["25W", "25W"]
    assert mode_now(board) == 1 and not (tmp_path / "wd" / "lock.json").exists()


def test_a_reboot_that_never_comes_fails_the_switch_and_a_resume_does_not_take_the_mode(board, tmp_path, small_seq):
    """nvpmodel asked for a reboot, YES was confirmed, the board stayed up in the same boot: the host used to call it a
    lost link, retry, find `nvpmodel -q` naming 7W and measure 7W cells with ``rebooted: false``."""
    (board.root_dir / "etc/fake-jetson/no_reboot").write_text("")
    prof = jetson_profile(board, tmp_path)
    prof = prof.model_copy(update={"timeouts": prof.timeouts.model_copy(update={"reboot_s": 2.0})})
    before = boot_id(board)
    plan = DeployPlan(prof, suite(["7W"]), small_seq, "nr", tmp_path / "results", poll_s=0.3)
    events = []
    with pytest.raises(BenchmarkError, match="power mode 7W needs a reboot; nvpmodel's was confirmed but the board is "
                                             "still up in the same boot"):
        deploy(plan, events.append)
    assert Rebooting("7W") in events and not any(isinstance(e, Rebooted) for e in events)
    local = tmp_path / "results" / "nr"
    assert not (local / "records.jsonl").exists() or not RunStore(local).read_records()
    session = json.loads((local / "deploy.json").read_text())
    assert session["reboot_pending"]["mode"] == "7W" and session["reboot_pending"]["boot_id"] == before == boot_id(board)
    assert mode_now(board) == 1 and not (tmp_path / "wd" / "lock.json").exists()  # back in 25W, the board is free
    # the board is left naming 7W in the same boot (say the restore had failed): a resume refuses before a runner starts
    (board.root_dir / "var/lib/fake-jetson/nvpmodel").write_text("3\n")
    events.clear()
    with pytest.raises(BenchmarkError, match="names power mode 7W, which needs a reboot that never came"):
        deploy(DeployPlan(prof, plan.suite, small_seq, "nr", tmp_path / "results", poll_s=0.3),
               events.append, resume=True)
    assert not any(e.name == "started" for e in events) and not (tmp_path / "wd" / "lock.json").exists()
