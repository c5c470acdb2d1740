"""harness deploy end to end against real sshd "devices" on loopback (runtime: host)."""

import json
import sys
from pathlib import Path
import time

import pytest
import yaml

from harness.errors import RemoteError
from harness.config.profiles import DeviceProfile
from harness.remote.deploy import DeployPlan, deploy
from harness.remote.events import Rebooted
from harness.results.store import RunStore
from harness.config.suite import Suite
from harness.testing.infra.sshd import make_device
from tests.measure.test_runner import cell_budget_s  # noqa: F401 - a fixture (the measured timeouts.cell_s)

pytestmark = pytest.mark.slow

SUITE = {"name": "tiny", "frames": 6, "warmup": 2, "imgsz": 160,
         "experiments": [{"name": "baseline", "models": ["yolov8n", "yolo11n", "yolo26n"]}]}


def with_board(dev, tmp_path):
    """A fake L4T r36 root for the device's preflight (``probe_root``)."""
    board = tmp_path / "board"
    (board / "etc").mkdir(parents=True)
    (board / "etc" / "nv_tegra_release").write_text("# R36 (release), REVISION: 4.0\n")
    dev.board = board
    return board


@pytest.fixture
def device(tmp_path, harness_cache):
    dev = make_device(tmp_path / "dev")
    dev.start(env={"HARNESS_OFFLINE": "1", "HARNESS_CACHE_DIR": str(harness_cache), "PYTHONDONTWRITEBYTECODE": "1"})
    with_board(dev, tmp_path)
    yield dev
    dev.kill_all()


def profile(device, tmp_path, workdir=None):
    return DeviceProfile.model_validate({
        "name": "loop", "kind": "jetson", "runtime": "host", "compute": "cpu",
        "connection": {"host": "127.0.0.1", "user": "root", "port": device.port, "key_file": str(device.client_key),
                       "known_hosts": str(device.known_hosts), "connect_timeout_s": 5},
        "expect": {"l4t_major": 36}, "probe_root": str(device.board),
        # a work dir with shell metacharacters: everything that reaches the remote shell must be quoted
        "host_runtime": {"python": sys.executable, "venv": False,
                         "workdir": str(workdir or tmp_path / "dev work; touch INJECTED $(id)")},
    })


def test_deploy_runs_the_suite_and_pulls_every_record(device, tmp_path, small_seq):
    events = []
    plan = DeployPlan(profile(device, tmp_path), Suite.model_validate(SUITE), small_seq, "d1", tmp_path / "results", poll_s=0.5)
    t0 = time.perf_counter()
    store = deploy(plan, lambda e: events.append(e.name))
    took = time.perf_counter() - t0
    recs = store.read_records()
    assert [r["status"] for r in recs] == ["ok"] * 3 and store.read_manifest()["state"] == "complete"
    for r in recs:
        assert (store.root / r["files"]["frames"]).is_file() and (store.root / r["files"]["detections"]).is_file()
    assert {"preflight", "shipped", "started", "poll"} <= set(events)
    assert not list(tmp_path.rglob("INJECTED*")), "a path reached the shell unquoted"
    workdir = tmp_path / "dev work; touch INJECTED $(id)"
    assert not (workdir / "lock.json").exists()  # released
    # a second deploy of the same content ships no sequence bytes
    again = []
    deploy(DeployPlan(profile(device, tmp_path), Suite.model_validate(SUITE), small_seq, "d2", tmp_path / "results", poll_s=0.5),
           again.append)
    assert next(e for e in again if e.name == "shipped").info["sequence_skipped"] is True
    print(f"deploy of 3 cells took {took:.1f} s")


def test_a_locked_device_is_refused_with_the_owner(device, tmp_path, small_seq):
    workdir = tmp_path / "wd"
    workdir.mkdir()
    boot = open("/proc/sys/kernel/random/boot_id").read().strip()
    (workdir / "lock.json").write_text(json.dumps({"owner": "alice@lab-host", "run_id": "other", "boot_id": boot,
                                                   "heartbeat": time.time()}))
    plan = DeployPlan(profile(device, tmp_path, workdir), Suite.model_validate(SUITE), small_seq, "d3", tmp_path / "results")
    with pytest.raises(RemoteError, match="locked by alice@lab-host for run other"):
        deploy(plan)
    assert json.loads((workdir / "lock.json").read_text())["owner"] == "alice@lab-host"  # left as it was
    # a stale lock (another boot, no heartbeat) is taken over: tests/remote/test_lock.py, in-process


