"""The preflight's facts are the device's words: parsed in linear time, bounded, and judged without crashing."""

import pytest

from harness.config.profiles import DeviceProfile
from harness.remote.preflight import MAX_FACT_CHARS, evaluate, parse_facts
from harness.testing.attacks import attacks, timed

GOOD = """model=NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super
l4t=# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64
boot_id=6f1c2d3e-0000-4000-8000-000000000000
dla_cores=0
disk_free_kb=41943040
mem_total_kb=7802464
swap_total_kb=3901216
docker=/usr/bin/docker
docker_runtimes={"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}
nvpmodel_query=NV Power Mode: 15W
arch=aarch64
cpu_stat_a=cpu  1000 0 500 90000 10 0 5 0 0 0
cpu_stat_b=cpu  1010 0 505 90400 10 0 5 0 0 0
loadavg=0.12
nproc=6
"""
PROFILE = {"name": "nano", "kind": "jetson", "expect": {"board_contains": "Orin Nano", "l4t_major": 36},
           "power_mode": {"nvpmodel": "15W"}}

FACT_ATTACKS = attacks("model=", "l4t=# R36 ", "=", "nvpmodel_query=NV Power Mode: ", "cpu_stat_a=cpu ")
FACT_ATTACKS["good facts, then 4 MiB of one value"] = GOOD + "docker_runtimes=" + "nvidia" * (700 << 10)


@pytest.mark.parametrize("name", sorted(FACT_ATTACKS))
def test_the_facts_parser_is_linear_on_hostile_output(name):
    facts = timed(parse_facts, FACT_ATTACKS[name])
    assert all(len(k) <= 64 and len(v) <= MAX_FACT_CHARS for k, v in facts.items())
    checks = timed(evaluate, DeviceProfile.model_validate(PROFILE), facts)
    assert checks[0].name == "reachable"


def test_good_facts_pass():
    checks = {c.name: c for c in evaluate(DeviceProfile.model_validate(PROFILE), parse_facts(GOOD))}
    assert all(checks[n].ok for n in ("board", "l4t", "disk", "memory", "nvpmodel")), checks
    assert checks["quiet"].detail.startswith("quiet: other processes")


@pytest.mark.parametrize("key, value", [
    ("disk_free_kb", "lots"), ("disk_free_kb", "9" * 3999), ("mem_total_kb", "-5"), ("mem_total_kb", "1e999"),
    ("nproc", "9" * 3999), ("nproc", "\u0663"), ("loadavg", "1e999"), ("loadavg", "nan"),
    ("cpu_stat_b", "cpu  " + " ".join(["9" * 400] * 10)), ("cpu_stat_a", "cpu 1 2 x 4 5"),
])
def test_hostile_numeric_facts_are_judged_not_raised(key, value):
    facts = parse_facts(GOOD.replace(f"\n{key}=", f"\n{key}={value}\n#=", 1))
    assert facts[key] == value[:MAX_FACT_CHARS]
    checks = {c.name: c for c in timed(evaluate, DeviceProfile.model_validate(PROFILE), facts)}
    assert set(checks) >= {"disk", "memory", "quiet"}


def test_the_facts_script_never_blocks_on_fifos_and_names_a_fifo_conf(tmp_path):
    """A FIFO as the board's model file and as nvpmodel.conf (which nvpmodel would read): the script reads
    neither, and the nvpmodel check names the file instead of the host timing out on the preflight command."""
    import os
    import subprocess
    import time

    from harness.remote.preflight import FACTS_SCRIPT
    from harness.testing.fakes.jetson import write_fake_jetson

    board = write_fake_jetson(tmp_path / "board")
    (board / "proc/device-tree").mkdir(parents=True)
    os.mkfifo(board / "proc/device-tree/model")
    (board / "etc/nvpmodel.conf").unlink()
    os.mkfifo(board / "etc/nvpmodel.conf")
    env = {"HARNESS_PROBE_ROOT": str(board), "FAKE_JETSON_ROOT": str(board),
           "PATH": f"{board / 'usr/sbin'}:{board / 'usr/bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    t0 = time.monotonic()
    out = subprocess.run(["sh", "-c", FACTS_SCRIPT], capture_output=True, text=True, env=env, timeout=60).stdout
    assert time.monotonic() - t0 < 5  # one second of it is the /proc/stat sample
    facts = parse_facts(out)
    assert (facts["model"], facts["nvpmodel_conf"], facts["nvpmodel"]) == ("", "other", "")
    check = next(c for c in evaluate(DeviceProfile.model_validate(PROFILE), facts) if c.name == "nvpmodel")
    assert not check.ok and check.detail.startswith("/etc/nvpmodel.conf is not a regular file")
    (board / "etc/nvpmodel.conf").unlink()
    (board / "etc/nvpmodel.conf").symlink_to(tmp_path / "absent")  # a dangling link: nvpmodel fails, never waits
    facts = parse_facts(subprocess.run(["sh", "-c", FACTS_SCRIPT], capture_output=True, text=True, env=env,
                                       timeout=60).stdout)
    assert facts["nvpmodel_conf"] == "missing"


def test_preflight_over_the_in_process_connection_judges_a_fake_board(tmp_path):
    """The whole preflight (the facts script as the link runs it, its parse, the checks) in-process: the sshd tier
    (test_connection.py's doctor tests) proves the same over SSH."""
    from harness.remote.preflight import run_preflight
    from harness.testing.fakes.connection import FakeConnection
    from harness.testing.fakes.jetson import write_fake_jetson

    board = write_fake_jetson(tmp_path / "board")
    prof = DeviceProfile.model_validate({**PROFILE, "runtime": "host", "connection": {"host": "127.0.0.1"},
                                         "probe_root": str(board)})
    conn = FakeConnection(board, home=tmp_path)
    facts, checks = run_preflight(conn, prof)
    assert len(conn.commands) == 1 and conn.commands[0][0] == "env"  # one command: the facts script
    by = {c.name: c for c in checks}
    assert {"disk", "memory", "quiet"} <= set(by)
    assert facts["nvpmodel"] == "15W" and by["nvpmodel"].ok and by["reachable"].ok
    # this fake tree has no device-tree model and no nv_tegra_release: the board checks say what the profile expects
    assert not by["board"].ok and "Orin Nano" in by["board"].detail
    assert not by["l4t"].ok and "r36" in by["l4t"].detail
