"""``harness deploy``: run a suite on a device over SSH and bring the results home.

Steps: connect (strict, bounded) -> preflight (stop on a failed check) -> lock
the device -> ship the suite, the device-side profile and the sequence (skipped
when the same content is already there) -> start the runner detached
(``setsid nohup``, every fd redirected, so it survives the SSH session) -> poll:
pull the manifest and every finished record into ``results/<run-id>/`` as they
appear -> on an SSH drop, reconnect with backoff; if the boot id changed, start
the runner again with ``--resume`` (it continues after the last finished cell)
-> release the lock. Records are pulled into the same atomic RunStore the
local runner uses, so an interrupted deploy keeps everything already pulled.
This version runs profiles with ``runtime: host``; container runtimes are
issue 6's.
"""

from __future__ import annotations

import hashlib
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.errors import BenchmarkError, DeviceDataError, HarnessError, LinkError, ProfileError, RemoteError, ResultsError, printable
from harness.fsutil import atomic_write_text
from harness.names import require_safe_name
from harness.config.profiles import DeviceProfile
from harness.remote import lock
from harness.remote.connection import DeviceConnection
from harness.remote.intake import RemoteRunDir
from harness.remote.preflight import run_preflight
from harness.results.record import SCHEMA_VERSION, at
from harness.results.store import RunStore
from harness.config.suite import Suite

POLL_S = 2.0
BACKOFF_S = (1, 2, 4, 8, 15, 30)


@dataclass
class DeployPlan:
    profile: DeviceProfile
    suite: Suite | None
    sequence: Path
    run_id: str
    out: Path
    accept_new_host_key: bool = False
    poll_s: float = POLL_S
    reconnect_budget_s: float = 300.0
    device_sequence: str | None = None  # a sequence already on the device: nothing shipped
    events: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        require_safe_name(self.run_id, "run id", ProfileError)


