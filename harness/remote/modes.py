"""The host's side of a power-mode sweep on a deployed board (the runner's side: ``measure/sweep.py``).

At preflight the suite's mode names are resolved against the board's own ``/etc/nvpmodel.conf`` (an
unknown name fails the deploy and lists the board's modes) and the mode the board is in is noted (the
session keeps it, so a resumed deploy still knows where to return). When the runner stops in
``awaiting_mode`` the host checks the mode it asks for is one the suite sweeps (a device's word is never
taken as a command), switches with ``nvpmodel -m ID`` (``sudo -n`` unless the SSH user is root), and where
nvpmodel says the mode needs a reboot, answers its prompt, waits for the board to come back with a new
boot id (reconnecting, within ``timeouts.reboot_s``), takes the device lock again for the new boot, and
verifies with ``nvpmodel -q``. It then writes ``power_mode.json`` (name, id, limits) into the run
directory and starts the runner with ``--resume``. At the end -- also of a resumed deploy -- the board
goes back to the profile's ``power_mode.nvpmodel``, else the mode it was found in.

A runner can ask, not steer: a switch the plan cannot explain is refused (each mode is entered at most as
often as the suite's snake order enters it, and a switch after the first needs a cell finished since the
one before). A reboot nvpmodel asked for that never came is a failed switch, never a success: the session
(``deploy.json``) keeps it pending, and the mode counts only once the board has a new boot id.
"""

from __future__ import annotations

import json
import shlex
import time
from collections import Counter
from typing import Callable

from harness.errors import BenchmarkError, DeviceDataError, LinkError, RemoteError
from harness.powermodes import NVPMODEL_CONF, BoardModes, ModeControl
from harness.remote import events as ev
from harness.remote.events import Handler
from harness.remote.session import PendingReboot

STATEMENT = "power_mode.json"


def planned_entries(suite) -> Counter:
    """How often the run's plan enters each mode: consecutive cells of one mode are one entry. The snake order
    shares the turning mode between passes: 15W, 25W | 25W, 15W enters 15W twice and 25W once."""
    entries: Counter = Counter()
    prev = None
    for cell in suite.instances():
        if cell.power_mode != prev:
            entries[cell.power_mode] += 1
            prev = cell.power_mode
    return entries


