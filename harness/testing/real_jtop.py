"""Start the real jetson-stats jtop service (``jtop.service.JtopServer``) on a fake board tree: no root, no /run.

``start_jtop_service(board_root, workdir)`` runs ``python -m harness.testing.real_jtop`` in its own process group.
Inside that process only, the service's hard-coded board paths (``SERVED``: ``/sys``, ``/proc/device-tree``,
``/proc/stat``, ``/proc/cpuinfo``, ``/etc/nv_tegra_release``) are served from the tree by wrapping ``open``,
``os.stat``/``lstat``/``listdir``/``scandir``/``access``/``readlink`` (``os.path`` uses these); the machine reads
as ``aarch64``; its uid-0 and ``jtop``-group checks are met by the caller's own ids; its config directory and its
socket (``jtop.service.JTOP_PIPE``, normally ``/run/jtop.sock``) live in the work dir. Everything else (its
clients' protocol, its sampling loop, its parsers) is the unmodified library.

A client reaches it through ``handle.socket_path``: our backend reads ``HARNESS_JTOP_SOCKET``
(``harness.telemetry.backends.jtop``); ``use_socket(path)`` points a plain ``jtop.jtop`` client in this process at it.
``pause()``/``resume()`` SIGSTOP/SIGCONT the whole service (a stalled service), ``kill()`` SIGKILLs it.
"""

from __future__ import annotations

import builtins
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.errors import TelemetryError

SERVED = ("/sys", "/proc/device-tree", "/proc/stat", "/proc/cpuinfo", "/etc/nv_tegra_release")
READY_LINE = "service ready"  # what JtopServer.run() logs once it serves clients
SAMPLER_PID = "jtop-sampler.pid"  # the service's sampling process (JtopServer is a multiprocessing.Process)
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0
MAX_SOCKET_PATH = 100  # AF_UNIX paths are limited to 107 bytes


# --- inside the service process -----------------------------------------------------------------------------------

def _mapper(board_root: str):
    """``path -> path``: a path under one of ``SERVED`` moved under ``board_root``; anything else (fds, relative
    paths, the rest of the filesystem) unchanged."""
    root = board_root.rstrip("/")

    def mapped(path):
        if isinstance(path, int):
            return path
        p = os.fsdecode(os.fspath(path))
        if p.startswith("/") and any(p == s or p.startswith(s + "/") for s in SERVED):
            return root + p
        return path

    return mapped


def _serve_tree(board_root: str) -> None:
    """Wrap the file functions the service reads the board through, so ``SERVED`` paths come from the tree."""
    mapped = _mapper(board_root)
    real_open = builtins.open

    def open_(file, *args, **kwargs):
        return real_open(mapped(file), *args, **kwargs)

    builtins.open = io.open = open_
    for name in ("stat", "lstat", "listdir", "scandir", "access", "readlink"):
        real = getattr(os, name)

        def wrapper(path=".", *args, _real=real, **kwargs):
            return _real(mapped(path), *args, **kwargs)

        setattr(os, name, wrapper)


def _as_root(fn):
    """``fn()`` while ``os.getuid()`` says 0 (JtopServer refuses to start otherwise); the real uid afterwards."""
    real = os.getuid
    os.getuid = lambda: 0
    try:
        return fn()
    finally:
        os.getuid = real


def serve(board_root: str, socket_path: str, workdir: str) -> None:
    """Run JtopServer on ``board_root`` until SIGTERM (the body of ``python -m harness.testing.real_jtop``).

    Its config dir is ``workdir/config``; once started, the pid of its sampling process is in ``workdir/SAMPLER_PID``.
    """
    import grp
    import logging
    import platform

    import jtop.core.config as jtop_config
    import jtop.service as service

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="[%(levelname)s] %(name)s - %(message)s")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    service.JTOP_PIPE = socket_path
    jtop_config.get_config_service = lambda data_folder=None: str(Path(workdir) / "config")
    service.getgrnam = lambda name: grp.getgrgid(os.getgid())  # the socket's group: ours, not a 'jtop' group
    platform.machine = lambda: "aarch64"
    _serve_tree(board_root)
    server = _as_root(lambda: service.JtopServer(force=False))
    start = server.start  # loop_for_ever() calls it: socket up, then the sampling process forked

    def start_and_record() -> None:
        start()
        tmp = Path(workdir) / f"{SAMPLER_PID}.tmp"
        tmp.write_text(str(server.pid))
        tmp.replace(Path(workdir) / SAMPLER_PID)  # whole, never half-written

    server.start = start_and_record
    server.loop_for_ever()


