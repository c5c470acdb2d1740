"""``harness deploy``: run a suite on a device over SSH and bring the results home.

A ``Deployment`` moves through explicit states; each step names the states it may run in, and an
illegal call raises ``StateError`` naming the method and the state:

    new -connect-> connected -preflight-> checked -lock-> locked -ship-> shipped -start/reattach-> running
    running -start (a vanished runner, bounded)-> running     running -finish-> complete -> released
    locked|shipped|running -abandon-> failed -> released     running -(link gone for good)-> detached
    connected -attach (status / pull / logs / stop from another shell)-> attached

Connect is strict and bounded; preflight stops on a failed check; the device lock keeps two runs off
one board; ship sends the suite, the device-side profile and the sequence (only when that content is
not there yet); the runner starts detached (it survives the SSH session) in the profile's runtime
(``remote/runtimes``); polling pulls the manifest and every finished record into ``results/<run-id>/``
through the intake; an SSH drop is reconnected with backoff (tenacity), a reboot (new boot id)
restarts the runner with ``--resume``; in a power-mode sweep the host sets each mode the runner waits
for (``remote/modes.py``). An interrupted deploy keeps everything already pulled. (This is long because the state
machine is one concept: every step is a short method beside the states it may run in.)
"""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from enum import Enum
from pathlib import Path

from harness.errors import (BenchmarkError, DeviceDataError, HarnessError, LinkError, ProfileError, RemoteError,
                            ResultsError, StateError, printable)
from harness.fsutil import DirLock
from harness.remote import events as ev, lock
from harness.remote.connection import DeviceConnection
from harness.remote.events import Handler
from harness.remote.follow import Follower
from harness.remote.live import read_board
from harness.remote.link import BoardLink
from harness.remote.preflight import run_preflight
from harness.remote.pull import pull_run
from harness.remote.runtimes import runtime_for
from harness.remote.session import DeployPlan, PendingReboot, Session
from harness.remote.ship import Shipped, ship_inputs
from harness.results.store import RunStore

__all__ = ["DeployPlan", "Deployment", "State", "deploy"]


class State(str, Enum):
    NEW = "new"
    CONNECTED = "connected"
    CHECKED = "checked"
    LOCKED = "locked"
    SHIPPED = "shipped"
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    DETACHED = "detached"
    ATTACHED = "attached"
    RELEASED = "released"


S = State
NEXT = {S.NEW: {S.CONNECTED}, S.CONNECTED: {S.CHECKED, S.ATTACHED}, S.CHECKED: {S.LOCKED}, S.LOCKED: {S.SHIPPED, S.FAILED},
        S.SHIPPED: {S.RUNNING, S.FAILED}, S.RUNNING: {S.RUNNING, S.COMPLETE, S.FAILED, S.DETACHED},
        S.COMPLETE: {S.RELEASED}, S.FAILED: {S.RELEASED}, S.ATTACHED: {S.RELEASED}, S.DETACHED: set(), S.RELEASED: set()}
LIVE = (S.RUNNING, S.ATTACHED)  # a runner handle is known


LIVE_EVERY_S = 5.0  # the board's live reading (remote/live.py) at most this often


