"""The playbook applied for real to a fresh Debian board (podman container, sshd on loopback).

First run converges, second run changes nothing; Jetson-only tasks are skipped there.
Then, with Jetson facts set (extra vars) and the fake Jetson tools in place, a check-mode
run walks the Jetson tasks (power mode by name, jetson_clocks, NVIDIA runtime, jtop).
Run alone: ``pytest -m provision``.
"""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
import yaml

from harness.provision import provision
from harness.testing.infra.podman import podman_reason
from tests.cli.conftest import HARNESS
from tests.provision.board import USER, start_board

pytestmark = [pytest.mark.provision, pytest.mark.slow]

SMALL_SWAP = "harness_base_swap_size_mb=64"
# a guard against a hung ansible-playbook, not a speed limit (harness provision itself has none): a converge
# installs packages, and was raised from 240 s once already; a machine half as fast needs room
APPLY_TIMEOUT_S = 900
JETSON_FACTS = {"is_jetson": True, "board_model": "NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super",
                "l4t_major": 36, "l4t_revision": "4.3"}
JETSON_TASKS = [  # gated on harness_facts_is_jetson
    "harness_container : NVIDIA runtime as docker's default (Jetson, JetPack 5 and 6)",
    "harness_jtop : Install jetson-stats system-wide, pinned",
    "harness_power : Power mode by name (Jetson)",
    "harness_power : Clocks (Jetson)",
]


def task_states(output: str) -> dict[str, set[str]]:
    """Task name -> the result words ansible-playbook printed for it (ok, changed, skipping, included, fatal)."""
    states: dict[str, set[str]] = {}
    current = None
    for line in output.splitlines():
        m = re.match(r"^(?:TASK \[(.*)|(RUNNING HANDLER \[.*))\] \*+$", line)
        if m:
            current = m[1] or m[2]
            states.setdefault(current, set())
        elif current and (m := re.match(r"^(ok|changed|skipping|included|fatal|failed): ", line)):
            states[current].add(m[1])
    return states


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    reason = podman_reason()
    if reason:
        pytest.skip(reason)
    b = start_board(tmp_path_factory.mktemp("board"))
    yield b
    b.remove()