def test_killed_sshd_mid_run_reconnects_and_finishes(device, tmp_path, small_seq):
    plan = DeployPlan(profile(device, tmp_path, tmp_path / "wd"), Suite.model_validate(SUITE), small_seq, "d4",
                      tmp_path / "results", poll_s=0.3)
    seen = []
    timeline = {}

    def progress(e):
        seen.append(e.name)
        if e.name == "started" and "flap" not in timeline:
            timeline["flap"] = device.flap(after_s=1.0, down_s=3.0)
        if e.name == "reconnected":
            timeline["reconnected"] = time.monotonic()

    store = deploy(plan, progress)
    recs = store.read_records()
    ids = [r["cell_id"] for r in recs]
    assert len(ids) == len(set(ids)) == 3 and all(r["status"] == "ok" for r in recs)  # nothing lost, nothing duplicated
    assert "link_lost" in seen and "reconnected" in seen
    flap = timeline["flap"]
    print(f"link down {flap['restarted'] - flap['killed']:.1f} s, recovered "
          f"{timeline['reconnected'] - flap['restarted']:.1f} s after sshd came back")


def test_deploy_cli_with_a_profile_file(device, tmp_path, small_seq, run_harness):
    prof = profile(device, tmp_path, tmp_path / "wd").model_dump()
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(prof))
    suite = tmp_path / "s.yaml"
    suite.write_text(yaml.safe_dump(SUITE))
    p = run_harness("deploy", "--profile", path, "--suite", suite, "--sequence", small_seq, "--out", tmp_path / "res",
                    "--run-id", "cli", "--poll-s", "0.5")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "3/3 cells done" in p.stdout and "Which variant wins" in p.stdout
    assert len(RunStore(tmp_path / "res" / "cli").read_records()) == 3


