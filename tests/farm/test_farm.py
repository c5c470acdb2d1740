"""A real labgrid farm on loopback (coordinator, exporter, three sshd boards: two orin-nano, one orin-nx) shared by
real harness processes: no board runs two runs at once, waiting, a dead board skipped, SIGKILL and coordinator restarts."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from harness.campaign.fleet import Campaign
from harness.campaign.scheduler import run_campaign
from harness.config.campaign import load_campaign
from harness.results.store import RunStore
from harness.testing.infra.labgrid import LabFarm
from harness.testing.infra.sshd import make_device
from tests.cli.conftest import HARNESS

pytestmark = pytest.mark.slow

SUITE = {"name": "tiny", "frames": 4, "warmup": 1, "imgsz": 64, "experiments": [{"name": "b", "models": ["yolov8n"]}]}
BOARDS = {"nano1": ("board-a", "orin-nano"), "nano2": ("board-b", "orin-nano"), "nx1": ("board-c", "orin-nx")}


class Lab:
    def __init__(self, root: Path, cache: Path) -> None:
        self.root, self.boards, self.homes = root, {}, {}
        key = None
        known = []
        for place, (group, _) in BOARDS.items():
            d = make_device(root / group)
            key = key or d.client_key
            (d.root / "authorized_keys").write_text(Path(f"{key}.pub").read_text())  # one user key for every board
            known.append(d.known_hosts.read_text())
            self.homes[place] = root / group / "home"
            self.homes[place].mkdir()
            d.start(env={"HARNESS_OFFLINE": "1", "HARNESS_CACHE_DIR": str(cache), "HOME": str(self.homes[place])})
            self.boards[place] = d
        (root / "known_hosts").write_text("".join(known))
        self.farm = LabFarm(root / "farm").start()
        self.farm.export({g: self.boards[p].port for p, (g, _) in BOARDS.items()})
        for place, (group, tag) in BOARDS.items():
            self.farm.add_place(place, group, board=tag)
        self.key = key
        (root / "suite.yaml").write_text(yaml.safe_dump(SUITE))
        for tag in ("orin-nano", "orin-nx"):
            prof = {"name": f"lab-{tag.split('-')[1]}", "kind": "local", "runtime": "host", "compute": "cpu",
                    "connection": {"pool": "labgrid", "tags": {"board": tag}, "coordinator": self.farm.addr,
                                   "key_file": str(key), "known_hosts": str(root / "known_hosts"), "connect_timeout_s": 5,
                                   "acquire_timeout_s": 300},
                    "host_runtime": {"python": sys.executable, "venv": False, "workdir": "~/wd"}}
            (root / f"{prof['name']}.yaml").write_text(yaml.safe_dump(prof))
        self.env = {**os.environ, "HARNESS_STATE_DIR": str(root / "state"), "LG_COORDINATOR": self.farm.addr}

    def runs_on(self, place: str) -> list[tuple[str, float, float]]:
        """(run id, started, finished) of every run the board itself recorded (its own manifests)."""
        out = []
        for m in sorted((self.homes[place] / "wd" / "runs").glob("*/manifest.json")):
            doc = json.loads(m.read_text())
            times = [datetime.fromisoformat(doc["created_at"]).timestamp()]
            for rec in (m.parent / "records").glob("*.json"):
                r = json.loads(rec.read_text())
                times += [datetime.fromisoformat(r[k]).timestamp() for k in ("started_at", "finished_at") if r.get(k)]
            out.append((m.parent.name, min(times), max(times)))
        return out

    def free(self) -> bool:
        return all(self.farm.holder(p) is None for p in BOARDS)

    def close(self) -> None:
        self.farm.stop()
        for d in self.boards.values():
            d.kill_all()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, harness_cache):
    lab = Lab(tmp_path_factory.mktemp("lab"), harness_cache)
    yield lab
    lab.close()


def harness(lab, *args, user="alice", **kw):
    return subprocess.Popen([str(HARNESS), *map(str, args)], env={**lab.env, "LG_USERNAME": user}, cwd=lab.root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL, **kw)


def campaign_file(lab, name, boards, small_seq, suite="suite.yaml"):
    spec = {"name": name, "boards": boards, "suite": suite, "sequence": str(small_seq), "workers": 4,
            "retry_backoff_s": 0.5, "reconnect_budget_s": 60, "poll_s": 0.5}
    (lab.root / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    return lab.root / f"{name}.yaml"


def test_two_users_campaigns_share_three_boards_without_ever_overlapping(lab, small_seq):
    a = campaign_file(lab, "alice-night", [{"profile": "lab-nano.yaml", "count": 2}, {"profile": "lab-nx.yaml", "count": 1}],
                      small_seq)
    b = campaign_file(lab, "bob-night", [{"profile": "lab-nano.yaml", "count": 1}, {"profile": "lab-nx.yaml", "count": 1}],
                      small_seq)
    t0 = time.perf_counter()
    procs = [harness(lab, "campaign", "run", a, "--out", lab.root / "alice", user="alice"),
             harness(lab, "campaign", "run", b, "--out", lab.root / "bob", user="bob")]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    wall = time.perf_counter() - t0
    assert [p.returncode for p in procs] == [0, 0], "\n".join(o[-3000:] for o in outs)
    runs = {place: lab.runs_on(place) for place in BOARDS}
    done = sorted(r for place in runs.values() for r, _, _ in place)
    assert done == sorted(["alice-night-lab-nano-1-r1", "alice-night-lab-nano-2-r1", "alice-night-lab-nx-1-r1",
                           "bob-night-lab-nano-1-r1", "bob-night-lab-nx-1-r1"])
    for place, spans in runs.items():
        spans.sort(key=lambda s: s[1])
        for (r1, _, end), (r2, start, _) in zip(spans, spans[1:]):
            assert end <= start, f"{place} ran {r1} and {r2} at once"
    assert {r for r, _, _ in runs["nx1"]} == {"alice-night-lab-nx-1-r1", "bob-night-lab-nx-1-r1"}  # nx work on the nx
    for who, name in (("alice", "alice-night"), ("bob", "bob-night")):
        for run in (lab.root / who / name / "runs").iterdir():
            assert [r["status"] for r in RunStore(run).read_records()] == ["ok"]
            assert json.loads((run / "deploy.json").read_text())["lease"]["place"] in BOARDS
    assert lab.free()
    print(f"two campaigns, 5 runs on 3 shared boards: {wall:.1f} s; per board: "
          + ", ".join(f"{p}: {len(s)}" for p, s in runs.items()))


def test_a_campaign_waits_for_a_held_orin_nx_and_runs_once_it_is_released(lab, small_seq):
    assert lab.farm.client("-p", "nx1", "lock", user="carol").returncode == 0
    c = Campaign(load_campaign(campaign_file(lab, "wait-nx", [{"profile": "lab-nx.yaml", "count": 1}], small_seq)),
                 lab.root / "w" / "wait-nx", lab.root)
    said = []
    outcome = {}
    os.environ["HARNESS_STATE_DIR"] = str(lab.root / "state")
    os.environ["LG_USERNAME"] = "dave"
    try:
        t = threading.Thread(target=lambda: outcome.update(run_campaign(c, lambda dev, e: said.append((time.time(), e)))))
        t.start()
        deadline = time.time() + 60
        while not any(e.name == "farm" and "waiting for board=orin-nx" in e.text for _, e in said):
            assert time.time() < deadline and t.is_alive(), said
            time.sleep(0.2)
        assert "carol" in next(e.text for _, e in said if e.name == "farm" and "waiting" in e.text)
        assert not any(e.name == "started" for _, e in said)
        released_at = time.time()
        assert lab.farm.client("-p", "nx1", "unlock", user="carol").returncode == 0
        t.join(timeout=300)
    finally:
        os.environ.pop("LG_USERNAME")
        os.environ.pop("HARNESS_STATE_DIR")
    assert outcome["lab-nx-1"].ok, outcome
    started = next(at for at, e in said if e.name == "started")
    assert started > released_at
    assert lab.free()


def test_a_board_that_does_not_answer_ssh_is_skipped_for_another(lab, small_seq):
    lab.boards["nano1"].kill_all()  # its place is free: the queue hands it out first
    assert lab.farm.client("-p", "nano2", "lock", user="carol").returncode == 0
    lines = []
    try:
        p = harness(lab, "deploy", "--profile", "lab-nano.yaml", "--suite", "suite.yaml", "--sequence", small_seq,
                    "--out", lab.root / "skip", "--run-id", "skip1")
        reader = threading.Thread(target=lambda: lines.extend(p.stdout))
        reader.start()
        deadline = time.time() + 120
        while not any("does not answer" in x for x in lines):
            assert time.time() < deadline and p.poll() is None, "".join(lines)
            time.sleep(0.2)
        assert lab.farm.holder("nano1") is not None  # held aside while waiting, so the queue cannot hand it back
        assert lab.farm.client("-p", "nano2", "unlock", user="carol").returncode == 0
        p.wait(timeout=300)
        reader.join()
    finally:
        lab.boards["nano1"].restart()
    out = "".join(lines)
    assert p.returncode == 0, out[-3000:]
    assert "nano1 (root@127.0.0.1" in out and "leased nano2" in out
    assert json.loads((lab.root / "skip" / "skip1" / "deploy.json").read_text())["lease"]["place"] == "nano2"
    assert lab.free()


def test_sigkill_mid_run_then_resume_takes_over_the_same_board(lab, small_seq):
    args = ["--profile", "lab-nx.yaml", "--suite", "suite.yaml", "--sequence", small_seq, "--out", lab.root / "k",
            "--run-id", "killed1", "--poll-s", "0.3"]
    p = harness(lab, "deploy", *args)
    session = lab.root / "k" / "killed1" / "deploy.json"
    deadline = time.time() + 120
    while not (session.exists() and json.loads(session.read_text()).get("pid")):
        assert time.time() < deadline and p.poll() is None
        time.sleep(0.2)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert lab.farm.holder("nx1") is not None  # the killed harness could not give it back
    st = subprocess.run([str(HARNESS), "farm", "status", "--json"], env={**lab.env, "LG_USERNAME": "alice"},
                        capture_output=True, text=True)
    assert json.loads(st.stdout)["stale_here"] == ["nx1"], st.stdout + st.stderr
    r = harness(lab, "deploy", *args, "--resume")
    out = r.communicate(timeout=300)[0]
    assert r.returncode == 0, out[-3000:]
    assert "took over nx1" in out
    assert [x["status"] for x in RunStore(lab.root / "k" / "killed1").read_records()] == ["ok"]
    assert lab.free()


def _runner_pids(campaign_dir: Path) -> list[int]:
    """The board-side runners' pids (the boards are loopback sshd, so they are processes of this machine)."""
    pids = []
    for d in campaign_dir.glob("runs/*/deploy.json"):
        with contextlib.suppress(OSError, ValueError):
            pid = json.loads(d.read_text()).get("pid")
            if isinstance(pid, int):
                pids.append(pid)
    return pids


