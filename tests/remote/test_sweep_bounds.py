"""A board cannot drive the host through a power-mode sweep (issue 22): the host's side of the sweep (``follow``,
``HostModes``, ``Deployment``) against a fake L4T on this machine (the fake nvpmodel run as the SSH link would run
it) and a scripted runner, in-process: no sshd, no real runner. The end-to-end attacks are in test_sweep_deploy.py."""

import os
import shlex
import subprocess
import time
import uuid

import pytest

from harness.config.profiles import DeviceProfile
from harness.config.suite import Suite
from harness.errors import BenchmarkError, DeviceDataError, LinkError
from harness.remote.deploy import DeployPlan, Deployment, State
from harness.remote.link import BoardLink
from harness.remote.modes import HostModes, planned_entries
from harness.remote.session import Session
from harness.testing.fakes.jetson import write_fake_jetson
from harness.testing.fakes.runs import record
from harness.testing.fakes.connection import FakeConnection

ORDER = {"15W": 0, "25W": 1, "MAXN_SUPER": 2, "7W": 3}  # the fake board's ids


class ScriptedRunner:
    """A runtime whose runner is a script: each start, ``step(n)`` says what the device shows next (a manifest
    state, the mode it waits for, records it finished); it is never alive when polled."""

    engine = ""
    name = "host"

    def __init__(self, d, step) -> None:
        self.d, self.step, self.starts = d, step, 0
        self.manifest: dict = {}

    def start(self, conn, workdir, run_id, argv):
        self.starts += 1
        state, wanted, recs = self.step(self.starts)
        self.d.store.put_records(recs)
        self.manifest = {"state": state, "wanted_mode": wanted, "cells": []}
        return 1000 + self.starts, f"{workdir}/runs/{run_id}.log"

    def alive(self, conn, handle) -> bool:
        return False

    def logs(self, conn, handle, log, lines) -> str:
        return "scripted runner"

    def stop(self, conn, handle) -> None:
        pass


def suite(modes, repeats=1, models=("yolov8n",)):
    return Suite.model_validate({"name": "sweep", "frames": 6, "warmup": 2, "imgsz": 160, "repeats": repeats,
                                 "power_modes": modes, "experiments": [{"name": "baseline", "models": list(models)}]})


@pytest.fixture
def board(tmp_path):
    def make(reboot_modes=(), never=False):
        root = write_fake_jetson(tmp_path / "board", reboot_modes=tuple(ORDER[m] for m in reboot_modes),
                                 reboot_never_happens=never)
        (root / "proc/sys/kernel/random").mkdir(parents=True, exist_ok=True)
        (root / "proc/sys/kernel/random/boot_id").write_text(str(uuid.uuid4()) + "\n")
        return root
    return make


def deployment(tmp_path, root, s, reboot_s=0.4, max_restarts=2) -> Deployment:
    """A Deployment in state running on the fake board (as preflight, lock, ship and start leave it)."""
    prof = DeviceProfile.model_validate({
        "name": "fake-nano", "kind": "jetson", "runtime": "host", "connection": {"host": "127.0.0.1"},
        "probe_root": str(root), "power_mode": {"nvpmodel": "25W"}, "timeouts": {"reboot_s": reboot_s},
        "limits": {"max_runner_restarts": max_restarts}})
    d = Deployment(DeployPlan(prof, s, tmp_path / "seq", "sw", tmp_path / "results", poll_s=0.01))
    link = FakeConnection(root)
    d.link = BoardLink(lambda: link, str(root)).open()  # a reconnect gets the same stand-in back
    d.workdir = str(tmp_path / "wd")
    (tmp_path / "wd/runs/sw").mkdir(parents=True)
    d.boot_id = d.current_boot_id()
    d.modes = HostModes(d.link, d.plan, d.remote_run_dir, d._mode_persist, d.progress)
    d.modes.control._root = True  # the fake nvpmodel needs no sudo
    d.mode_at_start = d.modes.resolve()
    d.state = State.RUNNING
    return d


def mode_now(root) -> int:
    state = root / "var/lib/fake-jetson/nvpmodel"
    return int(state.read_text()) if state.exists() else 0


def with_runner(d, step) -> ScriptedRunner:
    runner = ScriptedRunner(d, step)
    d.runtime = runner
    d.pull = lambda: runner.manifest
    d.start(resume=True)
    return runner


def finished(s, mode, n, repeat=1):
    """The n-th finished record of the run (a cell of ``mode``; a new finish time each call)."""
    cell = next(c for c in s.instances() if c.power_mode == mode and c.repeat == repeat)
    rec = record("sw", "fake-nano", cell, p50=5.0)
    rec["finished_at"] = f"2025-01-01T00:00:{n:02d}"
    return rec