class Session(BaseModel):
    """``deploy.json``: written by the host only (a pull can never name it), validated when read back."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    profile: dict
    suite: dict
    sequence: str | None = None
    device_sequence: str | None = None
    workdir: str
    remote_run_dir: str
    pid: int | str | None
    log: str
    boot_id: str


def _sequence_hash(seq: Path) -> str:
    """Content hash of a sequence directory (names and bytes of every file)."""
    h = hashlib.sha256()
    for f in sorted(p for p in seq.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(seq)).encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


class Deployment:
    def __init__(self, plan: DeployPlan, progress: Callable[[str, dict], None] | None = None) -> None:
        if plan.profile.connection is None:
            raise ProfileError(f"profile {plan.profile.name!r} has no connection block", "deploy needs connection: {host: ...}")
        self.plan = plan
        self.progress = progress or (lambda e, d: None)
        self.conn: DeviceConnection | None = None
        self.boot_id = ""
        self.workdir = ""
        self.pid = None
        self.log = ""
        self.store = RunStore(plan.out / plan.run_id)

    # --- connection -----------------------------------------------------------------
    def connect(self) -> None:
        p = self.plan.profile
        self.conn = DeviceConnection(p.connection, self.plan.accept_new_host_key, p.timeouts.command_s).open()

    def reconnect(self) -> float:
        """Reconnect with backoff; returns seconds it took. RemoteError when the budget runs out."""
        t0 = time.monotonic()
        for delay in (*BACKOFF_S, *([BACKOFF_S[-1]] * 100)):
            if self.conn is not None:
                self.conn.close()
            try:
                self.connect()
                return time.monotonic() - t0
            except RemoteError as e:
                last = e
                if time.monotonic() - t0 + delay > self.plan.reconnect_budget_s:
                    raise LinkError(f"{last.message}; gave up after {time.monotonic() - t0:.0f} s of reconnecting",
                                      f"the run continues on the device; `harness deploy --resume {self.plan.run_id}` later") from e
                self.progress("reconnecting", {"in_s": delay, "error": e.message})
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def sh(self, script: str, timeout_s: float | None = None):
        return self.conn.run(["sh", "-c", script], timeout_s=timeout_s)

    # --- steps ----------------------------------------------------------------------
    def preflight(self) -> None:
        facts, checks = run_preflight(self.conn, self.plan.profile)
        failed = [c for c in checks if not c.ok]
        self.progress("preflight", {"checks": checks})
        if failed:
            raise RemoteError(f"{self.conn.where}: preflight failed: " + "; ".join(f"{c.name}: {c.detail}" for c in failed),
                              f"run `harness doctor --profile {self.plan.profile.name}` and fix the device or the profile")
        self.boot_id = facts.get("boot_id", "")
        self.workdir = self.conn.expand_user(self.plan.profile.host_runtime.workdir)

    @property
    def remote_run_dir(self) -> str:
        return f"{self.workdir}/runs/{self.plan.run_id}"

    def ship(self) -> dict:
        """Suite, device profile and sequence; the sequence only when that content is not there yet."""
        q = shlex.quote
        inputs = f"{self.workdir}/inputs/{self.plan.run_id}"
        self.sh(f"mkdir -p {q(inputs)} {q(self.workdir + '/runs')} {q(self.workdir + '/sequences')}")
        prof = self.plan.profile.model_dump()
        prof.pop("connection")
        self._put_text(yaml.safe_dump(prof), f"{inputs}/profile.yaml")
        suite = self.plan.suite.model_dump()
        shipped_models = self._ship_models(suite, f"{inputs}/models")
        self._put_text(yaml.safe_dump(suite), f"{inputs}/suite.yaml")
        if self.plan.device_sequence:
            if not self.conn.run(["test", "-d", f"{self.plan.device_sequence}/img1"]).ok:
                raise RemoteError(f"{self.conn.where}: {self.plan.device_sequence} is not a MOT sequence (no img1/)",
                                  "pass the device path of a sequence directory, or ship a local one with --sequence")
            info = {"sequence": self.plan.device_sequence, "sequence_bytes_sent": 0, "sequence_skipped": True,
                    "inputs": inputs, "models": shipped_models}
            self.progress("shipped", info)
            return info
        seq = self.plan.sequence
        digest = _sequence_hash(seq)
        remote_seq = f"{self.workdir}/sequences/{seq.name}-{digest}"
        done = self.conn.run(["test", "-f", f"{remote_seq}/.complete"]).ok
        sent = 0
        if not done:
            tmp = remote_seq + ".partial"
            self.sh(f"rm -rf {q(tmp)}")
            files = sorted(p for p in seq.rglob("*") if p.is_file())
            dirs = sorted({p.parent for p in files})
            self.conn.run(["mkdir", "-p", *[f"{tmp}/{d.relative_to(seq)}".rstrip("/.") for d in dirs]])
            for f in files:
                self.conn.put(f, f"{tmp}/{f.relative_to(seq)}")
                sent += f.stat().st_size
            self.sh(f"touch {q(tmp + '/.complete')} && rm -rf {q(remote_seq)} && mv {q(tmp)} {q(remote_seq)}")
        info = {"sequence": remote_seq, "sequence_bytes_sent": sent, "sequence_skipped": done, "inputs": inputs,
                "models": shipped_models}
        if self.plan.profile.runtime != "host":
            from harness.remote.image_transfer import ship_image

            info["image"] = ship_image(self.conn, self.plan.profile.runtime, self.plan.profile.container.image,
                                       progress=lambda n, secs: self.progress("image_bytes", {"bytes": n, "seconds": secs}))
        self.progress("shipped", info)
        return info

    def _ship_models(self, suite: dict, remote_dir: str) -> dict:
        """Upload suite models given as local .pt files and point the suite at the device copies."""
        from harness.models.weights import file_sha256

        shipped: dict[str, str] = {}
        for exp in suite["experiments"]:
            for i, model in enumerate(exp["models"]):
                local = Path(model).expanduser()
                if local.suffix != ".pt" or not local.is_file():
                    continue  # a model name: resolved on the device (models dir, download or architecture)
                if model not in shipped:
                    # the file keeps its name (its stem is part of the cell id on both sides); the folder holds its hash
                    folder = f"{remote_dir}/{file_sha256(local)[:12]}"
                    remote = f"{folder}/{local.name}"
                    self.conn.run(["mkdir", "-p", folder])
                    self.conn.put(local, remote)
                    shipped[model] = remote
                exp["models"][i] = shipped[model]
        return shipped

    def _put_text(self, text: str, remote: str) -> None:
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text)
        try:
            self.conn.put(Path(f.name), remote)
        finally:
            Path(f.name).unlink(missing_ok=True)

    @property
    def container_name(self) -> str:
        return f"harness-{self.plan.run_id}"

    def runner_argv(self, shipped: dict, resume: bool, python: str) -> list[str]:
        inputs = shipped["inputs"]
        if resume:
            return [python, "-m", "harness", "run", "--resume", self.remote_run_dir]
        return [python, "-m", "harness", "run", "--profile", f"{inputs}/profile.yaml", "--suite", f"{inputs}/suite.yaml",
                "--sequence", shipped["sequence"], "--out", f"{self.workdir}/runs", "--run-id", self.plan.run_id]

    def start(self, shipped: dict, resume: bool = False) -> None:
        """Start the runner detached on the device (survives the SSH session)."""
        if self.plan.profile.runtime != "host":
            return self._start_container(shipped, resume)
        hr = self.plan.profile.host_runtime
        python = hr.python
        if hr.venv:
            from harness.remote.runtimes.host import ensure_venv

            python = ensure_venv(self.conn, self.workdir, hr.python)
        argv = self.runner_argv(shipped, resume, python)
        log = f"{self.workdir}/runs/{self.plan.run_id}.log"
        cmd = (f"cd {shlex.quote(self.workdir)} && setsid nohup {shlex.join(argv)} >> {shlex.quote(log)} 2>&1 < /dev/null "
               f"& echo $!")
        r = self.sh(cmd)
        if not r.ok or not r.stdout.strip().isdigit():
            raise BenchmarkError(f"{self.conn.where}: could not start the runner ({r.stderr.strip()[-200:]})", f"see {log} on the device")
        self.pid, self.log = int(r.stdout.strip()), log
        self.save_session(log)
        self.progress("started", {"pid": self.pid, "resume": resume})

    def save_session(self, log: str) -> None:
        """``deploy.json`` in the local run dir: how `harness status/pull/logs/stop` find the run again."""
        self.store.root.mkdir(parents=True, exist_ok=True)
        seq = None if self.plan.device_sequence else str(self.plan.sequence.resolve())
        session = Session(run_id=self.plan.run_id, profile=self.plan.profile.model_dump(), suite=self.plan.suite.model_dump(),
                          sequence=seq, device_sequence=self.plan.device_sequence, workdir=self.workdir,
                          remote_run_dir=self.remote_run_dir, pid=self.pid, log=log, boot_id=self.boot_id)
        atomic_write_text(self.store.root / "deploy.json", session.model_dump_json(indent=2))

    @staticmethod
    def read_session(run_dir: Path) -> Session | None:
        path = Path(run_dir) / "deploy.json"
        try:
            return Session.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValidationError) as e:
            raise ResultsError(f"{path}: not a deploy session ({str(e).splitlines()[0][:200]})",
                               "it is written by `harness deploy`; restore it or deploy again") from None

    def reattach(self) -> bool:
        """True when this run's runner (from the local deploy.json) is still alive on the device."""
        session = self.read_session(self.store.root)
        if session is None:
            return False
        self.pid, self.log = session.pid, session.log
        if self.alive():
            return True
        self.pid = None
        return False

    @classmethod
    def from_session(cls, run_dir: Path, progress=None) -> Deployment:
        """Reattach to a deployed run from its local ``deploy.json``."""
        session = cls.read_session(run_dir)
        if session is None:
            raise RemoteError(f"{run_dir}: no deploy.json (not a deployed run)", "pass a run directory made by `harness deploy`")
        try:
            prof, suite = DeviceProfile.model_validate(session.profile), Suite.model_validate(session.suite)
        except ValidationError as e:
            raise ResultsError(f"{Path(run_dir) / 'deploy.json'}: invalid profile or suite ({str(e).splitlines()[0][:200]})",
                               "restore it or deploy again") from None
        plan = DeployPlan(prof, suite, Path(session.sequence or "."), session.run_id, Path(run_dir).parent,
                          device_sequence=session.device_sequence)
        d = cls(plan, progress)
        d.workdir, d.pid, d.boot_id, d.log = session.workdir, session.pid, session.boot_id, session.log
        d.connect()
        return d

    def _start_container(self, shipped: dict, resume: bool) -> None:
        """``docker/podman run -d`` the runner in the profile's image; the work dir is bind-mounted at the same path."""
        engine = self.plan.profile.runtime
        self.conn.run([engine, "rm", "-f", self.container_name])  # a previous attempt's container, if any
        jtop = self.conn.run(["test", "-S", "/run/jtop.sock"]).ok
        argv = container_argv(self.plan.profile, self.container_name, self.workdir,
                              self.runner_argv(shipped, resume, self.plan.profile.container.python), jtop)
        r = self.conn.run(argv)
        if not r.ok:
            raise RemoteError(f"{self.conn.where}: {engine} run failed ({r.exit_code}): {r.stderr.strip()[-300:]}",
                              f"check the image {self.plan.profile.container.image} on the device (harness doctor)")
        self.pid, self.log = self.container_name, f"{engine} logs {self.container_name}"
        self.save_session(self.log)
        self.progress("started", {"pid": self.container_name, "resume": resume})

    def alive(self) -> bool:
        """The runner process (or container) exists and is not a zombie (an exited child nobody reaped yet)."""
        if self.plan.profile.runtime != "host":
            r = self.conn.run([self.plan.profile.runtime, "inspect", "-f", "{{.State.Running}}", self.container_name])
            return r.ok and r.stdout.strip() == "true"
        if not isinstance(self.pid, int):
            return False
        pid = self.pid
        return self.sh(f"kill -0 {pid} 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' /proc/{pid}/status").ok

    def pull(self) -> dict:
        """Copy the device's progress and every new finished record (+ its files) into the local run dir.

        Everything comes through ``RemoteRunDir`` (validated, confined, bounded). The local manifest is
        the host's own plan (suite, profile, cells) with the states the device reports for those cells;
        records are appended in one write per pull (linear in the number of records).
        """
        remote = RemoteRunDir(self.conn, self.remote_run_dir, self.plan.profile.limits, self.store.root)
        device_manifest = remote.manifest(self.plan.run_id)
        if device_manifest is None:
            return {}
        cells = self.plan.suite.cells()
        have = {r["cell_id"]: r for r in self.store.read_records()}
        remote.spend(sum(self._local_bytes(r) for r in have.values()))
        new = []
        for rec in remote.records(self.plan.run_id, {c.cell_id for c in cells}):
            if have.get(rec["cell_id"]) == rec:
                continue
            for rel in (rec.get("files") or {}).values():  # validated: a dict of run-relative paths
                remote.fetch(rel)
            new.append(rec)
        self.store.put_records(new)
        manifest = self._local_manifest(device_manifest, cells)
        self.store.write_manifest(manifest)
        return manifest

    def _local_bytes(self, rec: dict) -> int:
        total = 0
        for rel in (rec.get("files") or {}).values():
            try:
                total += (self.store.root / rel).stat().st_size
            except OSError:
                pass
        return total

    def _local_manifest(self, device: dict, cells) -> dict:
        states = {c["cell_id"]: c["state"] for c in device["cells"]}
        prof = self.plan.profile.model_dump()
        prof.pop("connection")
        return {
            "schema_version": SCHEMA_VERSION, "run_id": self.plan.run_id, "state": device["state"],
            "created_at": device.get("created_at"), "finished_at": device.get("finished_at"),
            "suite": self.plan.suite.model_dump(), "profile": prof,
            # the host's own copy of the sequence (a device never names host paths)
            "sequence": None if self.plan.device_sequence else str(self.plan.sequence.resolve()),
            "device_sequence": self.plan.device_sequence,
            "environment": device.get("environment") or {}, "telemetry": device.get("telemetry"),
            "cells": [{**c.as_dict(), "state": states.get(c.cell_id, "pending")} for c in cells],
            "pulled_from": {"device": self.conn.where, "remote_run_dir": self.remote_run_dir},
        }

    def log_tail(self, n_bytes: int = 1500) -> str:
        """The end of the runner's log on the device, printable (a device's text never drives the terminal)."""
        if self.plan.profile.runtime != "host":
            r = self.conn.run([self.plan.profile.runtime, "logs", "--tail", "20", self.container_name], max_output_bytes=1 << 20)
            text = r.stdout + r.stderr
        else:
            text = self.conn.run(["tail", "-c", str(n_bytes), self.log], max_output_bytes=1 << 20).stdout
        return printable(text[-n_bytes:]).strip()

    def stop_runner(self) -> None:
        if self.plan.profile.runtime != "host":
            self.conn.run([self.plan.profile.runtime, "stop", self.container_name])
        elif isinstance(self.pid, int):
            self.conn.run(["kill", "-TERM", str(self.pid)])

    def current_boot_id(self) -> str:
        return self.conn.run(["cat", "/proc/sys/kernel/random/boot_id"]).stdout.strip()


