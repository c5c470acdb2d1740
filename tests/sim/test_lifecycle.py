"""harness sim start / status / stop: a loopback board that outlives the CLI, idempotent, cleaned up when stale."""

import json
import os
import signal
import stat
import subprocess
import time

import pytest
import yaml

from harness.config.profiles import load_profile
from harness.errors import ProfileError
from harness.sim.lifecycle import find


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_start_twice_is_idempotent_and_stop_leaves_no_process_and_no_state(sim_state, run_harness):
    p = run_harness("sim", "start", "orin-nano")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "started simulated orin-nano board" in p.stdout and "profile: sim-orin-nano" in p.stdout
    assert "harness doctor --profile sim-orin-nano" in p.stdout
    sim = find("orin-nano")
    pids = (sim.info["pid"], sim.info["sshd_pid"])
    assert all(map(alive, pids))  # the CLI has exited; the board has not
    root = sim_state / "sim" / "orin-nano"
    for key in ("client_key", "host_key", "authorized_keys"):
        assert stat.S_IMODE((root / key).stat().st_mode) == 0o600
    prof = yaml.safe_load((root / "profile.yaml").read_text())
    assert prof["simulated"] is True and prof["connection"]["host"] == "127.0.0.1"
    assert prof["connection"]["known_hosts"] == str(root / "known_hosts")  # the generated host key, pinned
    host_pub = (root / "host_key.pub").read_text().split()[1]
    assert host_pub in (root / "known_hosts").read_text()
    assert load_profile("sim-orin-nano").simulated is True  # found by name

    again = run_harness("sim", "start", "orin-nano")
    assert again.returncode == 0 and "already running" in again.stdout
    assert again.stdout.splitlines()[1:] == p.stdout.splitlines()[1:]  # the same profile
    assert find("orin-nano").info["pid"] == pids[0]
    st = run_harness("sim", "status", "--json")
    assert [(b["name"], b["running"]) for b in json.loads(st.stdout)["rows"]] == [("orin-nano", True)]

    stop = run_harness("sim", "stop", "orin-nano")
    assert stop.returncode == 0 and "stopped simulated board 'orin-nano'" in stop.stdout
    deadline = time.time() + 10
    while any(map(alive, pids)) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, pids)) and not root.exists()
    with pytest.raises(ProfileError, match="no simulated board 'orin-nano' is running"):
        load_profile("sim-orin-nano")


def test_a_stale_board_is_cleaned_up_on_start(sim_state, run_harness):
    assert run_harness("sim", "start", "agx-orin", "--name", "b1").returncode == 0
    old = find("b1")
    os.kill(old.info["pid"], signal.SIGKILL)  # the daemon dies; its sshd is left listening
    time.sleep(0.3)
    st = run_harness("sim", "status")
    assert "stale" in st.stdout
    p = run_harness("sim", "start", "agx-orin", "--name", "b1")
    assert p.returncode == 0 and "started simulated agx-orin board" in p.stdout, p.stdout + p.stderr
    new = find("b1")
    assert new.info["pid"] != old.info["pid"] and new.alive
    deadline = time.time() + 10
    while alive(old.info["sshd_pid"]) and time.time() < deadline:
        time.sleep(0.1)
    assert not alive(old.info["sshd_pid"])  # the orphaned sshd was ended too
    assert load_profile("sim-b1").expect.board_contains == "AGX Orin"


def test_the_board_reports_its_mode_and_power_follows_nvpmodel(sim_state, run_harness):
    assert run_harness("sim", "start", "orin-nano").returncode == 0
    prof = load_profile("sim-orin-nano")
    c = prof.connection
    ssh = ["ssh", "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={c.known_hosts}", "-o", "StrictHostKeyChecking=yes",
           "-i", c.key_file, "-p", str(c.port), f"{c.user}@127.0.0.1"]

    def on_board(cmd):
        r = subprocess.run([*ssh, cmd], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout

    assert on_board("nvpmodel -q").startswith("NV Power Mode: 15W")
    line = on_board("timeout 2 tegrastats --interval 200 | head -n 1")
    assert "VDD_IN" in line and "mW/" in line
    on_board("nvpmodel -m 3")  # 7W: fewer cores, lower clocks
    board = prof.probe_root
    assert open(f"{board}/sys/devices/system/cpu/online").read().strip() == "0-3"
    assert on_board("nvpmodel -q").startswith("NV Power Mode: 7W")