class Deployment:
    def __init__(self, plan: DeployPlan, progress: Handler | None = None) -> None:
        if plan.profile.connection is None:
            raise ProfileError(f"profile {plan.profile.name!r} has no connection block", "deploy needs connection: {host: ...}")
        self.plan = plan
        self.progress = progress or ev.ignore
        self.runtime = runtime_for(plan.profile)  # chosen once
        self.state = S.NEW
        p = plan.profile
        self.link = BoardLink(lambda: DeviceConnection(p.connection, plan.accept_new_host_key, p.timeouts.command_s).open(),
                              p.probe_root)
        self.workdir = self.log = ""
        self.pid: int | str | None = None
        self.held: dict | None = None
        self.shipped: Shipped | None = None
        self.store = RunStore(plan.out / plan.run_id)
        self.modes = None  # HostModes when the suite sweeps power modes (remote/modes.py)
        self.mode_at_start: str | None = None
        self.mode_told = False  # the runner was started with the host's power_mode.json in place
        self._live_misses = 0  # live board readings that came back empty in a row
        self._live_at, self._live = 0.0, None  # the last live reading and when it was taken

    # --- states ---------------------------------------------------------------------
    def _require(self, method: str, *states: State) -> None:
        if self.state not in states:
            raise StateError(f"Deployment.{method}() in state {self.state.value} (allowed in: "
                             f"{', '.join(s.value for s in states)})", "this is a bug in the caller: report it")

    def _enter(self, new: State) -> None:
        if new not in NEXT[self.state]:
            raise StateError(f"Deployment: {self.state.value} -> {new.value} is not a transition", "report it")
        self.state = new

    @property
    def remote_run_dir(self) -> str:
        return f"{self.workdir}/runs/{self.plan.run_id}"

    # --- connection -----------------------------------------------------------------
    @property
    def conn(self) -> DeviceConnection | None:
        return self.link.conn

    @property
    def boot_id(self) -> str:
        return self.link.boot_id

    @boot_id.setter
    def boot_id(self, value: str) -> None:
        self.link.boot_id = value

    @property
    def reboot_pending(self) -> PendingReboot | None:
        """A mode switched with a reboot not seen yet (``deploy.json`` keeps it; the sweep's modes own it)."""
        return self.modes.pending if self.modes is not None else None

    def connect(self) -> None:
        self.link.open()
        if self.state == S.NEW:
            self._enter(S.CONNECTED)

    def reconnect(self) -> float:
        """Reconnect with backoff within the plan's budget (``BoardLink.reconnect``); seconds it took. LinkError when
        the budget runs out: the run goes on on the device; ``deploy --resume`` follows it later."""
        return self.link.reconnect(self.plan.reconnect_budget_s,
                                   lambda in_s, error: self.progress(ev.Reconnecting(in_s, error)),
                                   f"the run continues on the device; `harness deploy --resume --run-id {self.plan.run_id}` later")

    # --- steps ----------------------------------------------------------------------
    def preflight(self) -> None:
        self._require("preflight", S.CONNECTED)
        facts, checks = run_preflight(self.conn, self.plan.profile)
        if self.plan.suite.power_modes:  # a sweep sets every mode itself and returns to the profile's at the end
            for c in checks:
                if c.name == "nvpmodel" and not c.ok:
                    c.ok, c.info, c.detail = True, True, c.detail + "; the sweep sets each mode, then returns to it"
        failed = [c for c in checks if not c.ok]
        self.progress(ev.Preflight(tuple(checks)))
        if failed:
            raise RemoteError(f"{self.conn.where}: preflight failed: " + "; ".join(f"{c.name}: {c.detail}" for c in failed),
                              f"run `harness doctor --profile {self.plan.profile.name}` and fix the device or the profile")
        self.boot_id = facts.get("boot_id", "")
        self.workdir = self.conn.expand_user(self.plan.profile.host_runtime.workdir)
        if self.plan.suite.power_modes:
            from harness.remote.modes import HostModes

            session = Session.read(self.store.root)  # a resumed sweep returns where the first deploy found the board
            self.modes = HostModes(self.link, self.plan, self.remote_run_dir, self._mode_persist, self.progress,
                                   session.reboot_pending if session is not None else None)
            found = self.modes.resolve()
            self.mode_at_start = session.mode_at_start if session is not None and session.mode_at_start else found
            self.modes.settle_pending(self.boot_id)  # a mode whose reboot never came is refused before a runner starts
        self._enter(S.CHECKED)

    def _mode_persist(self, new_boot: bool) -> None:
        """The sweep's modes changed what ``deploy.json`` must say; after a reboot the lock names the new boot."""
        if new_boot:
            self.held = lock.acquire(self.conn, self.workdir, self.plan.run_id, self.boot_id)
        self.save_session()

    def lock(self) -> None:
        self._require("lock", S.CHECKED)
        self.held = lock.acquire(self.conn, self.workdir, self.plan.run_id, self.boot_id)
        self._enter(S.LOCKED)

    def ship(self) -> Shipped:
        """Inputs and sequence, then what the runtime needs (a venv, the image)."""
        self._require("ship", S.LOCKED)
        self.shipped = ship_inputs(self.conn, self.plan, self.workdir,
                                   lambda sent, total: self.progress(ev.SequenceBytes(sent, total)))
        info = self.shipped.as_dict()
        prepared = self.runtime.prepare(self.conn, self.workdir, self.progress)
        if self.runtime.engine:
            info["image"] = prepared
        self.progress(ev.Shipped(info))
        self._enter(S.SHIPPED)
        return self.shipped

    def runner_argv(self, resume: bool) -> list[str]:
        """``-m harness run ...`` for the runtime's interpreter."""
        if resume:
            return ["-m", "harness", "run", "--resume", self.remote_run_dir]
        inputs = self.shipped.inputs
        sweep = ["--mode-control", "host"] if self.modes is not None else []
        return ["-m", "harness", "run", "--profile", f"{inputs}/profile.yaml", "--suite", f"{inputs}/suite.yaml",
                "--sequence", self.shipped.sequence, "--out", f"{self.workdir}/runs", "--run-id", self.plan.run_id, *sweep]

    def start(self, resume: bool = False, awaited: bool = False) -> None:
        """Start the runner detached on the device (survives the SSH session); a restart when already running."""
        self._require("start", S.SHIPPED, S.RUNNING)
        if self.modes is not None and not awaited:  # a (re)started runner asks for its mode again: never a stale word
            self.conn.run(["rm", "-f", f"{self.remote_run_dir}/power_mode.json"])
        self.mode_told = awaited
        self.pid, self.log = self.runtime.start(self.conn, self.workdir, self.plan.run_id, self.runner_argv(resume))
        self.save_session()
        self.progress(ev.Started(self.pid, resume))
        self._enter(S.RUNNING)

    def reattach(self) -> bool:
        """Follow this run's runner (from the local deploy.json) when it is still alive on the device."""
        self._require("reattach", S.SHIPPED)
        session = Session.read(self.store.root)
        if session is None:
            return False
        self.pid, self.log = session.pid, session.log
        if not self.runtime.alive(self.conn, self.pid):
            self.pid = None
            return False
        self._enter(S.RUNNING)
        return True

    def save_session(self) -> None:
        """``deploy.json`` in the local run dir: how `harness status/pull/logs/stop` find the run again."""
        Session(run_id=self.plan.run_id, profile=self.plan.profile.model_dump(), suite=self.plan.suite.model_dump(),
                sequence=self.plan.host_sequence, device_sequence=self.plan.device_sequence, workdir=self.workdir,
                remote_run_dir=self.remote_run_dir, pid=self.pid, log=self.log, boot_id=self.boot_id,
                mode_at_start=self.mode_at_start, reboot_pending=self.reboot_pending,
                lease=self.plan.lease).write(self.store.root)

    @classmethod
    def attach(cls, plan: DeployPlan, workdir: str, pid=None, log: str = "", boot_id: str = "", progress=None) -> Deployment:
        """A deployment of a run already on the device (no lock taken: status, pull, logs, stop)."""
        d = cls(plan, progress)
        d.workdir, d.pid, d.log, d.boot_id = workdir, pid, log, boot_id
        d.connect()
        d._enter(S.ATTACHED)
        return d

    @classmethod
    def from_session(cls, run_dir, progress=None) -> Deployment:
        """Attach to a deployed run from its local ``deploy.json``."""
        session = Session.read(run_dir)
        if session is None:
            raise RemoteError(f"{run_dir}: no deploy.json (not a deployed run)", "pass a run directory made by `harness deploy`")
        return cls.attach(session.plan(run_dir), session.workdir, session.pid, session.log, session.boot_id, progress)

    def alive(self) -> bool:
        self._require("alive", *LIVE)
        return self.runtime.alive(self.conn, self.pid)

    def pull(self) -> dict:
        """The device's progress and every new finished record into the local run dir (``remote/pull.py``)."""
        self._require("pull", S.RUNNING, S.COMPLETE, S.ATTACHED)
        return pull_run(self.conn, self.plan, self.remote_run_dir, self.store)

    def set_mode(self, wanted, progress: int = 0) -> dict:
        """The runner waits for a power mode: set it (remote/modes.py; refused when the sweep's plan cannot explain
        it) and return the statement written for the runner; the caller starts the runner again (``awaited``)."""
        self._require("set_mode", S.RUNNING)
        if self.modes is None or not isinstance(wanted, str):
            raise DeviceDataError(f"{self.conn.where}: the runner waits for a power mode ({str(wanted)[:64]!r}) but this "
                                  "run sweeps none", "the device is misbehaving (its manifest was changed); check it")
        return self.modes.set(wanted, progress)

    def restore_mode(self) -> None:
        """After a sweep: the board back in the profile's mode (else the one found); a failure is an event, not a failed run."""
        if self.modes is None:
            return
        target = self.plan.profile.power_mode.nvpmodel or self.mode_at_start
        try:
            self.modes.restore(target)
        except HarnessError as e:
            self.progress(ev.PowerModeNotRestored(target, e.message))

    def finish(self) -> None:
        """The device says complete: a last pull, the board's lock released."""
        self._require("finish", S.RUNNING)
        self._enter(S.COMPLETE)
        self.pull()
        lock.release(self.conn, self.workdir)
        self._enter(S.RELEASED)

    def abandon(self, why: HarnessError) -> None:
        """The device's run failed (bad data from it, a runner that cannot start): stop it and free the board."""
        self._require("abandon", S.LOCKED, S.SHIPPED, S.RUNNING)
        self._enter(S.FAILED)
        for step in (self.stop_runner, self.restore_mode, lambda: lock.release(self.conn, self.workdir)):
            try:
                step()
            except HarnessError:
                pass  # best effort: the run has already failed with its reason
        self._enter(S.RELEASED)

    def detach(self) -> None:
        """The link is gone for good: the runner may go on (and keeps the lock); ``deploy --resume`` later."""
        self._require("detach", S.RUNNING)
        self._enter(S.DETACHED)

    def release(self) -> None:
        """An attached session gives the board's lock back (``harness stop``)."""
        self._require("release", S.ATTACHED)
        lock.release(self.conn, self.workdir)
        self._enter(S.RELEASED)

    def log_tail(self, n_bytes: int = 1500) -> str:
        """The end of the runner's log on the device, printable (a device's text never drives the terminal)."""
        return printable(self.runtime.logs(self.conn, self.pid, self.log, 20)[-n_bytes:]).strip()

    def stop_runner(self) -> None:
        if self.pid is not None:
            self.runtime.stop(self.conn, self.pid)

    def current_boot_id(self) -> str:
        return self.link.current_boot_id()

    def follow(self) -> None:
        """Poll and pull until the device's manifest says complete; ``Follower`` keeps the restart budget, this acts:
        sets the mode a stopped runner waits for, restarts a vanished one, keeps the lock's heartbeat, reconnects."""
        self._require("follow", S.RUNNING)
        plan, f = self.plan, Follower(self.plan.profile.limits.max_runner_restarts)
        last_beat = last_ok = time.monotonic()
        while True:
            try:
                seen = f.observe(self.alive(), self.pull(), self.store.read_records())  # alive first: see follow.py
                last_ok = time.monotonic()
                self.progress(replace(seen.as_event(), board=self._board_now(seen)))
                if seen.complete:
                    return
                if seen.awaiting_mode:
                    told = self.mode_told
                    statement = self.set_mode(seen.wanted_mode, seen.finished)
                    # asked for the mode it had been told already: nothing new to wait for, a restart like any other
                    if not f.restart(counts=not statement["switched"] and told):
                        self._stuck(f, f"asked for power mode {seen.wanted_mode}, which the board is in,")
                    self.start(resume=True, awaited=True)
                    continue
                if seen.gone:
                    if not f.restart():
                        self._stuck(f, "stopped")
                    now = self.current_boot_id()
                    if now != self.boot_id:
                        self.boot_id = now
                        self.progress(ev.Rebooted())
                    self.start(resume=True)  # the runner resumes after the last finished cell
                if time.monotonic() - last_beat > 30:
                    lock.heartbeat(self.conn, self.workdir, self.held)
                    last_beat = time.monotonic()
                time.sleep(plan.poll_s)
            except LinkError as e:
                self.progress(ev.LinkLost(e.message))
                if time.monotonic() - last_ok > plan.reconnect_budget_s:  # reconnects succeed but nothing comes back
                    raise LinkError(f"{e.message}; nothing came back for {time.monotonic() - last_ok:.0f} s",
                                    f"check the device; `harness deploy --resume --run-id {plan.run_id}` later") from e
                self.progress(ev.Reconnected(self.reconnect()))

    def _board_now(self, seen) -> dict | None:
        """A live reading of a Jetson while a cell runs (``remote/live.py``), at most every ``LIVE_EVERY_S``; after three
        empty ones, no more."""
        if self.plan.profile.kind != "jetson" or not seen.current or self._live_misses >= 3:
            return None
        if time.monotonic() - self._live_at < LIVE_EVERY_S:  # a reading takes ~1 s of the link: not every poll
            return self._live
        self._live_at, self._live = time.monotonic(), read_board(self.conn)
        self._live_misses = 0 if self._live is not None else self._live_misses + 1
        return self._live

    def _stuck(self, f: Follower, what: str) -> None:
        raise BenchmarkError(
            f"{self.conn.where}: the runner {what} {f.restarts + 1} times without finishing a cell; "
            f"its log ends: {self.log_tail() or '(empty)'}",
            "fix what the log says (interpreter path, missing packages, disk), then "
            f"`harness deploy --resume --run-id {self.plan.run_id}` (limits.max_runner_restarts in the profile)")