def test_the_plan_enters_each_mode_once_per_pass_and_the_turning_mode_once_for_two():
    assert planned_entries(suite(["15W", "25W", "7W"])) == {"15W": 1, "25W": 1, "7W": 1}
    # snake: 15W 25W 7W | 7W 25W 15W | 15W 25W 7W
    assert planned_entries(suite(["15W", "25W", "7W"], repeats=3, models=("yolov8n", "yolo11n"))) == {
        "15W": 2, "25W": 3, "7W": 2}


def test_a_runner_asking_for_mode_after_mode_without_finishing_a_cell_fails_at_the_second_switch(tmp_path, board):
    """The attack: the runner alternated 25W / MAXN_SUPER; each request reset the restart budget (39 switches in
    150 s on loopback; endless reboots with a reboot mode)."""
    root = board()
    s = suite(["25W", "MAXN_SUPER"], repeats=3)
    d = deployment(tmp_path, root, s)
    runner = with_runner(d, lambda n: ("awaiting_mode", ["25W", "MAXN_SUPER"][n % 2 == 0], []))
    t0 = time.monotonic()
    with pytest.raises(DeviceDataError) as e:
        d.follow()
    assert time.monotonic() - t0 < 10
    assert e.value.message.startswith("root@fake-board: the runner asked for power mode MAXN_SUPER without finishing a "
                                      "cell since the switch to 25W")
    assert "harness logs" in e.value.hint
    switches = [c for c in d.conn.commands if c[:2] == ["nvpmodel", "-m"]]
    assert len(switches) == 1 and runner.starts == 2 and mode_now(root) == ORDER["25W"]


def test_a_runner_that_fakes_progress_gets_each_mode_only_as_often_as_the_plan_enters_it(tmp_path, board):
    root = board()
    s = suite(["25W", "MAXN_SUPER"], repeats=2)  # 25W MAXN | MAXN 25W: 25W twice, MAXN_SUPER once
    d = deployment(tmp_path, root, s)
    modes = ["25W", "MAXN_SUPER", "25W", "MAXN_SUPER"]
    runner = with_runner(d, lambda n: ("awaiting_mode", modes[(n - 1) % 4], [finished(s, "25W", n)] if n > 1 else []))
    with pytest.raises(DeviceDataError, match=r"asked for power mode MAXN_SUPER a 2\. time; this sweep enters it 1 "
                                              r"time\(s\) \(2 repeat\(s\) over 25W, MAXN_SUPER\)"):
        d.follow()
    assert [c[2] for c in d.conn.commands if c[:2] == ["nvpmodel", "-m"]] == ["1", "2", "1"]
    assert runner.starts == 4


def test_asking_again_for_the_mode_the_board_is_in_spends_the_restart_budget(tmp_path, board):
    root = board()
    s = suite(["15W", "25W"])
    d = deployment(tmp_path, root, s, max_restarts=2)
    runner = with_runner(d, lambda n: ("awaiting_mode", "15W", []))  # the board is in 15W all along
    with pytest.raises(BenchmarkError, match="the runner asked for power mode 15W, which the board is in, 3 times "
                                             "without finishing a cell; its log ends: scripted runner"):
        d.follow()
    # the first start had no statement (the runner must ask once); then 2 restarts allowed, the third refused
    assert runner.starts == 4 and not any(c[:2] == ["nvpmodel", "-m"] for c in d.conn.commands)


def test_crashes_and_mode_requests_share_one_restart_budget(tmp_path, board):
    """A runner that dies, asks for its mode, dies again ... never finishing a cell: mode requests used to reset
    the crash budget."""
    root = board()
    s = suite(["15W", "25W"])
    d = deployment(tmp_path, root, s, max_restarts=3)
    runner = with_runner(d, lambda n: ("running", None, []) if n % 2 else ("awaiting_mode", "15W", []))
    with pytest.raises(BenchmarkError, match="the runner stopped 4 times without finishing a cell"):
        d.follow()
    assert runner.starts <= 8


