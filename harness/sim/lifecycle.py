"""Start, find and stop simulated boards; each lives in ``<state>/sim/<name>/`` (``harness.paths.state_dir``).

That directory holds the generated keys (0600), ``known_hosts`` pinning the generated host key, the board tree
(``board/``), the runner's work dir (``work/``), ``config.json`` (what the daemon starts), ``sim.json`` (the
daemon's and sshd's pids, written once sshd listens), the logs, and ``profile.yaml``: the kind's device profile
pointed at the loopback board (``runtime: host`` with this harness's Python, as the deploy tests do) and marked
``simulated: true``. ``--profile sim-<name>`` finds it (``config.profiles.profile_path``).
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.errors import RemoteError
from harness.paths import state_dir
from harness.sim.boards import KINDS, SimKind

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 15.0
# What the board's sessions inherit from the `harness sim start` environment (the same caches, offline mode, threads).
PASSED_ENV = ("HARNESS_OFFLINE", "HARNESS_CACHE_DIR", "HARNESS_MODELS_DIR", "HARNESS_REPEATS", "YOLO_OFFLINE",
              "YOLO_VERBOSE", "OMP_NUM_THREADS")


def sim_dir(name: str) -> Path:
    return state_dir() / "sim" / name


def profile_name(name: str) -> str:
    return f"sim-{name}"


@dataclass
class SimBoard:
    """A simulated board as its state directory records it."""

    name: str
    root: Path
    info: dict  # sim.json: pid, sshd_pid, port, kind, started_at ({} before the daemon wrote it)

    @property
    def profile(self) -> Path:
        return self.root / "profile.yaml"

    @property
    def alive(self) -> bool:
        return bool(self.info) and _is_daemon(self.info.get("pid"), self.root)


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _is_daemon(pid, root: Path) -> bool:
    """``pid`` is this board's daemon (not a reused pid of something else)."""
    cmd = _cmdline(pid) if isinstance(pid, int) else []
    return "harness.sim.daemon" in cmd and str(root) in cmd


def _is_sshd(pid, root: Path) -> bool:
    cmd = _cmdline(pid) if isinstance(pid, int) else []
    return bool(cmd) and "sshd" in cmd[0] and any(str(root) in c for c in cmd)  # sshd retitles itself "sshd: ..."


def find(name: str) -> SimBoard | None:
    root = sim_dir(name)
    if not root.is_dir():
        return None
    try:
        info = json.loads((root / "sim.json").read_text())
    except (OSError, ValueError):
        info = {}
    return SimBoard(name, root, info if isinstance(info, dict) else {})


def boards() -> list[SimBoard]:
    d = state_dir() / "sim"
    return [b for p in sorted(d.iterdir()) if p.is_dir() and (b := find(p.name))] if d.is_dir() else []


def _sim_profile(kind: SimKind, name: str, root: Path, port: int) -> dict:
    from harness.config.profiles import load_profile

    base = load_profile(kind.name).model_dump(exclude={"container", "cooldown"})
    base.update(
        name=profile_name(name), simulated=True, compute="cpu", runtime="host", probe_root=str(root / "board"),
        description=f"SIMULATED {kind.name} on 127.0.0.1:{port} (harness sim): its numbers are not measurements.",
        connection={"host": "127.0.0.1", "port": port, "user": getpass.getuser(), "key_file": str(root / "client_key"),
                    "known_hosts": str(root / "known_hosts"), "connect_timeout_s": 10},
        host_runtime={"python": sys.executable, "venv": False, "workdir": str(root / "work")},
        telemetry={**base["telemetry"], "prefer": ["sysfs_ina3221", "tegrastats", "none"], "idle_s": 1.0},
        measure={**base["measure"], "min_duration_s": 1.0},
    )
    return base


def _board(kind: SimKind, board: Path, tick_ms: int) -> list[Path]:
    """The fake L4T tree with nvpmodel, jetson_clocks and tegrastats; the dirs that go first on the PATH."""
    from harness.sim.board_tree import build
    from harness.sim.jetson import write_fake_jetson

    build(board, kind.shape)
    for f in board.glob("sys/class/hwmon/hwmon*/update_interval"):
        f.write_text(f"{tick_ms}\n")
    write_fake_jetson(board, sysfs=board, modes=kind.modes, cpus=kind.shape.cpus, gpu_devfreq=kind.shape.gpu_devfreq)
    (board / "proc/sys/kernel/random").mkdir(parents=True, exist_ok=True)
    (board / "proc/sys/kernel/random/boot_id").write_text(f"{uuid.uuid4()}\n")
    tegrastats = board / "usr/bin/tegrastats"
    tegrastats.write_text(f"#!/bin/sh\n# simulated board (harness sim)\nexec {sys.executable} -m harness.sim.tegrastats \"$@\"\n")
    tegrastats.chmod(0o755)
    return [board / "usr/sbin", board / "usr/bin"]


