"""docs/sim.md end to end through the real CLI: sim start, doctor, deploy, status, logs, pull, stop, compare,
report, sim stop -- and everything the simulated board produced says it was simulated."""

import json
import time

import pytest
import yaml

from harness.sim.lifecycle import find
from tests.sim.test_lifecycle import alive

pytestmark = pytest.mark.slow

SUITE = {"name": "tiny", "frames": 6, "warmup": 2, "imgsz": 160, "experiments": [{"name": "baseline", "models": ["yolov8n"]}]}


def test_the_board_workflow_on_a_simulated_orin_nano(sim_state, tmp_path, small_seq, run_harness):
    t0 = time.perf_counter()
    p = run_harness("sim", "start", "orin-nano")
    assert p.returncode == 0, p.stdout + p.stderr
    pids = (find("orin-nano").info["pid"], find("orin-nano").info["sshd_pid"])

    doctor = run_harness("doctor", "--profile", "sim-orin-nano", "--json")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    checks = {c["name"]: c["ok"] for c in json.loads(doctor.stdout)["checks"]}
    assert all(checks[k] for k in ("reachable", "board", "l4t", "nvpmodel")), checks

    suite = tmp_path / "tiny.yaml"
    suite.write_text(yaml.safe_dump(SUITE))
    res = tmp_path / "results"
    dep = run_harness("deploy", "--profile", "sim-orin-nano", "--suite", suite, "--sequence", small_seq, "--out", res,
                      "--run-id", "sim-demo", "--poll-s", "0.5", cwd=tmp_path)
    assert dep.returncode == 0, dep.stdout + dep.stderr
    run = res / "sim-demo"
    for cmd in (("status", run), ("logs", run, "-n", "5"), ("pull", run), ("stop", run)):
        out = run_harness(*cmd)
        assert out.returncode == 0, f"{cmd}: {out.stdout + out.stderr}"
        if cmd[0] == "status":
            assert "complete, 1/1 cells done" in out.stdout, out.stdout
    recs = [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()]
    assert recs and all(r["simulated"] is True and r["status"] == "ok" for r in recs)
    assert all(r["power"]["backend"] == "sysfs_ina3221" for r in recs)
    assert json.loads((run / "manifest.json").read_text())["profile"]["simulated"] is True
    # the rails followed the load: the runner's window drew more than the idle before it
    assert all(r["power"]["mean_w"] is None or r["power"]["mean_w"] > r["power"]["idle_w"] for r in recs)

    cmp = run_harness("compare", run)
    assert cmp.returncode == 0, cmp.stdout + cmp.stderr
    assert "simulated board: not a measurement" in cmp.stdout + cmp.stderr
    rep = run_harness("report", run, "--out", tmp_path / "report")
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert "SIMULATED BOARD: not a measurement" in (tmp_path / "report" / "report.html").read_text()

    stop = run_harness("sim", "stop", "orin-nano")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    deadline = time.time() + 10
    while any(map(alive, pids)) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, pids)) and not (sim_state / "sim" / "orin-nano").exists()
    print(f"simulated-board walkthrough took {time.perf_counter() - t0:.1f} s")
