"""Power-mode sweeps run locally (`harness run` on a board): a fake L4T (nvpmodel, nvpmodel.conf, sysfs clocks and
an INA3221 whose input current follows the mode) on this machine."""

import os
import subprocess
import time

import pytest

from harness.results.store import RunStore
from harness.testing.fakes import sysfs as fake_sysfs
from harness.testing.fakes.jetson import write_fake_jetson
from tests.cli.conftest import HARNESS, harness

pytestmark = pytest.mark.slow

SWEEP = """
name: sweep
frames: 6
warmup: 2
imgsz: 160
min_duration_s: 0.6
power_modes: [{modes}]
experiments:
  - name: baseline
    models: [yolov8n]
"""
RAIL_MA = {0: 2000, 1: 3000, 2: 4000, 3: 1200}  # 15W, 25W, MAXN_SUPER, 7W: VDD_IN at 5 V -> 10, 15, 20, 6 W


def fake_board(tmp_path, reboot_modes=()):
    sysroot = tmp_path / "sys-root"
    hwmon = fake_sysfs.ina3221_hwmon(sysroot, fake_sysfs.ORIN_NANO_RAILS)[0]
    board = write_fake_jetson(tmp_path / "board", sysfs=sysroot, rail_ma=RAIL_MA, rail_file=hwmon / "curr1_input",
                              reboot_modes=reboot_modes)
    env = {"HARNESS_SYSFS_ROOT": str(sysroot), "FAKE_JETSON_ROOT": str(board), "COLUMNS": "160",
           "PATH": f"{board / 'usr/sbin'}:{board / 'usr/bin'}:{os.environ['PATH']}"}
    return board, env


def mode_now(board):
    state = board / "var/lib/fake-jetson/nvpmodel"
    return int(state.read_text()) if state.exists() else 0  # never switched: the default mode (ID 0)


def profile(tmp_path, mode="25W"):
    prof = tmp_path / "nano.yaml"
    prof.write_text("name: fake-nano\nkind: jetson\ncompute: cpu\npower_mode:\n  nvpmodel: " + mode + "\n"
                    "telemetry:\n  prefer: [sysfs_ina3221, none]\n  interval_ms: 20\n  idle_s: 0.2\n")
    return prof