def test_status_logs_stop_and_resume_after_the_host_went_away(device, tmp_path, small_seq, run_harness):
    import subprocess

    from tests.cli.conftest import HARNESS

    prof = profile(device, tmp_path, tmp_path / "wd").model_dump()
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(prof))
    suite = tmp_path / "s.yaml"
    suite.write_text(yaml.safe_dump({**SUITE, "frames": 16, "warmup": 2,
                                     "experiments": [{"name": "b", "models": ["yolov8n", "yolo11n", "yolo26n", "yolov8s"]}]}))
    run_dir = tmp_path / "res" / "sess"
    host = subprocess.Popen([str(HARNESS), "deploy", "--profile", str(path), "--suite", str(suite), "--sequence",
                             str(small_seq), "--out", str(tmp_path / "res"), "--run-id", "sess", "--poll-s", "0.3"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not (run_dir / "deploy.json").exists():
        time.sleep(0.2)
    host.kill()  # the host goes away; the runner on the device goes on
    host.wait()
    deadline = time.time() + 120
    while time.time() < deadline:
        p = run_harness("status", run_dir)
        assert p.returncode == 0, p.stderr
        if "cells done" in p.stdout:
            break
        time.sleep(0.5)
    assert "cells done" in p.stdout and "runner alive" in p.stdout, p.stdout
    p = run_harness("logs", run_dir, "-n", "5")
    assert p.returncode == 0
    p = run_harness("stop", run_dir)
    assert p.returncode == 0 and "stopped sess" in p.stdout, p.stdout + p.stderr
    # stop sends SIGTERM and returns; the runner writes its manifest and exits in its own time (on a busy machine
    # longer than the 1 s this test used to sleep): ask until it is gone
    deadline = time.time() + 60
    while True:
        p = run_harness("status", run_dir)
        if "runner not running" in p.stdout or time.time() > deadline:
            break
        time.sleep(0.5)
    assert "runner not running" in p.stdout, p.stdout + p.stderr
    p = run_harness("deploy", "--profile", path, "--suite", suite, "--sequence", small_seq, "--out", tmp_path / "res",
                    "--run-id", "sess", "--resume", "--poll-s", "0.3")
    assert p.returncode == 0, p.stdout + p.stderr
    recs = RunStore(run_dir).read_records()
    ids = [r["cell_id"] for r in recs]
    assert len(ids) == len(set(ids)) == 4 and all(r["status"] == "ok" for r in recs)


def test_a_reboot_restarts_the_runner_which_resumes(device, tmp_path, small_seq, monkeypatch):
    import subprocess

    from harness.remote.deploy import Deployment

    # each cell times >= 2 s: after the first record arrives, the runner is still busy for seconds, however loaded
    # this machine is (the "reboot" must find it running)
    plan = DeployPlan(profile(device, tmp_path, tmp_path / "wd"), Suite.model_validate({**SUITE, "min_duration_s": 2}),
                      small_seq, "boot", tmp_path / "results", poll_s=0.3)
    state = {"killed": False}
    real_alive = Deployment.alive

    def alive(self):
        # the first time a cell has finished, "reboot": the runner dies and the boot id changes
        if not state["killed"] and (self.store.root / "records.jsonl").exists() and self.store.read_records():
            subprocess.run(["kill", "-KILL", str(self.pid)], check=False)
            time.sleep(0.3)
            state["killed"] = True
            monkeypatch.setattr(Deployment, "current_boot_id", lambda self: "after-reboot")
        return real_alive(self)

    monkeypatch.setattr(Deployment, "alive", alive)
    events = []
    store = deploy(plan, events.append)
    assert state["killed"] and Rebooted() in events
    assert any(e.name == "started" and e.resume for e in events)  # restarted with --resume
    recs = store.read_records()
    ids = [r["cell_id"] for r in recs]
    assert len(ids) == len(set(ids)) == 3 and all(r["status"] == "ok" for r in recs)


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_container_runtime_runs_detached_without_privileges(tmp_path, small_seq, harness_cache, engine):
    from harness.testing.fakes.engine import write_engine

    shims = tmp_path / "shims"
    write_engine(shims, engine)
    state = tmp_path / "engine-state"
    dev = make_device(tmp_path / "dev")
    dev.start(path_dirs=(shims,), env={"HARNESS_OFFLINE": "1", "HARNESS_CACHE_DIR": str(harness_cache),
                                       "FAKE_ENGINE_STATE": str(state), "FAKE_ENGINE_ALL_IMAGES": "1"})
    try:
        board = with_board(dev, tmp_path)
        prof = profile(dev, tmp_path, tmp_path / "wd").model_dump()
        prof.update(runtime=engine, probe_root=str(board),
                    # podman's NVIDIA path (CDI) needs a spec this machine lacks: covered by the argv test below
                    container={"image": "edge-harness:l4t-r36", "python": sys.executable, "nvidia_runtime": engine == "docker"})
        plan = DeployPlan(DeviceProfile.model_validate(prof), Suite.model_validate(SUITE), small_seq, "c1",
                          tmp_path / "results", poll_s=0.3)
        store = deploy(plan)
        assert [r["status"] for r in store.read_records()] == ["ok"] * 3
        calls = [json.loads(line) for line in (state / "calls.jsonl").read_text().splitlines()]
        run = next(c for c in calls if c[0] == "run")
        assert run[:5] == ["run", "-d", "--name", "harness-c1", "--network"]
        if engine == "docker":
            assert "--runtime" in run and run[run.index("--runtime") + 1] == "nvidia"
        assert "-it" not in run and "-t" not in run and not any(a.startswith("--privileged") for a in run)
        assert "/run/jtop.sock:/run/jtop.sock" not in run  # not asked for by this profile
        assert f"{board}/etc/nv_tegra_release:/etc/nv_tegra_release:ro" in run  # the board's L4T, not the image's
        assert run[run.index("--shm-size") + 1] == "8g"
        assert run[run.index("edge-harness:l4t-r36") + 1:][:3] == [sys.executable, "-m", "harness"]
    finally:
        dev.kill_all()


@pytest.mark.parametrize("container, message", [
    ({"extra_args": ["--privileged"]}, "benchmarks never run privileged"),
    ({"extra_args": ["--cap-add", "ALL", "-v", "/:/host"]}, "no capability beyond the defaults"),
    ({"extra_args": ["-v", "/:/host"]}, "root filesystem is never mounted"),
    ({"image": "--privileged"}, "container.image: String should match pattern"),
    ({"image": "img --cap-add=ALL -v /:/host"}, "container.image: String should match pattern"),
])
def test_privileged_containers_are_refused_where_the_profile_is_defined(tmp_path, container, message):
    from harness.errors import ProfileError
    from harness.config.profiles import load_profile

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"name": "p", "kind": "jetson", "runtime": "docker", "container": container}))
    with pytest.raises(ProfileError, match=message):
        load_profile(str(path))