def test_a_sweep_that_finishes_cells_between_switches_runs_to_the_end(tmp_path, board):
    root = board()
    s = suite(["25W", "MAXN_SUPER", "7W"], repeats=2)  # 25W MAXN 7W | 7W MAXN 25W: five entries
    d = deployment(tmp_path, root, s)
    entries = ["25W", "MAXN_SUPER", "7W", "MAXN_SUPER", "25W"]

    def step(n):
        if n == 1:
            return "awaiting_mode", "25W", []
        mode, repeat = entries[n - 2], 1 if n - 2 < 3 else 2
        if n - 1 < len(entries):
            return "awaiting_mode", entries[n - 1], [finished(s, mode, n, repeat)]
        return "complete", None, [finished(s, mode, n, repeat)]

    runner = with_runner(d, step)
    d.follow()
    assert [c[2] for c in d.conn.commands if c[:2] == ["nvpmodel", "-m"]] == ["1", "2", "3", "2", "1"]
    assert runner.starts == 6 and mode_now(root) == ORDER["25W"]


# --- a reboot that is confirmed but never happens -----------------------------------------------------------------

def test_a_confirmed_reboot_that_never_comes_fails_the_switch_and_is_remembered(tmp_path, board):
    root = board(reboot_modes=("7W",), never=True)
    d = deployment(tmp_path, root, suite(["15W", "7W"]), reboot_s=0.3)
    before = d.boot_id
    t0 = time.monotonic()
    with pytest.raises(BenchmarkError) as e:
        d.set_mode("7W")
    assert time.monotonic() - t0 < 5
    assert "power mode 7W needs a reboot; nvpmodel's was confirmed but the board is still up in the same boot" in e.value.message
    assert before in e.value.message and "reboot it by hand" in e.value.hint
    assert mode_now(root) == ORDER["7W"]  # nvpmodel -q names 7W: the trap
    session = Session.read(d.store.root)
    assert session.reboot_pending.mode == "7W" and session.reboot_pending.boot_id == before
    # a retry in this deploy (or its follow loop) refuses the mode: the board names it, in the same boot
    with pytest.raises(BenchmarkError, match="names power mode 7W, which needs a reboot that never came"):
        d.set_mode("7W")
    # restoring the profile's mode after the failure works (25W needs no reboot); another reboot mode is not tried
    d.restore_mode()
    assert mode_now(root) == ORDER["25W"]
    assert not (d.store.root / "records.jsonl").exists()


def test_a_resumed_deploy_refuses_a_pending_mode_until_the_board_has_booted(tmp_path, board):
    root = board(reboot_modes=("7W",), never=True)
    d = deployment(tmp_path, root, suite(["15W", "7W"]), reboot_s=0.3)
    real, calls = d.link.current_boot_id, []

    def gone():  # the board answers once (the boot the reboot is asked in), then never again
        calls.append(1)
        if len(calls) > 1:
            raise LinkError("root@fake-board: unreachable")
        return real()

    d.link.current_boot_id = gone
    with pytest.raises(LinkError, match="no reboot seen 0.3 s after `nvpmodel -m` for 7W"):  # detached: resume later
        d.modes.reboot_into("7W")
    assert mode_now(root) == ORDER["7W"]
    pending = Session.read(d.store.root).reboot_pending
    assert pending is not None and pending.mode == "7W"

    # deploy --resume: the board answers, still in the same boot and naming 7W: refused at preflight
    again = deployment(tmp_path / "again", root, suite(["15W", "7W"]))
    again.store = d.store
    again.modes.pending = Session.read(d.store.root).reboot_pending
    assert again.boot_id == pending.boot_id
    with pytest.raises(BenchmarkError, match="names power mode 7W, which needs a reboot that never came"):
        again.modes.settle_pending(again.boot_id)
    # the user reboots the board: the mode counts now, and the statement says it came with a reboot
    (root / "proc/sys/kernel/random/boot_id").write_text(str(uuid.uuid4()) + "\n")
    again.boot_id = again.current_boot_id()
    assert again.modes.settle_pending(again.boot_id) is True and again.reboot_pending is None
    statement = again.set_mode("7W")
    assert statement["name"] == "7W" and statement["switched"] is False


def test_a_late_reboot_seen_on_the_retry_counts_and_takes_the_lock_for_the_new_boot(tmp_path, board):
    root = board(reboot_modes=("7W",), never=True)
    d = deployment(tmp_path, root, suite(["15W", "7W"]), reboot_s=0.3)
    with pytest.raises(BenchmarkError):
        d.set_mode("7W")
    (root / "proc/sys/kernel/random/boot_id").write_text(str(uuid.uuid4()) + "\n")  # the board rebooted after all
    statement = d.set_mode("7W")
    assert statement["rebooted"] is True and statement["boot_id"] == d.current_boot_id() == d.boot_id
    assert d.held["boot_id"] == d.boot_id and Session.read(d.store.root).reboot_pending is None
