"""A real labgrid farm on loopback: ``labgrid-coordinator``, one ``labgrid-exporter`` publishing loopback sshd
boards as ``NetworkService`` resources, and places tagged like a lab's (docs/farm.md; DESIGN.md §5).

The coordinator keeps places in ``places.yaml`` in its working directory and forgets every lock when it
restarts; the exporter exits when its coordinator goes away (a lab runs it under systemd with
``Restart=always``): ``restart_coordinator`` restarts both, as a lab's would come back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from harness.testing.infra.sshd import free_port

BIN = Path(sys.executable).parent


class LabFarm:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.coordinator: subprocess.Popen | None = None
        self.exporter: subprocess.Popen | None = None
        self.boards: dict[str, int] = {}
        self.places: set[str] = set()

    # --- processes -------------------------------------------------------------------
    def _spawn(self, argv: list[str], log: str) -> subprocess.Popen:
        return subprocess.Popen(argv, cwd=self.root, stdin=subprocess.DEVNULL, stdout=open(self.root / log, "ab"),
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> LabFarm:
        self.coordinator = self._spawn([str(BIN / "labgrid-coordinator"), "-l", self.addr], "coordinator.log")
        self._until(lambda: self.client("places").returncode == 0, "the coordinator answers")
        return self

    def export(self, boards: dict[str, int]) -> None:
        """Publish ``{group: sshd port}`` from exporter ``exp`` and wait until the coordinator lists them."""
        self.boards = dict(boards)
        spec = {g: {"NetworkService": {"address": "127.0.0.1", "username": "root", "port": p}} for g, p in boards.items()}
        (self.root / "exporter.yaml").write_text(yaml.safe_dump(spec))
        self._start_exporter()

    def _start_exporter(self) -> None:
        self.exporter = self._spawn([str(BIN / "labgrid-exporter"), "-c", self.addr, "-n", "exp", "--hostname", "127.0.0.1",
                                     "exporter.yaml"], "exporter.log")
        self._until(lambda: all(f"exp/{g}" in self.client("resources").stdout for g in self.boards), "the exporter's boards show")

    def add_place(self, name: str, group: str, **tags: str) -> None:
        self.places.add(name)
        for argv in (["-p", name, "create"], ["-p", name, "add-match", f"exp/{group}/*"],
                     ["-p", name, "set-tags", *(f"{k}={v}" for k, v in tags.items())]):
            r = self.client(*argv)
            if r.returncode != 0:
                raise RuntimeError(f"labgrid-client {' '.join(argv)}: {r.stderr[-300:]}")

    def kill_coordinator(self) -> None:
        self._kill(self.coordinator)
        self.coordinator = None

    def saved_places(self) -> set[str]:
        """The places the coordinator has written to its ``places.yaml`` (it saves every 15 s, and on nothing else)."""
        try:
            return set(yaml.safe_load((self.root / "places.yaml").read_text()) or {})
        except (OSError, yaml.YAMLError):
            return set()

    def restart_coordinator(self, down_s: float = 0.0) -> None:
        """SIGKILL the coordinator once it has saved its places (a coordinator killed before its 15 s save loses the
        places made since, which is labgrid's behaviour, not the fault under test); ``down_s`` later start it again,
        then the exporter (which exited meanwhile)."""
        self._until(lambda: self.places <= self.saved_places(), "the coordinator saved its places", timeout_s=40.0)
        self.kill_coordinator()
        self._kill(self.exporter)
        time.sleep(down_s)
        self.start()
        self._start_exporter()

    def stop(self) -> None:
        for p in (self.exporter, self.coordinator):
            self._kill(p)

    @staticmethod
    def _kill(p: subprocess.Popen | None) -> None:
        if p is not None and p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)

    # --- the client ------------------------------------------------------------------
    def client(self, *argv: str, user: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "LG_COORDINATOR": self.addr, **({"LG_USERNAME": user} if user else {})}
        return subprocess.run([str(BIN / "labgrid-client"), *argv], capture_output=True, text=True, env=env, timeout=60,
                              stdin=subprocess.DEVNULL)

    def holder(self, place: str) -> str | None:
        for block in self.client("-v", "places").stdout.split("Place '")[1:]:
            if block.startswith(f"{place}'"):
                line = next(x for x in block.splitlines() if x.strip().startswith("acquired:"))
                value = line.split(":", 1)[1].strip()
                return None if value == "None" else value
        raise KeyError(place)

    def _until(self, ok, what: str, timeout_s: float = 30.0) -> None:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if ok():
                return
            time.sleep(0.3)
        logs = " | ".join((self.root / f).read_text()[-400:] for f in ("coordinator.log", "exporter.log")
                          if (self.root / f).exists())
        raise RuntimeError(f"labgrid: {what} did not happen in {timeout_s:.0f} s: {logs}")