def test_container_argv_mounts_jtop_only_when_asked_and_present():
    from harness.remote.runtimes.container import DeviceBoard, container_argv

    prof = DeviceProfile.model_validate({"name": "j", "kind": "jetson", "runtime": "docker",
                                         "container": {"image": "img", "mount_jtop_socket": True, "gpus_all": False}})
    with_sock = container_argv(prof, "n", "/w", ["python3", "-m", "harness"], DeviceBoard(jtop_gid=998))
    # the image comes right after "--": nothing in it can be read as an option
    assert "/run/jtop.sock:/run/jtop.sock" in with_sock and with_sock[-5:] == ["--", "img", "python3", "-m", "harness"]
    assert with_sock[with_sock.index("--group-add") + 1] == "998"  # the socket is root:jtop 0660
    assert "--group-add" not in container_argv(prof, "n", "/w", ["x"], DeviceBoard(jtop_gid=-1))  # group unreadable
    assert "/run/jtop.sock:/run/jtop.sock" not in container_argv(prof, "n", "/w", ["x"], DeviceBoard())
    gpu = {"name": "g", "kind": "jetson", "container": {"image": "img", "nvidia_runtime": True}}
    docker = container_argv(DeviceProfile.model_validate({**gpu, "runtime": "docker"}), "n", "/w", ["x"])
    podman = container_argv(DeviceProfile.model_validate({**gpu, "runtime": "podman"}), "n", "/w", ["x"])
    assert ["--runtime", "nvidia"] == docker[docker.index("--runtime"):docker.index("--runtime") + 2]
    assert ["--device", "nvidia.com/gpu=all"] == podman[podman.index("--device"):podman.index("--device") + 2]


def test_container_gets_the_boards_release_and_model_and_shared_memory():
    from harness.remote.runtimes.container import container_argv, parse_board

    prof = DeviceProfile.model_validate({"name": "j", "kind": "jetson", "runtime": "docker", "container": {"image": "img"}})
    board = parse_board("release=yes\nmodel=yes\n", "/", "/home/j/edge-harness")
    argv = container_argv(prof, "n", "/w", ["x"], board)
    assert "/etc/nv_tegra_release:/etc/nv_tegra_release:ro" in argv
    assert "/home/j/edge-harness/.board-model:/tmp/nv_jetson_model:ro" in argv
    assert argv[argv.index("--shm-size") + 1] == "8g"  # Docker's 64 MB default starves torch's shared memory
    bare = container_argv(prof, "n", "/w", ["x"], parse_board("", "/", "/w"))  # a PC: nothing to mount
    assert not any("nv_tegra_release" in a or "nv_jetson_model" in a for a in bare)
    quiet = DeviceProfile.model_validate({"name": "j", "kind": "jetson", "container": {"image": "img", "shm_size": None}})
    assert "--shm-size" not in container_argv(quiet, "n", "/w", ["x"])


@pytest.mark.parametrize("answer", ["release=yes; rm -rf ~\n", "jtop_gid=0 --privileged\n", "model=YES\n" * 10**5,
                                    "jtop_gid=99999999999\n", "\x00release=yes\n"])
def test_the_board_scripts_answer_is_believed_only_in_its_own_words(answer):
    from harness.remote.runtimes.container import parse_board

    board = parse_board(answer, "/", "/w")
    assert board.release is None and board.model_file is None and board.jtop_gid in (None, -1)