def container_argv(profile: DeviceProfile, name: str, workdir: str, inner: list[str], jtop_socket: bool) -> list[str]:
    """``docker|podman run -d`` for the runner: no -it, never --privileged, NVIDIA runtime on Jetsons,
    the jtop socket mounted when the profile asks and the device has it, the work dir at the same path.

    The image (a validated reference) comes after ``--``, so nothing in it is ever read as an option."""
    c = profile.container
    argv = [profile.runtime, "run", "-d", "--name", name, "--network", "host", "-v", f"{workdir}:{workdir}", "-w", workdir]
    if c.nvidia_runtime:  # docker: the nvidia runtime; podman: the CDI device
        argv += ["--runtime", "nvidia"] if profile.runtime == "docker" else ["--device", "nvidia.com/gpu=all"]
    if c.gpus_all:
        argv += ["--gpus", "all"]
    if c.mount_jtop_socket and jtop_socket:
        argv += ["-v", "/run/jtop.sock:/run/jtop.sock"]
    return [*argv, *c.extra_args, "--", c.image, *inner]


def deploy(plan: DeployPlan, progress: Callable[[str, dict], None] | None = None, resume: bool = False) -> RunStore:
    d = Deployment(plan, progress)
    from harness.fsutil import DirLock

    with DirLock(d.store.root, f"harness deploy {plan.run_id}"):  # one host process per local run directory
        d.connect()
        try:
            _deploy(d, resume)
        finally:
            if d.conn is not None:
                d.conn.close()
    return d.store