def test_the_coordinator_restarts_mid_campaign_and_the_campaign_finishes(lab, small_seq):
    # The board-side runners are stopped (SIGSTOP) while the coordinator restarts and until both boards are locked
    # again, so the runs cannot end before the holders' keeper rounds, however slow or busy this machine is.
    (lab.root / "long.yaml").write_text(yaml.safe_dump({**SUITE, "name": "long", "min_duration_s": 30.0}))
    f = campaign_file(lab, "restart", [{"profile": "lab-nano.yaml", "count": 2}], small_seq, suite="long.yaml")
    p = harness(lab, "campaign", "run", f, "--out", lab.root / "r")
    deadline = time.time() + 180
    while len(pids := _runner_pids(lab.root / "r" / "restart")) < 2:
        assert time.time() < deadline and p.poll() is None, "the runners did not start"
        time.sleep(0.2)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        assert all(lab.farm.holder(x) is not None for x in ("nano1", "nano2"))
        lab.farm.restart_coordinator(down_s=3)
        while sum(lab.farm.holder(x) is not None for x in ("nano1", "nano2")) < 2:
            assert time.time() < deadline + 120 and p.poll() is None, "the holders did not lock their boards again"
            time.sleep(0.3)
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
    out = p.communicate(timeout=600)[0]
    assert p.returncode == 0, out[-3000:]
    assert "re-took nano" in out, out[-3000:]  # the holders locked their boards again on the new coordinator
    for run in (lab.root / "r" / "restart" / "runs").iterdir():
        assert [x["status"] for x in RunStore(run).read_records()] == ["ok"]
    assert lab.free()