def test_the_board_script_reads_a_fake_board_and_copies_its_model(tmp_path):
    import subprocess

    from harness.remote.runtimes.container import BOARD_SCRIPT, parse_board

    root, work = tmp_path / "board", tmp_path / "work"
    (root / "etc").mkdir(parents=True)
    (root / "proc/device-tree").mkdir(parents=True)
    work.mkdir()
    (root / "etc/nv_tegra_release").write_text("# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic\n")
    (root / "proc/device-tree/model").write_bytes(b"NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super\x00")
    out = subprocess.run(["sh", "-c", BOARD_SCRIPT, "sh", str(root), str(work)], capture_output=True, text=True).stdout
    board = parse_board(out, str(root), str(work))
    assert board.release == f"{root}/etc/nv_tegra_release" and board.model_file == f"{work}/.board-model"
    assert (work / ".board-model").read_bytes() == b"NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super"


def test_preflight_checks_the_boards_l4t_against_the_images():
    from harness.remote.runtimes.container import l4t_check

    older = l4t_check("# R36 (release), REVISION: 3.0, GCID: 36191598", "36.4.0", "edge-harness:l4t-r36")
    assert older.ok is False and "older than" in older.detail and "l4t-jetpack:r36.3.0" in older.detail
    assert l4t_check("# R36 (release), REVISION: 4.3, GCID: 38968081", "36.4.0", "i").ok is True  # newer minor: fine
    assert l4t_check("# R35 (release), REVISION: 4.1, GCID: 33958178", "36.4.0", "i").ok is False  # another JetPack
    assert l4t_check("", "36.4.0", "i") is None and l4t_check("# R36 (release), REVISION: 4.3", None, "i") is None


def test_image_is_streamed_once_then_skipped_by_id(tmp_path, monkeypatch):
    import hashlib

    from harness.remote.connection import DeviceConnection
    from harness.remote.image_transfer import ship_image
    from harness.testing.fakes.engine import write_engine

    image = "edge-harness:l4t-r36"
    local_engine = write_engine(tmp_path / "local-bin", "docker")
    local_state = tmp_path / "local-state"
    local_state.mkdir()
    (local_state / "images.json").write_text(json.dumps({image: "sha256:" + hashlib.sha256(image.encode()).hexdigest()}))
    monkeypatch.setenv("FAKE_ENGINE_STATE", str(local_state))
    shims = tmp_path / "device-bin"
    write_engine(shims, "docker")
    dev = make_device(tmp_path / "dev")
    dev.start(path_dirs=(shims,), env={"FAKE_ENGINE_STATE": str(tmp_path / "device-state")})
    try:
        from harness.config.profiles import Connection

        cfg = Connection(host="127.0.0.1", user="root", port=dev.port, key_file=str(dev.client_key),
                         known_hosts=str(dev.known_hosts), connect_timeout_s=5)
        seen = []
        with DeviceConnection(cfg) as c:
            first = ship_image(c, "docker", image, str(local_engine), progress=lambda *a: seen.append(a))
            again = ship_image(c, "docker", image, str(local_engine))
        raw, total, sent, _ = seen[-1]
        assert first["skipped"] is False and first["bytes_sent"] > 3_000_000 and raw == total > 3 << 20  # 100 % of the image
        assert 0 < sent <= first["bytes_sent"]
        assert again["skipped"] is True and again["reason"] == "same image ID on the device"
        with pytest.raises(RemoteError, match="neither on this host nor on .* could not pull it"):
            with DeviceConnection(cfg) as c:
                ship_image(c, "docker", "missing:tag", str(local_engine))
        with DeviceConnection(cfg) as c:  # a registry name: the device pulls it itself
            pulled = ship_image(c, "docker", "registry.example/edge-harness:cpu", str(local_engine))
        assert pulled["skipped"] is True and pulled["reason"] == "pulled by the device from its registry"
    finally:
        dev.kill_all()


