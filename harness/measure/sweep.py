"""The runner's side of a power-mode sweep: is the board in the cell's mode, and what does that mode give?

Who switches is the run's ``mode_control``:

- ``local`` (``harness run`` on a Jetson): the runner switches with nvpmodel itself, verifies with
  ``nvpmodel -q`` and returns the board to the profile's mode (else the mode it found) at the end. A mode
  that needs a reboot cannot be survived by a run on the machine being rebooted: its cells fail with the fix.
- ``host`` (``harness deploy``): the runner stops at a mode boundary with the manifest in ``awaiting_mode``
  and the mode it wants; the host switches over SSH (rebooting and reconnecting where nvpmodel asks for it),
  writes ``power_mode.json`` into the run directory (the mode it set and verified, its limits) and starts
  the runner again with ``--resume``. A runner inside a container cannot run nvpmodel; it trusts the host's file.

Before every timed window the mode is checked again and the clocks are read from sysfs (``cpufreq``,
the GPU's devfreq): a mode that is not the cell's fails the cell, clocks that disagree with the mode's
limits are recorded (``clocks_match: false``) with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import BenchmarkError, CellSkipped, HarnessError
from harness.measure.plan import now
from harness.powermodes import ModeControl, ModeLimits, clocks_mismatch, read_clocks
from harness.results.record import PowerModeFacts

HOST_FILE = "power_mode.json"  # written by the host into the run directory, read by the runner


class ModeKeeper:
    def __init__(self, run_dir: Path, mode_control: str, profile_mode: str | None, lock_clocks: bool = False) -> None:
        self.run_dir = run_dir
        self.lock_clocks = lock_clocks
        self.mode_control = mode_control
        self.profile_mode = profile_mode
        self.control = ModeControl.local()
        self.found_mode: str | None = None
        self._limits: dict[str, ModeLimits] = {}
        self.mismatch: str | None = None
        self.refused: dict[str, str] = {}  # a mode that cannot be set here: why (its other cells fail fast)

    # --- what is active --------------------------------------------------------------------------
    def host_statement(self) -> dict | None:
        """The host's ``power_mode.json`` (it set and verified the mode), or None."""
        try:
            data = json.loads((self.run_dir / HOST_FILE).read_text()[:65536])
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("name"), str) else None

    def active(self) -> tuple[str | None, int | None, str]:
        """(name, id, how it is known) of the active mode; (None, None, why) when nothing can tell."""
        if self.control is not None:
            name, mode_id = self.control.query()
            return name, mode_id, "nvpmodel -q"
        if self.mode_control == "host" and (said := self.host_statement()):
            mode_id = said.get("id") if isinstance(said.get("id"), int) else None
            return said["name"], mode_id, "host"
        return None, None, "no nvpmodel on this machine (not a Jetson, or a container without it)"

    def limits(self, name: str) -> ModeLimits | None:
        if name not in self._limits:
            if self.control is not None:
                self._limits.update(self.control.modes().limits)
            elif (said := self.host_statement()) and said.get("name") == name and isinstance(said.get("limits"), dict):
                lim = said["limits"]
                ints = {k: lim.get(k) if isinstance(lim.get(k), int) else None for k in ("cpu_online", "cpu_max_khz", "gpu_max_hz")}
                self._limits[name] = ModeLimits(**ints)
        return self._limits.get(name)

    # --- switching -------------------------------------------------------------------------------
    def start(self) -> None:
        if self.control is not None and self.found_mode is None:
            self.found_mode = self.control.query()[0]

    def needs_switch(self, mode: str) -> bool:
        return self.active()[0] != mode

    def switch_locally(self, mode: str) -> None:
        """Switch this machine (local runs); BenchmarkError with the fix when it cannot (the cell fails)."""
        if self.control is None:
            raise BenchmarkError(f"power mode {mode} cannot be set here: no nvpmodel on this machine",
                                 "power_modes apply to Jetson boards; drop them for this device")
        done = self.control.switch(mode)
        if done.needs_reboot:
            raise BenchmarkError(f"power mode {mode} needs a reboot (nvpmodel says so), which a local run cannot survive",
                                 "run the sweep with `harness deploy` from another machine, or set the mode, reboot and "
                                 "run the suite without power_modes")
        self.control.verify(mode)
        if self.lock_clocks:
            self.control.lock_clocks()

    def restore(self) -> str | None:
        """Back to the profile's mode (else the one found at the start) after a local sweep; the mode, or None."""
        target = self.profile_mode or self.found_mode
        if self.mode_control != "local" or self.control is None or not target:
            return None
        if self.control.query()[0] != target:
            done = self.control.switch(target)
            if done.needs_reboot:
                return None  # left pending: applied at the next boot (nvpmodel keeps it)
            if self.lock_clocks:
                self.control.lock_clocks()
        return target

    # --- the runner's steps -----------------------------------------------------------------------
    def hand_over(self, manifest: dict, cell, store) -> bool:
        """Host-controlled: stop before a cell of another mode; the manifest's ``awaiting_mode`` names it."""
        if self.mode_control != "host" or not cell.power_mode or not self.needs_switch(cell.power_mode):
            return False
        manifest["state"], manifest["wanted_mode"] = "awaiting_mode", cell.power_mode
        store.write_manifest(manifest)
        store.log(f"{now()} awaiting power mode {cell.power_mode} (the host switches, then resumes)")
        return True

    def enter(self, mode: str, stage, store) -> None:
        """Local: switch to ``mode`` once; CellSkipped off a Jetson, BenchmarkError when it cannot be set."""
        if mode in self.refused:
            raise BenchmarkError(self.refused[mode], "see the first cell of this mode")
        if self.mode_control != "local":
            return
        if self.control is None:
            raise CellSkipped(f"power mode {mode} cannot be set: no nvpmodel on this machine (power modes are a Jetson's)")
        if self.needs_switch(mode):
            stage(f"power mode -> {mode}")
            try:
                self.switch_locally(mode)
            except BenchmarkError as e:
                self.refused[mode] = str(e)
                raise
            store.log(f"{now()} power mode {mode} set and verified")

    def restore_into(self, manifest: dict, store) -> None:
        """At the end of a local sweep (or an interrupt): back to the profile's mode, noted in the manifest."""
        try:
            back = self.restore()
        except HarnessError as e:
            store.log(f"{now()} could not restore the power mode: {e}")
            return
        if back:
            manifest["power_mode_restored"] = back
            store.log(f"{now()} power mode back to {back}")

    # --- per cell --------------------------------------------------------------------------------
    def facts(self, mode: str) -> PowerModeFacts:
        """Verify the board is in ``mode`` and read its clocks; BenchmarkError when it is in another mode."""
        name, mode_id, how = self.active()
        if name != mode:
            raise BenchmarkError(f"the board is in power mode {name or '?'} ({how}), this cell needs {mode}",
                                 "another process changed the mode; resume the run to switch back")
        clocks = read_clocks()
        limits = self.limits(mode)
        why = clocks_mismatch(limits, clocks)
        self.mismatch = why
        return PowerModeFacts(name=name, id=mode_id, verified_by=how, clocks=clocks,
                              limits=limits.as_dict() if limits else None,
                              clocks_match=None if limits is None or all(v is None for v in clocks.values()) else why is None,
                              clocks_reason=why)
