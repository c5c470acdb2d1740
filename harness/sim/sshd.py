"""A real OpenSSH server on a loopback port, standing for a device (docs/architecture.md, "Tests")."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


@dataclass
class LoopbackDevice:
    root: Path
    port: int
    client_key: Path
    known_hosts: Path
    host_key: Path
    proc: subprocess.Popen | None = None

    def start(self, path_dirs: tuple[Path, ...] = (), env: dict[str, str] | None = None) -> LoopbackDevice:
        """Start (or restart) sshd; ``path_dirs`` go first on the sessions' PATH, ``env`` is set in them. The
        device shares this host's cores, so its sessions keep this process's ``OMP_NUM_THREADS`` when set."""
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        self._path_dirs, self._env = path_dirs, env or {}
        path = ":".join([*map(str, path_dirs), os.environ.get("PATH", "/usr/bin:/bin")])
        share = {"OMP_NUM_THREADS": os.environ["OMP_NUM_THREADS"]} if os.environ.get("OMP_NUM_THREADS") else {}
        setenv = " ".join([f"PATH={path}", *(f"{k}={v}" for k, v in {**share, **self._env}.items())])
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", "/dev/null", "-p", str(self.port), "-o", "ListenAddress=127.0.0.1",
             "-o", f"HostKey={self.host_key}", "-o", f"AuthorizedKeysFile={self.root / 'authorized_keys'}",
             "-o", "UsePAM=no", "-o", "PermitRootLogin=prohibit-password", "-o", "StrictModes=no",
             "-o", "Subsystem=sftp internal-sftp", "-o", f"SetEnv={setenv}"],
            stdout=subprocess.DEVNULL, stderr=open(self.root / "sshd.log", "ab"),
        )
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"sshd did not listen on 127.0.0.1:{self.port}: {(self.root / 'sshd.log').read_text()[-500:]}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def kill_all(self) -> None:
        """Kill the listener and every session it forked: the link drops as if the device vanished."""
        if self.proc is None:
            return
        subprocess.run(["pkill", "-KILL", "-P", str(self.proc.pid)], check=False)
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> LoopbackDevice:
        return self.start(self._path_dirs, self._env)

    def flap(self, after_s: float, down_s: float) -> dict:
        """In the background: after ``after_s`` kill everything (link drops), ``down_s`` later start again.

        Returns a dict that receives ``killed`` and ``restarted`` (time.monotonic()) as they happen.
        """
        import threading

        marks: dict = {}

        def run() -> None:
            time.sleep(after_s)
            self.kill_all()
            marks["killed"] = time.monotonic()
            time.sleep(down_s)
            self.restart()
            marks["restarted"] = time.monotonic()

        threading.Thread(target=run, name="sshd-flap", daemon=True).start()
        return marks


def make_device(root: Path) -> LoopbackDevice:
    """Keys, authorized_keys and a known_hosts pinning this device's host key."""
    if not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None:
        raise RuntimeError("openssh-server is not installed (make test installs it)")
    root.mkdir(parents=True, exist_ok=True)
    host = keygen(root / "host_key")
    client = keygen(root / "client_key")
    (root / "authorized_keys").write_text((root / "client_key.pub").read_text())
    port = free_port()
    pub = (root / "host_key.pub").read_text().split()
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {pub[0]} {pub[1]}\n")
    return LoopbackDevice(root, port, client, root / "known_hosts", host)