def _deploy(d: Deployment, resume: bool) -> None:
    plan = d.plan
    d.preflight()
    held = lock.acquire(d.conn, d.workdir, plan.run_id, d.boot_id)
    try:
        shipped = d.ship()
        if resume and d.reattach():
            d.progress("reattached", {"pid": d.pid})  # the runner from before is still going: follow it, start nothing
        else:
            # a run stopped before the runner wrote its manifest has nothing to resume: start it afresh
            d.start(shipped, resume=resume and d.conn.run(["test", "-f", f"{d.remote_run_dir}/manifest.json"]).ok)
        _follow(d, shipped, held)
    except LinkError:
        raise  # the device is out of reach: its runner may still go on (and holds the lock); resume later
    except (DeviceDataError, BenchmarkError, RemoteError) as e:
        # the device's run failed (bad data from it, a runner that cannot start): stop it and free the board
        _abandon(d, e)
        raise
    d.pull()
    lock.release(d.conn, d.workdir)


def _abandon(d: Deployment, why: HarnessError) -> None:
    plan = d.plan
    plan.events.append(f"run failed: {why.message}")
    for step in (d.stop_runner, lambda: lock.release(d.conn, d.workdir)):
        try:
            step()
        except HarnessError:
            pass  # best effort: the run has already failed with its reason