def test_the_harness_creates_its_venv_on_the_device(tmp_path):
    import shutil

    from harness.config.profiles import Connection
    from harness.remote.connection import DeviceConnection
    from harness.remote.runtimes.host import ensure_venv

    base = shutil.which("python3.11") or "/usr/bin/python3"
    dev = make_device(tmp_path / "dev")
    dev.start()
    try:
        cfg = Connection(host="127.0.0.1", user="root", port=dev.port, key_file=str(dev.client_key),
                         known_hosts=str(dev.known_hosts), connect_timeout_s=5)
        with DeviceConnection(cfg, command_timeout_s=600) as c:
            # a quote in the work dir used to end the quoting of the version stamp's path and run the rest
            wd = str(tmp_path / "wd it's'; touch VENV_PWNED; '")
            vpy = ensure_venv(c, wd, base)
            r = c.run([vpy, "-c", "import harness, sys; print(harness.__version__, sys.prefix)"])
            version, prefix = r.stdout.strip().split(" ", 1)
            assert r.ok and version == __import__("harness").__version__ and prefix == f"{wd}/venv"
            t0 = time.perf_counter()
            assert ensure_venv(c, wd, base) == vpy and time.perf_counter() - t0 < 5  # stamped: no second install
        assert not list(tmp_path.rglob("VENV_PWNED")) and not Path("VENV_PWNED").exists()
    finally:
        dev.kill_all()


def test_local_model_files_ship_and_a_device_sequence_is_used_in_place(device, tmp_path, small_seq):
    from harness.models.weights import resolve_weights

    pt = tmp_path / "my models" / "custom-v8n.pt"
    pt.parent.mkdir()
    pt.write_bytes(resolve_weights("yolov8n", "random").path.read_bytes())
    suite = {**SUITE, "experiments": [{"name": "b", "models": [str(pt)]}]}
    events = []
    plan = DeployPlan(profile(device, tmp_path, tmp_path / "wd"), Suite.model_validate(suite), Path("."), "m1",
                      tmp_path / "results", poll_s=0.3, device_sequence=str(small_seq))
    store = deploy(plan, events.append)
    shipped = next(e for e in events if e.name == "shipped").info
    assert shipped["sequence"] == str(small_seq) and shipped["sequence_bytes_sent"] == 0
    remote_pt = shipped["models"][str(pt)]
    assert remote_pt.endswith("/custom-v8n.pt") and Path(remote_pt).read_bytes() == pt.read_bytes()
    rec = store.read_records()[0]
    assert rec["status"] == "ok" and rec["model"]["weights_source"] == "file" and rec["model"]["weights_path"] == remote_pt


def test_a_runner_that_cannot_start_fails_the_run_after_bounded_restarts(device, tmp_path, small_seq):
    """A bad interpreter path used to be restarted forever (85 restarts in 90 s) with the lock left behind."""
    from harness.errors import BenchmarkError

    prof = profile(device, tmp_path, tmp_path / "wd").model_dump()
    prof["host_runtime"]["python"] = "/nonexistent/python3"
    prof["limits"] = {"max_runner_restarts": 2}
    plan = DeployPlan(DeviceProfile.model_validate(prof), Suite.model_validate(SUITE), small_seq, "bad", tmp_path / "res",
                      poll_s=0.2)
    events = []
    t0 = time.monotonic()
    with pytest.raises(BenchmarkError, match="the runner stopped 3 times without finishing a cell") as e:
        deploy(plan, lambda e: events.append(e.name))
    assert time.monotonic() - t0 < 60
    assert "/nonexistent/python3" in e.value.message  # the log's last words say why
    assert events.count("started") == 3 and not (tmp_path / "wd" / "lock.json").exists()  # the board is free again


