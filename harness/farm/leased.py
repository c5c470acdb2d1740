"""A deploy on a board leased from a pool: acquire, resolve the profile, keep the lease, give it back.

``leased(profile, run_id, say)`` is a context manager: for a profile with ``connection.pool: ssh`` (a fixed
host) it yields the profile unchanged and leases nothing (the board's ``lock.json`` is the only lock, as
before). For ``pool: labgrid`` it leases a matching board (the run's own board when it resumes), yields
the profile with the board's address filled in and the lease, keeps the lease while the body runs (a
thread re-takes the place after a coordinator restart) and releases it on every way out: success,
failure, Ctrl-C, SIGTERM. SIGKILL cannot be caught: the next start releases or adopts (``pool.recover``).
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from harness.config.connection import COORDINATOR_RE
from harness.config.profiles import DeviceProfile
from harness.errors import FarmError, HarnessError, ProfileError
from harness.farm.lease import Lease
from harness.farm.pool import LabgridPool, Wanted

KEEP_EVERY_S = 5.0


def coordinator_of(profile: DeviceProfile) -> str:
    """The profile's ``connection.coordinator``, else ``LG_COORDINATOR``; ProfileError naming both when neither."""
    addr = profile.connection.coordinator or os.environ.get("LG_COORDINATOR", "")
    if not addr:
        raise ProfileError(f"profile {profile.name!r}: pool: labgrid but no coordinator",
                           "set connection.coordinator: HOST:PORT in the profile, or LG_COORDINATOR=HOST:PORT")
    if not re.match(COORDINATOR_RE, addr):
        raise ProfileError(f"LG_COORDINATOR={addr[:80]!r} is not HOST:PORT", "e.g. LG_COORDINATOR=lab-server:20408")
    return addr


def on_board(profile: DeviceProfile, lease: Lease) -> DeviceProfile:
    """The profile with the leased board's address: what deploy connects to (``pool: ssh`` from here on)."""
    conn = profile.connection.model_dump()
    conn.update(pool="ssh", host=lease.host, user=lease.user, port=lease.port, coordinator=None)
    return DeviceProfile.model_validate({**profile.model_dump(), "connection": conn})


def ssh_answers(profile: DeviceProfile, accept_new_host_key: bool = False) -> Callable[[Lease], str | None]:
    """A check that the leased board answers over SSH (connect, host key, auth, ``true``): None, or why not."""
    from harness.remote.connection import DeviceConnection

    def check(lease: Lease) -> str | None:
        cfg = on_board(profile, lease).connection
        try:
            conn = DeviceConnection(cfg, accept_new_host_key, command_timeout_s=30).open()
            try:
                r = conn.run(["true"])
            finally:
                conn.close()
        except HarnessError as e:
            return e.message
        return None if r.ok else f"`true` exited {r.exit_code}"

    return check


class _Keeper(threading.Thread):
    def __init__(self, pool: LabgridPool, lease: Lease, say) -> None:
        super().__init__(name=f"lease-{lease.place}", daemon=True)
        self.pool, self.lease, self.say = pool, lease, say
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(KEEP_EVERY_S):
            self.pool.keep(self.lease, self.say)


def _interrupt(signum, frame):  # noqa: ARG001
    raise KeyboardInterrupt


@contextmanager
def leased(profile: DeviceProfile, run_id: str | None, say: Callable[[str], None], place: str | None = None,
           accept_new_host_key: bool = False, pool: LabgridPool | None = None) -> Iterator[tuple[DeviceProfile, Lease | None]]:
    """``(profile on the board, lease)`` for the body; ``place``: the board a resumed run ran on."""
    conn = profile.connection
    if conn is None or not conn.pooled:
        yield profile, None
        return
    pool = pool or LabgridPool(coordinator_of(profile))
    main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGTERM, _interrupt) if main else None  # SIGTERM releases like Ctrl-C
    try:
        lease = pool.acquire(Wanted(dict(conn.tags), place), conn.acquire_timeout_s,
                             ssh_answers(profile, accept_new_host_key), say, run_id)
        keeper = _Keeper(pool, lease, say)
        keeper.start()
        try:
            yield on_board(profile, lease), lease
        finally:
            keeper.done.set()
            keeper.join(timeout=30)
            if pool.release(lease, say):
                say(f"released {lease.place}")
    finally:
        if main:
            signal.signal(signal.SIGTERM, old)


def lease_of(session_lease: dict | None) -> Lease | None:
    """The lease a ``deploy.json`` recorded (None for a fixed host); FarmError when it is not one."""
    if not session_lease:
        return None
    try:
        return Lease(**session_lease)
    except TypeError:
        raise FarmError("deploy.json: its lease is not readable", "deploy the run again under a new --run-id") from None


def deploy_leased(plan, progress, resume: bool, say: Callable[[str], None]):
    """``remote.deploy.deploy`` on the board the plan's profile asks for: a pool's board is leased for the deploy (a
    resumed run's own board), recorded in ``deploy.json``, and given back at the end. Interrupted (Ctrl-C, SIGTERM)
    the runner is stopped and the board's lock freed first, so the next holder finds the board idle; finished cells
    stay and ``--resume`` continues on the same board."""
    from dataclasses import replace

    from harness.remote.deploy import Deployment, deploy
    from harness.remote.session import Session

    place = None
    if resume:
        session = Session.read(plan.out / plan.run_id)
        lease = lease_of(session.lease) if session is not None else None
        place = lease.place if lease is not None else None
    with leased(plan.profile, plan.run_id, say, place, plan.accept_new_host_key) as (profile, lease):
        if lease is None:
            return deploy(plan, progress, resume)
        try:
            return deploy(replace(plan, profile=profile, lease=lease.as_dict()), progress, resume)
        except KeyboardInterrupt:
            try:
                d = Deployment.from_session(plan.out / plan.run_id)
                try:
                    d.stop_runner()
                    d.release()
                finally:
                    d.link.close()
                say(f"stopped run {plan.run_id} on {lease.place}; `--resume` continues it there")
            except HarnessError:
                pass  # never started, or the board is gone: nothing runs there for this run
            raise
