"""The simulated board's daemon: ``python -m harness.sim.daemon STATE_DIR`` (started detached by ``sim start``).

It becomes a child subreaper, starts sshd as its child (``sim.sshd.LoopbackDevice``: sessions get the board's PATH
and environment), writes ``sim.json`` (its pid, sshd's pid, the port) once sshd listens, then every ``TICK_S``
reaps orphans, measures the board's load and writes the INA3221 rails (``sim.power``) for the current power mode
(``var/lib/fake-jetson/nvpmodel`` under the board tree). SIGTERM stops sshd and every process of the board.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import time
from pathlib import Path

from harness.sim.sshd import LoopbackDevice
from harness.sim.power import BoardLoad, _children, rail_readings
from harness.sim.sysfs import set_rail

TICK_S = 0.05  # the rails' update period (and the INA3221 update_interval the tree declares)
PR_SET_CHILD_SUBREAPER = 36


def _subreaper() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: orphans go to init and their load is not seen
        pass


def _descendants(pid: int) -> list[int]:
    out, stack = [], _children(pid)
    while stack:
        p = stack.pop()
        out.append(p)
        stack += _children(p)
    return out


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _end_board(dev: LoopbackDevice) -> None:
    """sshd and every process of the board: SIGTERM, two seconds, SIGKILL."""
    procs = _descendants(os.getpid())
    for sig, wait_s in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 1.0)):
        for p in procs:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and _descendants(os.getpid()):
            _reap()
            time.sleep(0.05)
        procs = _descendants(os.getpid())
        if not procs:
            break
    _reap()
    dev.proc = None


def _tick(kind, load: BoardLoad, rail_dirs: dict[str, Path], mode_file: Path) -> None:
    """One update of the rails: the board's load now, under the power mode nvpmodel last set."""
    try:
        mode = int(mode_file.read_text().strip())
    except (OSError, ValueError):
        mode = kind.modes[0][0]
    for label, (mv, ma) in rail_readings(kind.shape, kind.budget_w(mode), load.sample()).items():
        if label in rail_dirs:
            set_rail(rail_dirs[label], label, mv, ma)


def run(state: Path) -> int:
    from harness.sim.boards import KINDS

    conf = json.loads((state / "config.json").read_text())
    kind = KINDS[conf["kind"]]
    board = Path(conf["board"])
    _subreaper()
    dev = LoopbackDevice(state, conf["port"], state / "client_key", state / "known_hosts", state / "host_key")
    dev.start(path_dirs=tuple(Path(p) for p in conf["path_dirs"]), env=conf["env"])
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    info = {"pid": os.getpid(), "sshd_pid": dev.proc.pid, "port": conf["port"], "kind": conf["kind"],
            "name": conf["name"], "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    tmp = state / "sim.json.tmp"
    tmp.write_text(json.dumps(info))
    tmp.replace(state / "sim.json")
    load = BoardLoad(os.getpid())
    rail_dirs = {label: d for d in board.glob("sys/class/hwmon/hwmon*")
                 for label in (p.read_text().strip() for p in d.glob("in*_label"))}
    mode_file = board / "var/lib/fake-jetson/nvpmodel"
    while not stopping:
        _reap()
        if dev.proc.poll() is not None:
            print(f"sshd exited ({dev.proc.returncode}): see {state / 'sshd.log'}", file=sys.stderr)
            break
        try:
            _tick(kind, load, rail_dirs, mode_file)
        except Exception as e:  # noqa: BLE001 - a bad tick (a process that vanished mid-read) never ends the board
            print(f"tick: {type(e).__name__}: {e}", file=sys.stderr)
        time.sleep(TICK_S)
    _end_board(dev)
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