def refuse_existing_run(out: Path, run_id: str) -> None:
    """A new deploy under a run id that already has a local run directory is refused before anything connects: it
    would ship, start a runner the device's own copy of the run refuses, and overwrite ``deploy.json``."""
    from harness.names import require_safe_name

    root = Path(out) / require_safe_name(run_id, "run id", ProfileError)
    if root.exists() and (not root.is_dir() or any(p.name != ".lock" for p in root.iterdir())):
        raise ResultsError(f"{root}: run {run_id!r} already exists",
                           f"`harness deploy --resume --run-id {run_id}` continues it; or pass a new --run-id")


def _nothing_to_keep(d: Deployment) -> bool:
    """A failed deploy whose runner never ran (or was stopped, abandoned) and brought no record back: its run
    directory is only noise (``harness compare results/*`` would trip on it)."""
    started = d.pid is not None and d.state != S.RELEASED  # a runner that may go on: deploy.json finds it again
    records = d.store.records_path
    # a power mode switched with a reboot that has not come: deploy.json keeps it so that a resume refuses that mode
    return not started and d.reboot_pending is None and not (records.is_file() and records.stat().st_size > 0)


def deploy(plan: DeployPlan, progress: Handler | None = None, resume: bool = False) -> RunStore:
    """Preflight, lock, ship, start (or follow) the runner, poll and pull until complete; the local run store.

    A new run (not ``resume``) needs an unused run id, here and on the device; a deploy that fails before the first
    cell leaves no run directory behind."""
    if not resume:
        refuse_existing_run(plan.out, plan.run_id)
    d = Deployment(plan, progress)
    made_here = not d.store.root.exists()
    try:
        _deploy(d, resume)
    except BaseException:
        if made_here and _nothing_to_keep(d):
            shutil.rmtree(d.store.root, ignore_errors=True)
        raise
    from harness.catalogue.store import add_finished

    d.progress(ev.Catalogued(*add_finished(d.store.root)))
    return d.store