def _follow(d: Deployment, shipped: dict, held: dict) -> None:
    """Poll until the device's manifest says complete; restart a vanished runner a bounded number of times."""
    plan = d.plan
    max_restarts = plan.profile.limits.max_runner_restarts
    restarts, done_at_restart = 0, -1
    last_beat = last_ok = time.monotonic()
    while True:
        try:
            manifest = d.pull()
            last_ok = time.monotonic()
            state = manifest.get("state")
            cells = manifest.get("cells", [])
            recs = d.store.read_records()
            last = recs[-1] if recs else {}
            done = sum(c["state"] in ("ok", "skipped", "failed") for c in cells)
            d.progress("poll", {"done": done, "total": len(cells),
                                "current": next((c["cell_id"] for c in cells if c["state"] == "running"), None), "state": state,
                                "last_w": at(last, "power", "mean_w"), "last_temp_c": at(last, "power", "peak_temp_c")})
            if state == "complete":
                return
            if not d.alive():
                if done > done_at_restart:
                    restarts = 0  # it made progress since the last restart
                if restarts >= max_restarts:
                    raise BenchmarkError(
                        f"{d.conn.where}: the runner stopped {restarts + 1} times without finishing a cell; "
                        f"its log ends: {d.log_tail() or '(empty)'}",
                        "fix what the log says (interpreter path, missing packages, disk), then "
                        f"`harness deploy --resume --run-id {plan.run_id}` (limits.max_runner_restarts in the profile)")
                if d.current_boot_id() != d.boot_id:
                    d.boot_id = d.current_boot_id()
                    d.progress("rebooted", {})
                restarts += 1
                done_at_restart = done
                d.start(shipped, resume=True)  # the runner resumes after the last finished cell
            if time.monotonic() - last_beat > 30:
                lock.heartbeat(d.conn, d.workdir, held)
                last_beat = time.monotonic()
            time.sleep(plan.poll_s)
        except LinkError as e:
            plan.events.append(f"link lost: {e.message}")
            if time.monotonic() - last_ok > plan.reconnect_budget_s:  # reconnects succeed but nothing comes back
                raise LinkError(f"{e.message}; nothing came back for {time.monotonic() - last_ok:.0f} s",
                                f"check the device; `harness deploy --resume --run-id {plan.run_id}` later") from e
            took = d.reconnect()
            plan.events.append(f"reconnected after {took:.1f} s")
            d.progress("reconnected", {"after_s": took})