def harness_timed(*args: str, timeout_s: float) -> tuple[int, str, list[str]]:
    """The ``harness`` console script, its output, and the tasks that took over 10 s (to explain a slow run)."""
    t0 = last = time.monotonic()
    task, slow, lines = "start", [], []
    p = subprocess.Popen([str(HARNESS), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         text=True)
    try:
        for line in p.stdout:
            lines.append(line)
            if line.startswith(("TASK [", "RUNNING HANDLER [", "PLAY RECAP")):
                if time.monotonic() - last > 10:
                    slow.append(f"{task} {time.monotonic() - last:.0f} s")
                task, last = line.split(" ***")[0], time.monotonic()
            if time.monotonic() - t0 > timeout_s:
                raise TimeoutError(f"harness {' '.join(args)} ran past {timeout_s} s; slow tasks: {slow}")
        return p.wait(timeout=30), "".join(lines), slow
    finally:
        if p.poll() is None:
            p.kill()


@pytest.fixture(scope="module")
def first_run(board, tmp_path_factory):
    """``harness provision --profile`` (the console script) on the fresh board, podman as its engine."""
    prof = board.profile(tmp_path_factory.mktemp("prof") / "board.yaml", runtime="podman")
    t0 = time.monotonic()
    rc, out, slow = harness_timed("provision", "--profile", str(prof), "-e", SMALL_SWAP, timeout_s=APPLY_TIMEOUT_S)
    print(f"first converge: {time.monotonic() - t0:.1f} s; tasks over 10 s: {slow or 'none'}")
    return rc, out, prof


def test_first_run_converges(first_run, board):
    rc, out, _ = first_run
    assert rc == 0, out[-4000:]
    recap = re.search(r"^board\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", out, re.MULTILINE)
    _ok, changed, unreachable, failed = map(int, recap.groups())
    assert changed > 0 and unreachable == 0 and failed == 0
    states = task_states(out)
    for name in JETSON_TASKS:
        assert states[name] == {"skipping"}, (name, states.get(name))
    assert states["harness_base : Say why swap stays off here"] == {"ok"}  # a container may not swapon
    if board.systemd:
        assert states["harness_base : Cap the journal size"] == {"changed"}
        assert states["RUNNING HANDLER [harness_base : Restart journald"] == {"changed"}


def test_board_has_what_the_harness_needs(first_run, board):
    home = f"/home/{USER}"
    board.sh(f"test -d {home}/edge-harness/runs && test -d {home}/edge-harness/logs "
             f"&& [ \"$(stat -c %U {home}/edge-harness)\" = {USER} ]")
    board.sh("visudo -c -f /etc/sudoers.d/edge-harness && [ \"$(stat -c %a /etc/sudoers.d/edge-harness)\" = 440 ]")
    board.sh("logrotate --debug /etc/logrotate.d/edge-harness")
    board.sh(f"grep -q '{home}/edge-harness/runs/\\*.log' /etc/logrotate.d/edge-harness")
    board.sh("[ \"$(blkid -o value -s TYPE /swapfile)\" = swap ] && [ \"$(stat -c %a /swapfile)\" = 600 ] "
             "&& grep -q '^/swapfile none swap sw' /etc/fstab")
    board.sh("command -v podman")
    if board.systemd:
        board.sh("grep -qx 'SystemMaxUse=500M' /etc/systemd/journald.conf.d/edge-harness.conf "
                 "&& systemctl is-active --quiet systemd-journald")


def test_second_run_changes_nothing(first_run, board, tmp_path):
    """Again, this time through a user's inventory whose host names the profile (``harness_profile``)."""
    _, _, prof = first_run
    inv = tmp_path / "inventory.yaml"
    inv.write_text(yaml.safe_dump({"all": {"children": {"lab": {"hosts": {
        "board": {"ansible_host": "127.0.0.1", "harness_profile": str(prof)}}}}}}))
    lines: list[str] = []
    t0 = time.monotonic()
    res = provision(inventory=inv, limit="lab", extra_vars=[SMALL_SWAP], on_line=lines.append, timeout_s=APPLY_TIMEOUT_S)
    took_s = time.monotonic() - t0
    assert res.ok, "\n".join(lines[-80:])
    r = res.recap["board"]
    assert (r.changed, r.failed, r.unreachable) == (0, 0, 0), "\n".join(line for line in lines if "changed" in line)
    print(f"second run: {took_s:.1f} s")


def test_sudoers_rule_allows_exactly_the_harness_commands(first_run, board):
    board.sh("cp -a /opt/fake-jetson/. /")  # /usr/sbin/nvpmodel, /usr/bin/jetson_clocks exist now
    board.sh("mv /etc/sudoers.d/90-jetson /root/90-jetson")  # without the test image's blanket rule ...
    try:
        def allowed(cmd: str) -> bool:
            return board.sh(f"sudo -l -U {USER} {cmd} >/dev/null 2>&1", check=False).returncode == 0

        for cmd in ("/usr/sbin/nvpmodel -q", "/usr/sbin/nvpmodel -m 3", "/usr/bin/jetson_clocks", "/usr/bin/jetson_clocks --show",
                    "/usr/bin/jetson_clocks --restore /var/lib/edge-harness/jetson_clocks.conf"):
            assert allowed(cmd), cmd
        for cmd in ("/usr/sbin/nvpmodel -m 3 -f /etc/shadow", "/usr/sbin/nvpmodel -m 100", "/usr/bin/jetson_clocks --store /etc/shadow",
                    "/usr/bin/jetson_clocks --restore /tmp/x", "/bin/sh", "/usr/bin/apt-get install x"):
            assert not allowed(cmd), cmd
    finally:
        board.sh("mv /root/90-jetson /etc/sudoers.d/90-jetson")


def test_check_mode_as_a_jetson_walks_the_jetson_tasks(first_run, board, tmp_path):
    board.sh("cp -a /opt/fake-jetson/. /")
    prof = board.profile(tmp_path / "orin.yaml", name="fake-orin-nano", kind="jetson", runtime="docker",
                         expect={"l4t_major": 36}, container={"nvidia_runtime": True, "mount_jtop_socket": True},
                         telemetry={"prefer": ["jtop", "none"]}, power_mode={"nvpmodel": "7W", "jetson_clocks": True})
    # NVIDIA's L4T apt repository (nvidia-container-toolkit) is not reachable here: Debian's docker.io stands in.
    extra = {"harness_facts_override": JETSON_FACTS, "harness_container_jetson_packages": {"docker": ["docker.io"]}}
    lines: list[str] = []
    res = provision(str(prof), check=True, extra_vars=[json.dumps(extra), SMALL_SWAP], on_line=lines.append,
                    timeout_s=APPLY_TIMEOUT_S)
    out = "\n".join(lines)
    assert res.ok, out[-4000:]
    states = task_states(out)
    words = " ".join(out.split())  # messages as one line (the yaml callback wraps long ones)
    for name in JETSON_TASKS:
        assert states[name] != {"skipping"}, (name, states.get(name))
    assert "Jetson NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super, L4T r36.4.3 (JetPack 6)" in words
    assert states["harness_facts : Check the L4T major the profile expects"] == {"ok"}
    assert "power mode 15W -> 7W (ID 3 on this board)" in words  # the name resolved from /etc/nvpmodel.conf
    assert states["harness_power : Decide whether the clocks are locked"] == {"ok"}
    assert states["harness_container : Make the NVIDIA runtime docker's default"] == {"changed"}
    assert states["harness_jtop : Install jetson-stats system-wide, pinned"] == {"changed"}
    assert "jetson-stats 4.3.2 for L4T r36" in words  # as docker/l4t-r36.args
    if board.systemd:  # the units that would be written, the boot target read
        assert states["harness_jtop : Install the jtop unit where jetson-stats did not"] == {"changed"}
        assert states["harness_power : Install the jetson_clocks unit"] == {"changed"}
        assert states["harness_headless : Read the default boot target"] == {"ok"}
    # check mode changed nothing on the board
    assert board.sh("nvpmodel -q").stdout.splitlines()[0] == "NV Power Mode: 15W"
    board.sh("test ! -e /etc/docker/daemon.json && test ! -e /var/lib/edge-harness && ! command -v docker "
             "&& test ! -e /etc/systemd/system/harness-jetson-clocks.service")


def test_unknown_host_key_is_refused_unless_accepted(first_run, board, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    prof = board.profile(tmp_path / "board.yaml", connection={
        "host": "127.0.0.1", "user": USER, "port": board.port, "key_file": str(board.client_key), "known_hosts": str(empty)})
    rc, out, _ = harness_timed("provision", "--profile", str(prof), timeout_s=APPLY_TIMEOUT_S)
    assert rc == 1 and "Host key verification failed" in out, out[-3000:]
    assert "fix: the device's host key is not in the profile's known_hosts" in out and "--accept-new-host-key" in out
    assert empty.read_text() == ""
    # Opting in pins the key. (A failing L4T expectation ends the run right after the facts: no need to apply it all.)
    stop_early = json.dumps({"harness_facts_override": {"is_jetson": True, "l4t_major": 35}, "harness_facts_expected_l4t_major": 36})
    res = provision(str(prof), accept_new_host_key=True, check=True, extra_vars=[stop_early], on_line=None,
                    timeout_s=APPLY_TIMEOUT_S)
    assert res.recap["board"].unreachable == 0 and res.recap["board"].failed == 1
    assert "this board runs L4T r35 but the profile expects r36" in res.output
    assert f"[127.0.0.1]:{board.port} ssh-ed25519 " in empty.read_text()
