"""A fresh Debian "board" in a podman container, reachable over SSH on a loopback port.

The image (``board.Dockerfile`` FROM the local Debian base, plus the fake Jetson tools
in /opt/fake-jetson) is tagged by its content, so it is built once and reused between
runs of the suite. The container shares the host network (podman's own networking may not work
here) and boots systemd (``--systemd=always``), which starts sshd on the test's port;
where systemd cannot boot in a container, sshd runs as PID 1 instead (``systemd`` False)
and the roles' service tasks are gated off.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.testing.fakes.jetson import write_fake_jetson
from harness.testing.infra.podman import base_image, build, image_exists, podman
from harness.testing.infra.sshd import free_port, keygen

DOCKERFILE = Path(__file__).with_name("board.Dockerfile")
USER = "jetson"


def apt_archives() -> Path:
    """Downloaded .debs, kept between runs of the suite and mounted at /var/cache/apt/archives: each board starts
    fresh (nothing installed) but does not fetch the same packages from the mirror again."""
    d = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edge-harness" / "provision-apt-archives"
    (d / "partial").mkdir(parents=True, exist_ok=True)
    return d


def board_image() -> str:
    base = base_image()
    base_id = podman("image", "inspect", "--format", "{{.Id}}", base).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="harness-board-") as tmp:
        ctx = Path(tmp)
        write_fake_jetson(ctx / "fake-jetson")
        h = hashlib.sha256(base_id.encode() + DOCKERFILE.read_bytes())
        for f in sorted(p for p in (ctx / "fake-jetson").rglob("*") if p.is_file()):
            h.update(str(f.relative_to(ctx)).encode() + f.read_bytes())
        tag = f"localhost/harness-test-board:{h.hexdigest()[:12]}"
        if not image_exists(tag):
            shutil.copy(DOCKERFILE, ctx / "Dockerfile")
            build(ctx, ctx / "Dockerfile", tag, {"BASE": base}, timeout_s=600)
            stale = podman("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", f"reference={tag.split(':')[0]}",
                           check=False).stdout.split()
            for old in set(stale) - {tag}:  # boards of earlier Dockerfiles
                podman("rmi", old, check=False)
    return tag


@dataclass
class Board:
    name: str
    port: int
    client_key: Path
    known_hosts: Path
    systemd: bool = False

    def sh(self, script: str, check: bool = True):
        """Run ``script`` as root inside the board (not over SSH): for checking what provisioning did."""
        return podman("exec", self.name, "sh", "-c", script, check=check, timeout_s=120)

    def profile(self, path: Path, **fields) -> Path:
        import yaml

        prof = {"name": "board", "kind": "desktop-cpu", "runtime": "host",
                "connection": {"host": "127.0.0.1", "user": USER, "port": self.port, "key_file": str(self.client_key),
                               "known_hosts": str(self.known_hosts), "connect_timeout_s": 10}, **fields}
        path.write_text(yaml.safe_dump(prof))
        return path

    def remove(self) -> None:
        podman("rm", "-f", "-t", "0", self.name, check=False, timeout_s=60)


def start_board(root: Path) -> Board:
    """Keys in ``root``, the container started detached, sshd answering on 127.0.0.1:port."""
    image = board_image()
    keys = root / "keys"
    keys.mkdir(parents=True)
    keygen(keys / "host_key")
    keygen(keys / "client_key")
    shutil.copy(keys / "client_key.pub", keys / "authorized_keys")
    port = free_port()
    kind, blob = (keys / "host_key.pub").read_text().split()[:2]
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {kind} {blob}\n")
    (keys / "port").write_text(f"{port}\n")
    board = Board(f"harness-provision-{port}", port, keys / "client_key", root / "known_hosts")
    mounts = ["-v", f"{keys}:/keys:ro", "-v", f"{apt_archives()}:/var/cache/apt/archives"]
    podman("run", "-d", "--name", board.name, "--network", "host", "--systemd", "always", *mounts, image,
           "/lib/systemd/systemd", timeout_s=120)
    if _wait_ssh(port, 30):
        board.systemd = True
        return board
    logs = podman("logs", board.name, check=False).stdout[-300:]
    board.remove()  # systemd did not boot here: sshd as PID 1, no services
    print(f"systemd did not start sshd in the board container ({logs!r}); running sshd as PID 1")
    podman("run", "-d", "--name", board.name, "--network", "host", *mounts, image,
           "/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null", "-p", str(port), "-o", "ListenAddress=127.0.0.1",
           "-o", "HostKey=/keys/host_key", "-o", "AuthorizedKeysFile=/keys/authorized_keys", "-o", "UsePAM=no",
           "-o", "PermitRootLogin=no", "-o", "StrictModes=no", "-o", "Subsystem=sftp internal-sftp", timeout_s=120)
    if _wait_ssh(port, 30):
        return board
    logs = podman("logs", board.name, check=False).stderr[-500:]
    board.remove()
    raise RuntimeError(f"sshd in {board.name} did not answer on 127.0.0.1:{port}: {logs}")


def _wait_ssh(port: int, timeout_s: float) -> bool:
    """True once something on 127.0.0.1:port greets with an SSH banner."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False