def test_a_local_sweep_records_each_mode_with_its_clocks_and_energy_and_restores_the_profile_mode(tmp_path, small_seq):
    board, env = fake_board(tmp_path)
    suite = tmp_path / "sweep.yaml"
    suite.write_text(SWEEP.format(modes="15W, MAXN_SUPER, 7W"))
    p = harness("run", "--suite", suite, "--sequence", small_seq, "--profile", profile(tmp_path), "--out", tmp_path / "r",
                "--run-id", "s", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    store = RunStore(tmp_path / "r" / "s")
    recs = store.read_records()
    assert [r["cell_id"] for r in recs] == ["baseline.yolov8n.pytorch-fp32+15W", "baseline.yolov8n.pytorch-fp32+MAXN_SUPER",
                                            "baseline.yolov8n.pytorch-fp32+7W"]
    facts = {r["cell"]["power_mode"]: r["power_mode"] for r in recs}
    assert {m: (f["name"], f["id"]) for m, f in facts.items()} == {"15W": ("15W", 0), "MAXN_SUPER": ("MAXN_SUPER", 2),
                                                                     "7W": ("7W", 3)}
    assert facts["7W"]["clocks"]["cpu_online"] == 4 and facts["7W"]["clocks"]["gpu_max_hz"] == 408000000
    assert facts["MAXN_SUPER"]["clocks"]["cpu_max_khz"] == 1728000
    assert all(f["clocks_match"] is True and f["verified_by"] == "nvpmodel -q" for f in facts.values())
    watts = {r["cell"]["power_mode"]: r["power"]["mean_w"] for r in recs}
    assert watts == {"15W": pytest.approx(10.0), "MAXN_SUPER": pytest.approx(20.0), "7W": pytest.approx(6.0)}
    energy = {r["cell"]["power_mode"]: r["power"]["energy_per_frame_mj"] for r in recs}
    assert len({round(e) for e in energy.values()}) == 3  # the same work at three powers: three energies per frame
    assert mode_now(board) == 1  # back in the profile's 25W
    assert store.read_manifest()["power_mode_restored"] == "25W"
    assert "+7W" in p.stdout or "7W" in p.stdout


def test_repeats_snake_through_the_modes_and_a_crash_then_resume_does_not_rerun_cells(tmp_path, small_seq):
    board, env = fake_board(tmp_path)
    suite = tmp_path / "sweep.yaml"
    suite.write_text(SWEEP.format(modes="15W, MAXN_SUPER") + "repeats: 2\n")
    out = tmp_path / "r"
    proc = subprocess.Popen([str(HARNESS), "run", "--suite", suite, "--sequence", small_seq, "--profile", profile(tmp_path),
                             "--out", out, "--run-id", "s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env={**os.environ, **env})
    records = out / "s" / "records.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and not (records.exists() and records.read_text().count("\n") >= 2):
        time.sleep(0.02)
    proc.kill()  # mid-sweep: the board is left in a sweep mode
    proc.wait(timeout=60)
    store = RunStore(out / "s")
    order = [c["cell_id"].split("+")[1] for c in store.read_manifest()["cells"]]
    assert order == ["15W", "MAXN_SUPER", "MAXN_SUPER", "15W"]  # one switch per mode change, none between repeats
    before = {(r["cell_id"], r["repeat"]): r["finished_at"] for r in store.read_records()}
    assert 2 <= len(before) < 4
    assert mode_now(board) == 2  # killed in MAXN_SUPER
    p = harness("run", "--resume", out / "s", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    recs = store.read_records()
    keys = [(r["cell_id"], r["repeat"]) for r in recs]
    assert len(keys) == len(set(keys)) == 4 and all(r["status"] == "ok" for r in recs)
    assert all(r["finished_at"] == before[(r["cell_id"], r["repeat"])] for r in recs if (r["cell_id"], r["repeat"]) in before)
    assert mode_now(board) == 1  # the resume returned the board to the profile's 25W


def test_a_mode_that_needs_a_reboot_fails_its_cells_in_a_local_run_with_the_fix(tmp_path, small_seq):
    board, env = fake_board(tmp_path, reboot_modes=(3,))
    suite = tmp_path / "sweep.yaml"
    suite.write_text(SWEEP.format(modes="15W, 7W"))
    p = harness("run", "--suite", suite, "--sequence", small_seq, "--profile", profile(tmp_path), "--out", tmp_path / "r",
                "--run-id", "s", env=env)
    assert p.returncode == 1  # a failed cell
    recs = {r["cell"]["power_mode"]: r for r in RunStore(tmp_path / "r" / "s").read_records()}
    assert recs["15W"]["status"] == "ok"
    assert recs["7W"]["status"] == "failed" and "needs a reboot" in recs["7W"]["reason"]
    assert "harness deploy" in recs["7W"]["reason"]
    assert mode_now(board) == 1  # the board was not rebooted, and is back in 25W


def test_off_a_jetson_the_sweep_cells_are_skipped_with_the_reason(tmp_path, small_seq):
    suite = tmp_path / "sweep.yaml"
    suite.write_text(SWEEP.format(modes="15W"))
    p = harness("run", "--suite", suite, "--sequence", small_seq, "--out", tmp_path / "r", "--run-id", "s")
    assert p.returncode == 0, p.stdout + p.stderr
    rec = RunStore(tmp_path / "r" / "s").read_records()[0]
    assert rec["status"] == "skipped" and "no nvpmodel" in rec["reason"]


def test_a_runner_without_nvpmodel_hands_each_mode_to_the_host_and_trusts_its_statement(tmp_path, small_seq):
    """What a runner in a container does (no nvpmodel inside): stop at each mode boundary, resume on the host's word."""
    import json

    suite = tmp_path / "sweep.yaml"
    suite.write_text(SWEEP.format(modes="15W, 7W"))
    out = tmp_path / "r"
    p = harness("run", "--suite", suite, "--sequence", small_seq, "--out", out, "--run-id", "h", "--mode-control", "host")
    assert p.returncode == 0, p.stdout + p.stderr
    store = RunStore(out / "h")
    m = store.read_manifest()
    assert (m["state"], m["wanted_mode"], m["mode_control"]) == ("awaiting_mode", "15W", "host")
    assert "awaiting power mode 15W" in p.stdout and not store.read_records()
    limits = {"cpu_online": 6, "cpu_max_khz": 1497600, "gpu_max_hz": 612000000}
    (out / "h" / "power_mode.json").write_text(json.dumps({"name": "15W", "id": 0, "limits": limits}))
    p = harness("run", "--resume", out / "h")
    assert p.returncode == 0, p.stdout + p.stderr
    m = store.read_manifest()
    assert (m["state"], m["wanted_mode"]) == ("awaiting_mode", "7W")
    [rec] = store.read_records()
    assert rec["power_mode"]["name"] == "15W" and rec["power_mode"]["verified_by"] == "host"
    assert rec["power_mode"]["limits"] == limits and rec["status"] == "ok"
    (out / "h" / "power_mode.json").write_text(json.dumps({"name": "7W", "id": 3}))
    p = harness("run", "--resume", out / "h")
    assert p.returncode == 0, p.stdout + p.stderr
    assert store.read_manifest()["state"] == "complete"
    assert [r["power_mode"]["name"] for r in store.read_records()] == ["15W", "7W"]


def test_a_cell_that_failed_earlier_in_a_host_sweep_is_not_retried_after_the_next_switch(tmp_path, small_seq):
    """Retrying it there would ask the host for a mode behind it (the host bounds its switches and fails such a
    run): the sweep goes on; a person's --resume retries the failed cell afterwards, in its own mode."""
    import json

    suite = tmp_path / "sweep.yaml"
    suite.write_text(SWEEP.format(modes="15W, 7W"))
    out = tmp_path / "r"
    assert harness("run", "--suite", suite, "--sequence", small_seq, "--out", out, "--run-id", "f",
                   "--mode-control", "host").returncode == 0
    store = RunStore(out / "f")
    (out / "f" / "power_mode.json").write_text(json.dumps({"name": "15W", "id": 0}))
    assert harness("run", "--resume", out / "f").returncode == 0
    [rec] = store.read_records()
    rec.update(status="failed", reason="a crash in 15W")
    store.put_record(rec)
    (out / "f" / "power_mode.json").write_text(json.dumps({"name": "7W", "id": 3}))
    p = harness("run", "--resume", out / "f")
    assert p.returncode in (0, 1), p.stdout + p.stderr
    m = store.read_manifest()
    assert m["state"] == "complete" and "wanted_mode" not in m, m.get("wanted_mode")
    assert {r["power_mode"]["name"]: r["status"] for r in store.read_records()} == {"15W": "failed", "7W": "ok"}
    harness("run", "--resume", out / "f")  # a person's resume: the failed cell again, so its mode first
    m = store.read_manifest()
    assert (m["state"], m.get("wanted_mode")) == ("awaiting_mode", "15W")