def _deploy(d: Deployment, resume: bool) -> None:
    plan = d.plan
    with DirLock(d.store.root, f"harness deploy {plan.run_id}"):  # one host process per local run directory
        d.connect()
        try:
            d.preflight()
            if not resume and d.conn.run(["test", "-e", f"{d.remote_run_dir}/manifest.json"]).ok:
                raise ResultsError(f"{d.conn.where}: run {plan.run_id!r} already exists on the device ({d.remote_run_dir})",
                                   f"`harness deploy --resume --run-id {plan.run_id}` continues it; or pass a new --run-id")
            d.lock()
            try:
                d.ship()
                if resume and d.reattach():
                    d.progress(ev.Reattached(d.pid))  # the runner from before is still going: follow it
                else:
                    # a run stopped before the runner wrote its manifest has nothing to resume: start it afresh
                    d.start(resume=resume and d.conn.run(["test", "-f", f"{d.remote_run_dir}/manifest.json"]).ok)
                d.follow()
                d.restore_mode()
            except LinkError:
                if d.state == S.RUNNING:
                    d.detach()
                raise  # the device is out of reach: its runner may still go on (and holds the lock); resume later
            except (DeviceDataError, BenchmarkError, RemoteError) as e:
                d.abandon(e)
                raise
            d.finish()
        finally:
            d.link.close()