def test_farm_status_at_80_and_120_columns_and_release_of_a_stale_lock(lab):
    assert lab.farm.client("-p", "nano1", "lock", user="carol").returncode == 0
    env = {**lab.env, "LG_USERNAME": "alice"}
    for cols in (80, 120):
        st = subprocess.run([str(HARNESS), "farm", "status"], env={**env, "COLUMNS": str(cols)}, capture_output=True,
                            text=True)
        assert st.returncode == 0, st.stderr
        lines = st.stdout.splitlines()
        print(f"--- {cols} columns\n{st.stdout}")
        assert max(map(len, lines)) <= cols
        row = next(x for x in lines if "nano1" in x)
        assert "board=orin-nano" in row and "/carol" in row and "nx1" in st.stdout and "free" in st.stdout
    doc = json.loads(subprocess.run([str(HARNESS), "farm", "status", "--json"], env=env, capture_output=True,
                                    text=True).stdout)
    assert [(p["place"], p["tags"], (p["holder"] or "").split("/")[-1]) for p in doc["places"]] == [
        ("nano1", {"board": "orin-nano"}, "carol"), ("nano2", {"board": "orin-nano"}, ""), ("nx1", {"board": "orin-nx"}, "")]
    refused = subprocess.run([str(HARNESS), "farm", "release", "nano1"], env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "different user" in refused.stderr and "Traceback" not in refused.stderr
    ok = subprocess.run([str(HARNESS), "farm", "release", "nano1", "--kick"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and "released nano1" in ok.stdout
    assert lab.free()