# --- the test side ------------------------------------------------------------------------------------------------

def use_socket(path: Path | str) -> None:
    """Point jtop clients created in this process from now on at ``path`` (``jtop.service.JTOP_PIPE``)."""
    import jtop.service

    jtop.service.JTOP_PIPE = str(path)


class JtopService:
    """A running service: ``socket_path``, ``log_path``, ``started_s`` (how long it took to serve)."""

    def __init__(self, proc: subprocess.Popen, workdir: Path, socket_path: Path, own_dir: Path | None) -> None:
        self.proc, self.workdir, self.socket_path, self._own_dir = proc, workdir, socket_path, own_dir
        self.log_path = workdir / "jtop-service.log"
        self.started_s: float | None = None

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def _signal(self, sig: int) -> None:
        """``sig`` to the service's process group while its leader is not yet reaped (so the group id is ours)."""
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, sig)  # the launcher, its manager and its sampling process
            except ProcessLookupError:
                pass

    def pause(self) -> None:
        """SIGSTOP the service's process group: it stops answering and stops sampling (a stalled service)."""
        self._signal(signal.SIGSTOP)

    def pause_sampling(self) -> None:
        """SIGSTOP only the service's sampling process: its socket still answers, with the last reading."""
        pid = int((self.workdir / SAMPLER_PID).read_text())
        if self.proc.returncode is None and os.getpgid(pid) == self.proc.pid:  # one of this service's processes
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after ``pause()`` or ``pause_sampling()``."""
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL the service's process group (a crash): its socket file stays behind, as after a real crash."""
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> None:
        """SIGTERM (the service closes its clients and removes its socket), SIGKILL after ``STOP_TIMEOUT_S``."""
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pass
        self._signal(signal.SIGKILL)  # its children too, whatever the launcher managed
        self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.socket_path.unlink(missing_ok=True)
        if self._own_dir is not None:
            self._own_dir.rmdir()

    def __enter__(self) -> JtopService:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _socket_path(workdir: Path) -> tuple[Path, Path | None]:
    """``workdir/jtop.sock``, or one in a short temp dir when that path is too long for a unix socket."""
    path = workdir / "jtop.sock"
    if len(os.fsencode(str(path))) <= MAX_SOCKET_PATH:
        return path, None
    own = Path(tempfile.mkdtemp(prefix="jtop-"))
    return own / "jtop.sock", own


def start_jtop_service(board_root: Path, workdir: Path, timeout_s: float = START_TIMEOUT_S) -> JtopService:
    """Start the real jtop service on ``board_root`` (see ``board_tree.build``); returns once it serves clients.

    ``workdir`` (a temp dir) holds its socket, config dir and log. Raises TelemetryError, with the service's log,
    when jetson-stats is missing or the service is not serving within ``timeout_s``.
    """
    try:
        import jtop.service  # noqa: F401
    except ImportError as e:
        raise TelemetryError(f"jetson-stats is not importable ({e})", "pip install -e '.[dev]' (jetson-stats==7.2.2)") from e
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config").mkdir(exist_ok=True)
    (workdir / SAMPLER_PID).unlink(missing_ok=True)
    sock, own = _socket_path(workdir)
    t0 = time.perf_counter()
    with open(workdir / "jtop-service.log", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "harness.testing.real_jtop", str(board_root), str(sock),
                                 str(workdir)], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    svc = JtopService(proc, workdir, sock, own)
    while not (sock.exists() and (workdir / SAMPLER_PID).exists() and READY_LINE in svc.log_tail(1 << 20)):
        if proc.poll() is not None or time.perf_counter() - t0 > timeout_s:
            svc.stop()
            why = f"exited with {proc.returncode}" if proc.returncode is not None else f"not serving after {timeout_s:g} s"
            raise TelemetryError(f"real jtop service on {board_root} {why}; its log: {svc.log_tail()}",
                                 "check the board tree (board_tree.build) and the jetson-stats version")
        time.sleep(0.02)
    svc.started_s = time.perf_counter() - t0
    return svc


if __name__ == "__main__":
    serve(*sys.argv[1:4])