def test_deployment_states_refuse_calls_out_of_order(tmp_path):
    from harness.errors import StateError
    from harness.remote.deploy import Deployment, State

    prof = DeviceProfile.model_validate({"name": "p", "kind": "jetson", "connection": {"host": "127.0.0.1"}})
    d = Deployment(DeployPlan(prof, Suite.model_validate(SUITE), tmp_path, "s1", tmp_path / "res"))
    assert d.state is State.NEW and d.runtime.name == "host"
    for method, call in (("ship", d.ship), ("pull", d.pull), ("lock", d.lock), ("alive", d.alive), ("finish", d.finish)):
        with pytest.raises(StateError, match=rf"Deployment\.{method}\(\) in state new \(allowed in: "):
            call()
    d.state = State.CONNECTED  # as connect() leaves it
    with pytest.raises(StateError, match=r"Deployment\.start\(\) in state connected \(allowed in: shipped, running\)"):
        d.start()
    with pytest.raises(StateError, match="connected -> complete is not a transition"):
        d._enter(State.COMPLETE)
    container = DeviceProfile.model_validate({"name": "c", "kind": "jetson", "runtime": "podman",
                                              "connection": {"host": "127.0.0.1"}})
    assert Deployment(DeployPlan(container, Suite.model_validate(SUITE), tmp_path, "s2", tmp_path)).runtime.engine == "podman"


def test_a_hung_cell_on_the_device_is_stopped_and_the_deploy_finishes(tmp_path, small_seq, harness_cache, cell_budget_s):
    """timeouts.cell_s on a device: the stuck cell (hard: no signal gets through) fails, the runner restarts itself
    under the same pid, and the host keeps following it to the end. cell_s is measured on this machine
    (``cell_budget_s``): a fixed 4 s failed the healthy cells on a machine half as fast."""
    from tests.measure.test_runner import hang_env

    dev = make_device(tmp_path / "dev")
    dev.start(env={"HARNESS_OFFLINE": "1", "HARNESS_CACHE_DIR": str(harness_cache), **hang_env(tmp_path, "yolo11n", True)})
    try:
        with_board(dev, tmp_path)
        prof = profile(dev, tmp_path, tmp_path / "wd").model_dump()
        prof["timeouts"] = {"cell_s": cell_budget_s, "cell_grace_s": 3}
        events = []
        plan = DeployPlan(DeviceProfile.model_validate(prof), Suite.model_validate(SUITE), small_seq, "hung",
                          tmp_path / "results", poll_s=0.3)
        recs = {r["cell_id"]: r for r in deploy(plan, lambda e: events.append(e.name)).read_records()}
        hung = recs["baseline.yolo11n.pytorch-fp32"]
        assert hung["timed_out"] is True and hung["duration_s"] >= cell_budget_s
        assert f"ran past timeouts.cell_s ({cell_budget_s} s)" in hung["reason"]
        assert recs["baseline.yolov8n.pytorch-fp32"]["status"] == recs["baseline.yolo26n.pytorch-fp32"]["status"] == "ok", \
            {k: (r["status"], r["duration_s"], r["reason"]) for k, r in recs.items()}
        assert events.count("started") == 1  # the runner restarted itself; the host never had to
    finally:
        dev.kill_all()


def test_a_shipped_image_built_for_a_newer_l4t_stops_the_deploy_before_the_runner_starts():
    """Preflight runs before the image is on the device: once shipped, its L4T label is checked against the board's."""
    from types import SimpleNamespace

    from harness.image.versions import LABEL
    from harness.remote.runtimes.container import ContainerRuntime

    def conn_for(release: str, image_l4t: str):
        def run(argv, **_):
            if argv[:3] == ["docker", "image", "inspect"]:
                out = json.dumps({LABEL: json.dumps({"flavor": "l4t-r36", "l4t": image_l4t})})
            else:
                assert argv[-2].endswith("/etc/nv_tegra_release")  # read bounded, regular files only
                out = release
            return SimpleNamespace(ok=True, exit_code=0, stdout=out, stderr="")
        return SimpleNamespace(run=run, where="jetson@orin")

    prof = DeviceProfile.model_validate({"name": "j", "kind": "jetson", "runtime": "docker",
                                         "container": {"image": "edge-harness:l4t-r36"}})
    rt = ContainerRuntime(prof)
    with pytest.raises(RemoteError, match=r"jetson@orin: the board runs L4T 36\.3\.0, older than .*L4T 36\.4\.0"):
        rt.check_image_fits_board(conn_for("# R36 (release), REVISION: 3.0, GCID: 36191598", "36.4.0"))
    rt.check_image_fits_board(conn_for("# R36 (release), REVISION: 4.3, GCID: 38968081", "36.4.0"))  # newer: fine
