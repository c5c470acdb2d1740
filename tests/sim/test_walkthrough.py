"""docs/sim.md end to end, its commands run verbatim through the real CLI in an empty directory: sim start, doctor,
deploy, status, logs, pull, compare, report, sim stop -- and everything the simulated board produced says it was
simulated. README's walkthrough is a subset of these lines (tests/docs checks that)."""

import json
import shlex
import time
from pathlib import Path

import pytest

from harness.sim.lifecycle import find
from tests.docs.commands import commands
from tests.sim.test_lifecycle import alive

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WALKTHROUGH = [c.text for c in commands(ROOT) if c.file == "docs/sim.md"]


def test_the_walkthrough_lists_the_whole_board_workflow():
    verbs = [shlex.split(c)[1] for c in WALKTHROUGH]
    assert verbs == ["sim", "doctor", "deploy", "status", "logs", "pull", "compare", "report", "sim"], WALKTHROUGH


def test_the_docs_walkthrough_on_a_simulated_orin_nano(sim_state, tmp_path, run_harness):
    t0 = time.perf_counter()
    pids = None
    out = {}
    for line in WALKTHROUGH:
        args = shlex.split(line)[1:]
        p = run_harness(*args, cwd=tmp_path, timeout=900)
        assert p.returncode == 0, f"`{line}` exited {p.returncode}: {(p.stdout + p.stderr)[-3000:]}"
        out[line] = p.stdout + p.stderr
        if args[:2] == ["sim", "start"]:
            pids = (find("orin-nano").info["pid"], find("orin-nano").info["sshd_pid"])
        if args[0] == "deploy":
            run = tmp_path / "results" / "sim-demo"
            recs = [json.loads(x) for x in (run / "records.jsonl").read_text().splitlines()]
            assert recs and all(r["simulated"] is True and r["status"] == "ok" for r in recs)
            assert all(r["power"]["backend"] == "sysfs_ina3221" for r in recs)
            assert json.loads((run / "manifest.json").read_text())["profile"]["simulated"] is True
            # the rails followed the load: the runner's window drew more than the idle before it
            assert all(r["power"]["mean_w"] is None or r["power"]["mean_w"] > r["power"]["idle_w"] for r in recs)
    status = next(v for k, v in out.items() if k.startswith("harness status"))
    assert "complete" in status
    compare = next(v for k, v in out.items() if k.startswith("harness compare"))
    assert "simulated board: not a measurement" in compare
    report = tmp_path / "results" / "sim-demo" / "report" / "report.html"  # report's default --out
    assert "SIMULATED BOARD: not a measurement" in report.read_text()
    deadline = time.time() + 10
    while any(map(alive, pids)) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, pids)) and not (sim_state / "sim" / "orin-nano").exists()
    print(f"simulated-board walkthrough took {time.perf_counter() - t0:.1f} s")
