"""The busy host, detected: /proc parsers, the window summary, a real CPU hog beside a real cell, doctor."""

import json
import subprocess
import sys
import time

import pytest

from harness.measure import host as H
from harness.measure.threads import choose_threads, over_idle
from tests.cli.conftest import harness

HOG = "while True: pass"


def hogs(n):
    procs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(n)]
    time.sleep(0.3)
    return procs


def stop(procs):
    for p in procs:
        p.kill()
        p.wait()


def test_proc_parsers_read_the_kernel_formats():
    stat = "cpu  100 5 50 800 20 3 2 7 0 0\ncpu0 50 2 25 400 10 1 1 3 0 0\nintr 1\n"
    assert H.parse_proc_stat(stat) == (100 + 5 + 50 + 3 + 2, 800 + 20, 20, 7)
    assert H.parse_proc_stat("garbage") is None and H.parse_proc_stat("cpu a b c") is None
    # a process name with spaces and a ')' inside: fields are counted from the last ')'
    line = "4242 (py thon) x) S 1 1 1 0 -1 4194304 100 0 0 0 30 12 4 1 20 0 3 0 1 1 1"
    assert H.parse_self_stat(line) == 30 + 12 + 4 + 1
    assert H.parse_self_stat("4242 (x") is None


def test_the_window_summary_counts_other_processes_against_our_own():
    hz = H.os.sysconf("SC_CLK_TCK")
    a = H.CpuTimes(busy=0, idle=0, iowait=0, steal=0, own=0, at_s=10.0)
    # 2 s window on 2 CPUs: 3 CPU-seconds busy, 1.0 of them ours -> others used 1.0 cores
    b = H.CpuTimes(busy=3 * hz, idle=1 * hz, iowait=0, steal=0, own=2 * hz, at_s=12.0)
    s = H.summarise(a, b, 2, [{"load_1m": 1.5, "cpu_psi": 3.0}, {"load_1m": 2.5}], H.Thresholds(0.10, 0.05))
    assert s["other_cpu_cores"] == pytest.approx(0.5) and s["own_cpu_cores"] == pytest.approx(1.0)
    assert s["other_cpu_share"] == pytest.approx(0.25) and s["free_cores"] == pytest.approx(1.5)
    assert s["contended"] is True and "0.50 of 2 CPUs" in s["contended_reason"] and s["load_1m_max"] == 2.5
    quiet = H.summarise(a, H.CpuTimes(2 * hz, 2 * hz, 0, 0, 2 * hz, 12.0), 2, [], H.Thresholds(0.10, 0.05))
    assert quiet["contended"] is False and quiet["contended_reason"] is None
    stolen = H.summarise(a, H.CpuTimes(2 * hz, 1 * hz, 0, hz, 2 * hz, 12.0), 2, [], H.Thresholds(0.10, 0.05))
    assert stolen["contended"] is True and "steal 25%" in stolen["contended_reason"]
    assert H.summarise(None, None, 2, [], H.Thresholds())["contended"] is None  # no /proc: unknown, not quiet


def test_a_hog_beside_the_monitor_is_seen_with_its_share():
    procs = hogs(1)
    try:
        state = H.quiet_check(1.5)
    finally:
        stop(procs)
    assert state["contended"] is True
    assert 0.7 <= state["other_cpu_cores"] <= state["cpus"] + 0.05, state  # the hog's core (plus whatever else ran)


def test_threads_past_the_free_cores_are_warned_about(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert choose_threads(3) == 3 and choose_threads("auto") == H.cpus_available() and choose_threads(0) == 1
    monkeypatch.setattr(H, "cpus_available", lambda: 4)
    monkeypatch.setattr("harness.measure.threads.cpus_available", lambda: 4)
    for omp, auto in (("1", 1), ("2", 2), ("16", 4), ("4,2", 4), ("0", 4), ("x", 4)):
        monkeypatch.setenv("OMP_NUM_THREADS", omp)  # the user's share of a shared host caps auto, never raises it
        assert choose_threads("auto") == choose_threads(None) == auto, omp
    assert choose_threads(3) == 3  # a number in the suite or profile wins over the environment
    assert over_idle(2, {"free_cores": 1.0, "other_cpu_cores": 1.0}).startswith("2 threads on 1.0 free cores")
    assert over_idle(2, {"free_cores": 1.9, "other_cpu_cores": 0.1}) is None
    assert over_idle(2, {}) is None


def test_the_quiet_verdict_and_the_board_probe_lines():
    a = "cpu  100 0 100 800 0 0 0 0 0 0"
    b = "cpu  700 0 200 900 0 0 0 0 0 0"  # 700 busy of 800: a busy board
    other, steal = H.share_between(a, b)
    assert other == pytest.approx(0.875) and steal == 0
    quiet, line = H.quiet_verdict(other, steal, 3.2, 4, H.Thresholds())
    assert quiet is False and "88% of 4 CPUs" in line and "load 3.20" in line
    assert H.quiet_verdict(0.02, 0.0, 0.1, 4, H.Thresholds())[0] is True
    assert H.share_between("x", b) == (None, None)

    from harness.config.profiles import load_profile
    from harness.remote.preflight import quiet_check_line

    check = quiet_check_line(load_profile("orin-nano"), {"cpu_stat_a": a, "cpu_stat_b": b, "loadavg": "3.2", "nproc": "4"})
    assert check.ok and check.info and "contended" in check.detail  # reported, never a deploy stopper


@pytest.mark.slow
def test_a_cell_beside_a_cpu_hog_is_marked_contended_with_the_hogs_share(tmp_path, small_seq):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: busy\nframes: 8\nwarmup: 2\nimgsz: 64\nmin_duration_s: 2.0\nthreads: 4\n"
                     "experiments:\n  - name: a\n    models: [yolov8n]\n")
    procs = hogs(1)
    try:
        p = harness("run", "--suite", suite, "--sequence", small_seq, "--out", tmp_path, "--run-id", "busy", "--weights", "random")
    finally:
        stop(procs)
    assert p.returncode == 0, p.stdout + p.stderr
    rec = json.loads((tmp_path / "busy" / "records.jsonl").read_text().splitlines()[0])
    hs = rec["host_state"]
    assert hs["contended"] is True and hs["other_cpu_cores"] >= 0.5, hs
    assert rec["threads"]["torch_intra"] == 4 and rec["threads"]["over_idle"] is True
    assert "host not quiet" in p.stdout  # said before the first cell
    assert " busy" in p.stdout and " thr>" in p.stdout  # the table's marks
    assert "busy: other processes used" in p.stdout


@pytest.mark.slow
def test_doctor_on_this_machine_reports_a_busy_host(tmp_path):
    procs = hogs(max(2, H.cpus_available() // 4 + 1))  # well past the 10 % threshold on any machine
    try:
        p = harness("doctor", "--json")
    finally:
        stop(procs)
    out = json.loads(p.stdout)
    assert p.returncode == 1 and out["device"] == "local" and out["ok"] is False
    assert out["checks"][0]["name"] == "quiet" and out["checks"][0]["ok"] is False
