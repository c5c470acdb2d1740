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
"""

from __future__ import annotations

import json
import shlex
import time

from harness.errors import BenchmarkError, DeviceDataError, LinkError, RemoteError
from harness.powermodes import NVPMODEL_CONF, BoardModes, ModeControl, Result
from harness.remote import lock

STATEMENT = "power_mode.json"


class HostModes:
    """nvpmodel on a deployed board, through the deployment's (re)connected SSH link."""

    def __init__(self, d) -> None:  # d: a Deployment
        self.d = d
        root = d.plan.profile.probe_root.rstrip("/")
        self.control = ModeControl(self._shell, where=d.conn.where, conf_path=root + NVPMODEL_CONF)
        self.board: BoardModes | None = None

    def _shell(self, argv: list[str], stdin: str = "") -> Result:
        conn = self.d.conn
        r = conn.stream_in(argv, [stdin.encode()]) if stdin else conn.run(argv, max_output_bytes=4 << 20)
        return Result(r.exit_code, r.stdout, r.stderr)

    @property
    def sweep(self) -> list[str]:
        return list(self.d.plan.suite.power_modes or [])

    def resolve(self) -> str | None:
        """Check the suite's modes exist on this board; the mode it is in now."""
        where = self.d.conn.where
        if not self.control.available():
            raise RemoteError(f"{where}: the suite sweeps power modes ({', '.join(self.sweep)}) but the device has no nvpmodel",
                              "power modes are a Jetson's: drop power_modes for this device (a campaign device entry can)")
        self.board = self.control.modes()
        unknown = [m for m in self.sweep if m not in self.board.ids]
        if unknown:
            raise RemoteError(f"{where}: power mode{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} not defined in "
                              f"{NVPMODEL_CONF} (this board has: {', '.join(self.board.ids)})",
                              "use this board's mode names in the suite's power_modes")
        return self.control.query()[0]

    def set(self, name: str) -> dict:
        """Switch to ``name`` (rebooting when nvpmodel asks and the profile allows), verify, tell the runner."""
        d = self.d
        if name not in self.sweep:
            raise DeviceDataError(f"{d.conn.where}: the runner asked for power mode {name[:64]!r}, which the suite does not sweep",
                                  "the device is misbehaving (its manifest was changed); check it, then deploy again")
        rebooted = self.switch(name)
        mode_id = self.control.verify(name)
        if d.plan.profile.power_mode.jetson_clocks:
            self.control.lock_clocks()  # nvpmodel resets the clocks: pin them again for this mode
        limits = self.control.modes().limits.get(name)
        statement = {"name": name, "id": mode_id, "limits": limits.as_dict() if limits else None, "boot_id": d.boot_id,
                     "set_at": time.time(), "rebooted": rebooted}
        path = f"{d.remote_run_dir}/{STATEMENT}"
        tmp = f"{path}.tmp"
        r = d.conn.stream_in(["sh", "-c", f"cat > {shlex.quote(tmp)} && mv -f {shlex.quote(tmp)} {shlex.quote(path)}"],
                             [json.dumps(statement).encode()])
        if not r.ok:
            raise RemoteError(f"{d.conn.where}: cannot write {path} ({r.stderr.strip()[:200]})", "check the device's disk")
        d.plan.events.append(f"power mode {name} (id {mode_id}){' after a reboot' if rebooted else ''}")
        d.progress("power_mode", {"mode": name, "id": mode_id, "rebooted": rebooted})
        return statement

    def switch(self, name: str) -> bool:
        """The board in ``name`` (no-op when it is); True when that took a reboot."""
        if self.control.query()[0] == name:
            return False
        done = self.control.switch(name)
        if not done.needs_reboot:
            return False
        if not self.d.plan.profile.power_mode.allow_reboot:
            raise BenchmarkError(f"{self.d.conn.where}: power mode {name} needs a reboot and the profile's "
                                 "power_mode.allow_reboot is false", "set it true, or drop that mode from power_modes")
        self.reboot_into(name)
        return True

    def reboot_into(self, name: str) -> None:
        """Confirm nvpmodel's reboot, wait for a new boot id, take the lock again for the new boot."""
        d = self.d
        before = d.current_boot_id()
        d.progress("rebooting", {"mode": name})
        try:
            self.control.switch(name, confirm_reboot=True)
        except (LinkError, RemoteError):
            pass  # the board went down under the command
        limit = d.plan.profile.timeouts.reboot_s
        deadline = time.monotonic() + limit
        now = before
        while True:
            try:
                if not d.conn.link_ok():
                    d.conn.close()
                    d.connect()
                now = d.current_boot_id()
                if now and now != before:
                    break
            except (LinkError, RemoteError):
                pass  # still down
            if time.monotonic() > deadline:
                raise LinkError(f"{d.conn.where}: no reboot seen {limit:g} s after `nvpmodel -m` for {name} (boot id "
                                f"still {before or '?'})", f"check the board; `harness deploy --resume --run-id "
                                f"{d.plan.run_id}` continues (timeouts.reboot_s in the profile)")
            time.sleep(min(5.0, d.plan.poll_s))
        d.boot_id = now
        d.held = lock.acquire(d.conn, d.workdir, d.plan.run_id, d.boot_id)  # the lock names the new boot
        d.save_session()
        d.progress("rebooted", {"mode": name})

    def restore(self, target: str | None) -> str | None:
        """The board back in ``target`` (the profile's mode, else the one it was found in); the mode, or None."""
        if not target or self.board is None or target not in self.board.ids:
            return None
        self.switch(target)
        self.control.verify(target)
        if self.d.plan.profile.power_mode.jetson_clocks:
            self.control.lock_clocks()
        self.d.plan.events.append(f"power mode back to {target}")
        self.d.progress("power_mode", {"mode": target, "restored": True})
        return target
