"""``runtime: host``: the runner in the device's own Python, detached with ``setsid nohup``.

The device-side virtualenv is created by the harness and holds this harness version:

``<workdir>/venv`` is made with ``--system-site-packages`` so the device's own
torch / onnxruntime / TensorRT (JetPack's wheels) are used, and this harness is
installed into it from a wheel built here (``--no-deps``: the device's packages
are not replaced). A ``harness-version`` stamp skips the install next time.
"""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import harness
from harness.config.profiles import DeviceProfile
from harness.errors import BenchmarkError
from harness.image.wheel import build_wheel
from harness.remote.checks import Check
from harness.remote.connection import read_small_argv


def ensure_venv(conn, workdir: str, python: str) -> str:
    """Create/refresh ``<workdir>/venv``; returns its python."""
    venv = f"{workdir}/venv"
    vpy = f"{venv}/bin/python"
    stamp = conn.run(read_small_argv(f"{venv}/harness-version", 256))
    if stamp.ok and stamp.stdout.strip() == harness.__version__ and conn.run(["test", "-x", vpy]).ok:
        return vpy
    r = conn.run([python, "-m", "venv", "--system-site-packages", venv], timeout_s=600)
    if not r.ok:
        raise BenchmarkError(f"{conn.where}: cannot create {venv}: {r.stderr.strip()[-300:]}",
                          "install python3-venv on the device (sudo apt-get install python3-venv)")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(Path(tmp))
        remote_wheel = f"{venv}/{wheel.name}"
        conn.put(wheel, remote_wheel)
    # by a relative name: pip reads "; ..." in a path as an environment marker
    r = conn.run(["sh", "-c", 'cd "$1" && "$2" -m pip install -q --no-deps --force-reinstall "./$3"', "sh", venv, vpy,
                  wheel.name], timeout_s=600)
    if not r.ok:
        raise BenchmarkError(f"{conn.where}: installing the harness into {venv} failed: {r.stderr.strip()[-300:]}",
                          "check pip on the device")
    conn.run(["sh", "-c", 'printf %s "$1" > "$2"', "sh", harness.__version__, f"{venv}/harness-version"])
    return vpy


class HostRuntime:
    """The runner as a plain process on the device; its handle is the pid, its log a file beside the run."""

    engine = ""

    def __init__(self, profile: DeviceProfile) -> None:
        self.name = "host"
        self.cfg = profile.host_runtime
        self.python = self.cfg.python

    def checks(self, facts: dict[str, str]) -> list[Check]:
        return [Check("python3", bool(facts.get("python3")), f"python3 {facts.get('python3') or 'missing'}")]

    def prepare(self, conn, workdir: str, progress) -> dict:  # noqa: ARG002 - nothing to report while a venv builds
        if self.cfg.venv:
            self.python = ensure_venv(conn, workdir, self.cfg.python)
        return {"python": self.python}

    def start(self, conn, workdir: str, run_id: str, argv_tail: list[str]) -> tuple[int, str]:
        log = f"{workdir}/runs/{run_id}.log"
        argv = [self.python, *argv_tail]
        cmd = (f"cd {shlex.quote(workdir)} && setsid nohup {shlex.join(argv)} >> {shlex.quote(log)} 2>&1 < /dev/null "
               f"& echo $!")
        r = conn.run(["sh", "-c", cmd])
        if not r.ok or not r.stdout.strip().isdigit():
            raise BenchmarkError(f"{conn.where}: could not start the runner ({r.stderr.strip()[-200:]})", f"see {log} on the device")
        return int(r.stdout.strip()), log

    def alive(self, conn, handle) -> bool:
        """The process exists and is not a zombie (an exited child nobody reaped yet)."""
        if not isinstance(handle, int):
            return False
        return conn.run(["sh", "-c", f"kill -0 {handle} 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' /proc/{handle}/status"]).ok

    def stop(self, conn, handle) -> None:
        if isinstance(handle, int):
            conn.run(["kill", "-TERM", str(handle)])

    def logs(self, conn, handle, log: str, lines: int) -> str:  # noqa: ARG002 - the log file names the run
        r = conn.run(["tail", "-n", str(lines), log], max_output_bytes=1 << 20)
        return r.stdout + r.stderr