def _set_mode(board: Path, mode_id: int) -> None:
    env = {**os.environ, "FAKE_JETSON_ROOT": str(board)}
    subprocess.run([str(board / "usr/sbin/nvpmodel"), "-m", str(mode_id)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


def _session_env(board: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSED_ENV if os.environ.get(k)}
    env.update(HARNESS_SYSFS_ROOT=str(board), FAKE_JETSON_ROOT=str(board), PYTHONDONTWRITEBYTECODE="1")
    bad = [k for k, v in env.items() if any(c.isspace() or c in "\"'\\" for c in v)]
    if bad:
        raise RemoteError(f"cannot pass {', '.join(bad)} to the simulated board: sshd's SetEnv takes no spaces or quotes",
                          "use paths without spaces (HARNESS_STATE_DIR, HARNESS_CACHE_DIR)")
    return env


def start(kind_name: str, name: str | None = None) -> tuple[SimBoard, bool]:
    """Start the simulated board ``name`` (default: the kind's name); (board, started). A running one is returned as
    it is (started False); a stale one (its daemon gone) is cleaned up and started afresh."""
    from harness.sim.sshd import make_device

    kind = KINDS[kind_name]
    name = name or kind_name
    found = find(name)
    if found is not None and found.alive:
        return found, False
    if found is not None:
        _clean(found)
    root = sim_dir(name)
    root.mkdir(parents=True, mode=0o700)
    try:
        dev = make_device(root)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        shutil.rmtree(root, ignore_errors=True)
        raise RemoteError(f"cannot set up a simulated board: {e}", "install openssh-server and openssh-client") from e
    for key in ("client_key", "host_key", "authorized_keys"):
        (root / key).chmod(0o600)
    board = root / "board"
    path_dirs = _board(kind, board, tick_ms=50)
    profile = _sim_profile(kind, name, root, dev.port)
    _set_mode(board, kind.mode_id(profile["power_mode"]["nvpmodel"]))
    (root / "work").mkdir()
    (root / "profile.yaml").write_text("# A SIMULATED board (harness sim start): nothing measured here is a measurement.\n"
                                      + yaml.safe_dump(profile, sort_keys=False))
    (root / "config.json").write_text(json.dumps({"kind": kind_name, "name": name, "port": dev.port, "board": str(board),
                                                  "path_dirs": [str(p) for p in path_dirs], "env": _session_env(board)}))
    with open(root / "daemon.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "harness.sim.daemon", str(root)], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True, cwd=root)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        sim = find(name)
        if sim is not None and sim.info and _listening(dev.port):
            return sim, True
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    tail = (root / "daemon.log").read_text(errors="replace")[-600:] + (root / "sshd.log").read_text(errors="replace")[-600:] \
        if (root / "sshd.log").exists() else (root / "daemon.log").read_text(errors="replace")[-600:]
    stop(name)
    raise RemoteError(f"the simulated board {name} did not come up: {tail.strip()}", "see the log above; is sshd installed?")


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def _kill(pid: int, is_ours, timeout_s: float) -> None:
    """SIGTERM ``pid`` while ``is_ours(pid)``; SIGKILL after ``timeout_s``."""
    if not is_ours(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and is_ours(pid) and not _zombie(pid):
        time.sleep(0.1)
    if is_ours(pid) and not _zombie(pid):
        os.kill(pid, signal.SIGKILL)


def _zombie(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return text[text.rfind(")") + 2:].startswith("Z")


def _clean(sim: SimBoard) -> None:
    """The daemon (which ends sshd and the board's processes), anything left of them, then the state directory."""
    pid, sshd = sim.info.get("pid"), sim.info.get("sshd_pid")
    if isinstance(pid, int):
        _kill(pid, lambda p: _is_daemon(p, sim.root), STOP_TIMEOUT_S)
    if isinstance(sshd, int):
        _kill(sshd, lambda p: _is_sshd(p, sim.root), 5.0)
    shutil.rmtree(sim.root, ignore_errors=True)


def stop(name: str) -> bool:
    """Stop the board ``name`` and remove its state; False when there was none."""
    sim = find(name)
    if sim is None:
        return False
    _clean(sim)
    return True