class HostModes:
    """nvpmodel on a deployed board, through the deployment's link (reconnected when it drops).

    It owns what a sweep must remember across hosts -- a reboot asked for and not seen yet (``pending``) -- and
    tells the deployment through ``persist(new_boot)`` when that must be written down (``deploy.json``) or when
    the board came back in a new boot (the deployment takes its lock again for it); the link's ``boot_id`` is the
    boot both know the board in.
    """

    def __init__(self, link, plan, remote_run_dir: str, persist: Callable[[bool], None],
                 progress: Handler, pending: PendingReboot | None = None) -> None:
        self.link, self.plan, self.remote_run_dir = link, plan, remote_run_dir
        self.persist, self.progress, self.pending = persist, progress, pending
        root = plan.profile.probe_root.rstrip("/")
        self.control = ModeControl(link, conf_path=root + NVPMODEL_CONF)
        self.board: BoardModes | None = None
        self.planned = planned_entries(plan.suite)
        self.entered: Counter = Counter()  # switches this deploy made into each mode
        self.last: tuple[str, int] | None = None  # (mode, the follower's progress count) at the last switch
        self.reboot_failed = False  # a reboot nvpmodel asked for never came: ask for no other

    @property
    def sweep(self) -> list[str]:
        return list(self.plan.suite.power_modes or [])

    def resolve(self) -> str | None:
        """Check the suite's modes exist on this board; the mode it is in now."""
        where = self.link.where
        if not self.control.available():
            raise RemoteError(f"{where}: the suite sweeps power modes ({', '.join(self.sweep)}) but the device has no nvpmodel",
                              "power modes are a Jetson's: drop power_modes for this device (a campaign device entry can)")
        self.board = self.control.modes()
        unknown = [m for m in self.sweep if m not in self.board.ids]
        if unknown:
            from harness.names import did_you_mean

            raise RemoteError(f"{where}: power mode{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} not defined in "
                              f"{NVPMODEL_CONF}{did_you_mean(unknown[0], self.board.ids)} (this board has: "
                              f"{', '.join(self.board.ids)})",
                              "use this board's mode names in the suite's power_modes")
        return self.control.query()[0]

    def set(self, name: str, progress: int = 0) -> dict:
        """Switch to ``name`` (rebooting when nvpmodel asks and the profile allows), verify, tell the runner.

        ``progress`` counts the records the follower has seen finish so far (it only grows): a switch after the
        first of this deploy needs it to have grown since the one before. The statement's ``switched`` says
        whether the board changed mode (False: the runner asked for the mode the board is in).
        """
        link = self.link
        if name not in self.sweep:
            raise DeviceDataError(f"{link.where}: the runner asked for power mode {name[:64]!r}, which the suite does not sweep",
                                  "the device is misbehaving (its manifest was changed); check it, then deploy again")
        pending = self.pending
        now = link.current_boot_id()
        came = self.settle_pending(now)
        if came and now != link.boot_id:
            self._booted(now)  # a reboot that came late, under this deploy: the lock names the new boot
        active = self.control.query()[0]
        switched = active != name
        if switched:
            self.admit(name, progress)
        rebooted = self.switch(name, active) or (came and pending.mode == name)
        mode_id = self.control.verify(name)
        if self.plan.profile.power_mode.jetson_clocks:
            self.control.lock_clocks()  # nvpmodel resets the clocks: pin them again for this mode
        limits = self.control.modes().limits.get(name)
        statement = {"name": name, "id": mode_id, "limits": limits.as_dict() if limits else None,
                     "boot_id": link.boot_id, "set_at": time.time(), "rebooted": rebooted, "switched": switched}
        path = f"{self.remote_run_dir}/{STATEMENT}"
        tmp = f"{path}.tmp"
        r = link.run(["sh", "-c", f"cat > {shlex.quote(tmp)} && mv -f {shlex.quote(tmp)} {shlex.quote(path)}"],
                     stdin=json.dumps(statement))
        if not r.ok:
            raise RemoteError(f"{link.where}: cannot write {path} ({r.stderr.strip()[:200]})", "check the device's disk")
        self.progress(ev.PowerMode(name, mode_id, rebooted))
        return statement

    def admit(self, name: str, progress: int) -> None:
        """Refuse a switch the plan cannot explain (DeviceDataError naming the device and what it asked for)."""
        where, plan = self.link.where, self.plan
        hint = (f"the runner on the device asks for switches its plan does not need (a changed or broken runner): see "
                f"`harness logs {plan.out / plan.run_id}`, then `harness deploy --resume --run-id {plan.run_id}`")
        if self.last is not None and progress <= self.last[1]:
            raise DeviceDataError(f"{where}: the runner asked for power mode {name} without finishing a cell since the "
                                  f"switch to {self.last[0]} ({sum(self.entered.values())} switch(es) so far); a sweep "
                                  "switches once a mode's cells are done", hint)
        if self.entered[name] >= self.planned[name]:
            raise DeviceDataError(f"{where}: the runner asked for power mode {name} a {self.entered[name] + 1}. time; "
                                  f"this sweep enters it {self.planned[name]} time(s) ({plan.suite.repeats} repeat(s) "
                                  f"over {', '.join(self.sweep)})", hint)
        self.entered[name] += 1
        self.last = (name, progress)

    def switch(self, name: str, active: str | None = None) -> bool:
        """The board in ``name`` (no-op when it is; ``active``: the mode it is in, when just queried); True when that
        took a reboot."""
        if (active if active is not None else self.control.query()[0]) == name:
            return False
        done = self.control.switch(name)
        if not done.needs_reboot:
            return False
        if not self.plan.profile.power_mode.allow_reboot:
            raise BenchmarkError(f"{self.link.where}: power mode {name} needs a reboot and the profile's "
                                 "power_mode.allow_reboot is false", "set it true, or drop that mode from power_modes")
        if self.reboot_failed:
            raise BenchmarkError(f"{self.link.where}: power mode {name} needs a reboot, and the reboot asked for earlier "
                                 "never came; not asking for another", "check the board, reboot it, then resume")
        self.reboot_into(name)
        return True

    def reboot_into(self, name: str) -> None:
        """Confirm nvpmodel's reboot, wait for a new boot id, take the lock again for the new boot.

        The reboot is noted as pending in ``deploy.json`` first: whatever happens next (no reboot, a host that
        dies while waiting), the mode counts only once the board has booted since. A board that answers with the
        same boot id at ``timeouts.reboot_s`` did not reboot: BenchmarkError (a failed switch, not retried); one
        that stays unreachable: LinkError (resume later; the pending note still holds).
        """
        link, plan = self.link, self.plan
        before = link.current_boot_id()
        self.pending = PendingReboot(mode=name, boot_id=before, asked_at=time.time())
        self.persist(False)
        self.progress(ev.Rebooting(name))
        try:
            self.control.switch(name, confirm_reboot=True)
        except (LinkError, RemoteError):
            pass  # the board went down under the command
        limit = plan.profile.timeouts.reboot_s
        deadline = time.monotonic() + limit
        up_unchanged = False  # the last answer came from the boot the reboot was asked in
        while True:
            try:
                link.ensure()
                now = link.current_boot_id()
                if now and now != before:
                    break
                up_unchanged = bool(now)
            except (LinkError, RemoteError):
                up_unchanged = False  # down (rebooting, or gone)
            if time.monotonic() > deadline:
                self.reboot_failed = True
                if up_unchanged:
                    raise BenchmarkError(f"{link.where}: power mode {name} needs a reboot; nvpmodel's was confirmed but "
                                         f"the board is still up in the same boot (boot id {before or '?'}) {limit:g} s later: "
                                         "the switch failed", "check why the board does not reboot (nvpmodel, sudoers), "
                                         "reboot it by hand, then `harness deploy --resume --run-id "
                                         f"{plan.run_id}` (timeouts.reboot_s in the profile)")
                raise LinkError(f"{link.where}: no reboot seen {limit:g} s after `nvpmodel -m` for {name} (the board "
                                "does not answer)", f"check the board; `harness deploy --resume --run-id {plan.run_id}` "
                                "continues once it is back with a new boot (timeouts.reboot_s in the profile)")
            time.sleep(min(5.0, plan.poll_s))
        self._booted(now)
        self.progress(ev.Rebooted(name))

    def _booted(self, now: str) -> None:
        """The board has a new boot: the pending reboot came; the deployment's lock names the new boot."""
        self.link.boot_id = now
        self.pending = None
        self.persist(True)

    def settle_pending(self, boot_now: str) -> bool:
        """A reboot asked for earlier (this deploy, or one before it: ``deploy.json``) must have come before its mode
        counts. True when it came since (the note is dropped); BenchmarkError while the board names that mode in the
        boot the reboot was asked in; False when nothing is pending, or the board is in another mode."""
        p = self.pending
        if p is None:
            return False
        if boot_now and boot_now != p.boot_id:
            self.pending = None
            return True
        if self.control.query()[0] == p.mode:
            self.reboot_failed = True
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(p.asked_at))
            raise BenchmarkError(f"{self.link.where}: the board names power mode {p.mode}, which needs a reboot that never came "
                                 f"(boot id still {p.boot_id or '?'}, asked for at {since}): its cells are not measured "
                                 "in a mode the board has not booted into",
                                 f"reboot the board, then `harness deploy --resume --run-id {self.plan.run_id}`")
        return False

    def restore(self, target: str | None) -> str | None:
        """The board back in ``target`` (the profile's mode, else the one it was found in); the mode, or None."""
        if not target or self.board is None or target not in self.board.ids:
            return None
        self.switch(target)
        self.control.verify(target)
        if self.plan.profile.power_mode.jetson_clocks:
            self.control.lock_clocks()
        self.progress(ev.PowerMode(target, restored=True))
        return target
