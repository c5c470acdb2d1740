"""Running a campaign: every device on a bounded worker pool through ``harness deploy``, retried and quarantined.

Each device runs its repetitions one after another; a run is tried up to
``max_attempts`` times (tenacity: fixed back-off, an optional power cycle before
the next try). ``quarantine_after`` consecutive failed attempts -- across runs --
quarantine the device with the real error as the reason; the campaign goes on
without it. One device's failure, of any kind, is that device's and never the
campaign's: ``run_campaign`` returns a map device -> DeviceResult, or the
exception itself when a worker died of something unexpected.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_fixed

from harness.campaign.fleet import Campaign, ordered_suite, resolve_ref, with_device_modes
from harness.campaign.journal import Journal
from harness.config.profiles import Cooldown, DeviceProfile
from harness.config.suite import Suite, load_suite, with_overrides
from harness.errors import HarnessError
from harness.fsutil import atomic_write_text, storage_error
from harness.remote.events import DeployEvent, DeviceFailed, Quarantined


@dataclass(frozen=True)
class DeviceResult:
    """How one device ended: ``done``, ``quarantined``, ``stopped`` or ``budget``, with the reason when not done."""

    state: str
    runs_done: int = 0
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == "done"


class _Halt(Exception):
    """Stop this device without counting a failure (campaign stopped, time budget spent, quarantined)."""

    def __init__(self, state: str, reason: str) -> None:
        super().__init__(reason)
        self.state, self.reason = state, reason


def _why(e: BaseException) -> str:
    return e.message if isinstance(e, HarnessError) else f"{type(e).__name__}: {e}"


def _power_cycle(profile: DeviceProfile, journal: Journal) -> None:
    pc = profile.power_cycle
    if not (pc.off and pc.on):
        return
    for step in (pc.off, pc.on):
        r = subprocess.run(shlex.split(step), capture_output=True, text=True, timeout=120)
        journal.event(profile.name, "power_cycle", f"{step} -> {r.returncode}")
        time.sleep(5)


def run_device(c: Campaign, profile: DeviceProfile, suites: list[Suite], sequence: Path, journal: Journal,
               t_end: float | None, log) -> DeviceResult:
    """All repetitions of one device; returns how it ended. Never raises for a device's failure."""
    from harness.farm.leased import deploy_leased
    from harness.remote.deploy import DeployPlan
    from harness.remote.events import Farm

    dev, spec = profile.name, c.spec
    state = journal.device(dev)
    if state["state"] in ("done", "quarantined"):
        return DeviceResult(state["state"], _runs_done(journal, dev), state["reason"])
    failures = [state["failures"]]
    journal.set_device(dev, "running")

    def attempt(run_id: str, suite: Suite, rep: int) -> None:
        if c.stop_flag.exists():
            raise _Halt("stopped", "campaign stopped")
        if t_end is not None and time.time() > t_end:
            raise _Halt("budget", "time budget exhausted")
        resume = journal.run_state(run_id) is not None
        journal.set_run(run_id, dev, rep + 1, "running")
        plan = DeployPlan(profile, ordered_suite(with_device_modes(suite, spec.power_modes, dev), spec.order, rep, spec.seed,
                                                 dev), sequence, run_id,
                          c.root / "runs", poll_s=spec.poll_s, reconnect_budget_s=spec.reconnect_budget_s)
        try:
            handler = lambda e: (log(dev, e), journal.event(dev, e.name, _short(e)))  # noqa: E731
            store = deploy_leased(plan, handler, resume, lambda text: handler(Farm(text)))
        except Exception as e:  # noqa: BLE001 - any failure of one board is that board's, never the campaign's
            why = _why(e)
            failures[0] += 1
            journal.set_device(dev, "retrying", why, failures[0])
            journal.event(dev, "failed", why)
            log(dev, DeviceFailed(why, failures[0]))
            if failures[0] >= spec.quarantine_after:
                journal.set_run(run_id, dev, rep + 1, "abandoned")
                raise _Halt("quarantined", why) from e
            _power_cycle(profile, journal)
            raise
        failures[0] = 0
        journal.add_cells(run_id, dev, store.read_records())
        journal.set_run(run_id, dev, rep + 1, "done")
        journal.set_device(dev, "running", None, 0)

    for rep in range(spec.repetitions):
        for suite in suites:
            run_id = f"{spec.name}-{dev}{f'-{suite.name}' if len(suites) > 1 else ''}-r{rep + 1}"
            if journal.run_state(run_id) == "done":
                continue
            retrying = Retrying(stop=stop_after_attempt(spec.max_attempts), wait=wait_fixed(spec.retry_backoff_s),
                                retry=retry_if_exception(lambda e: not isinstance(e, _Halt)), reraise=True)
            try:
                retrying(attempt, run_id, suite, rep)
            except _Halt as h:
                journal.set_device(dev, h.state, h.reason, failures[0])
                if h.state == "quarantined":
                    log(dev, Quarantined(h.reason))
                return DeviceResult(h.state, _runs_done(journal, dev), h.reason)
            except Exception as e:  # noqa: BLE001 - max_attempts spent: the last error is the reason
                why = f"{spec.max_attempts} attempts of {run_id} failed, the last with: {_why(e)}"
                journal.set_device(dev, "quarantined", why, failures[0])
                log(dev, Quarantined(why))
                return DeviceResult("quarantined", _runs_done(journal, dev), why)
    journal.set_device(dev, "done")
    return DeviceResult("done", _runs_done(journal, dev))


def _runs_done(journal: Journal, dev: str) -> int:
    return next((r["runs_done"] for r in journal.summary() if r["device"] == dev), 0)


def _short(e: DeployEvent) -> str:
    return ", ".join(f"{k}={v}" for k, v in e.as_dict().items() if k != "checks")[:300]


def run_campaign(c: Campaign, log=None) -> dict[str, DeviceResult | BaseException]:
    """Run (or resume) every device; returns device -> DeviceResult (or the exception a worker died of)."""
    from harness.mot.synth import demo_sequence

    # everything the campaign file names is checked before anything is written
    profiles = c.profiles()
    suites = [with_overrides(load_suite(resolve_ref(ref, c.base)), c.spec.frames, c.spec.imgsz, None)
              for ref in (c.spec.suites or [c.spec.suite])]
    try:
        c.root.mkdir(parents=True, exist_ok=True)
        (c.root / "logs").mkdir(exist_ok=True)
        c.stop_flag.unlink(missing_ok=True)
    except OSError as e:
        raise storage_error(e, c.root) from e
    # the saved copy has absolute paths, so `campaign resume DIR` works from anywhere
    atomic_write_text(c.root / "campaign.yaml", yaml.safe_dump(c.absolute_spec().model_dump(exclude_unset=True)))
    journal = Journal(c.journal_path)
    sequence = Path(c.spec.sequence) if c.spec.sequence else demo_sequence(max(s.frames for s in suites))
    if c.spec.cooldown:
        given = c.spec.cooldown.model_dump(exclude_unset=True)
        profiles = [p.model_copy(update={"cooldown": Cooldown.model_validate({**p.cooldown.model_dump(), **given})})
                    for p in profiles]
    t_end = time.time() + c.spec.time_budget_s if c.spec.time_budget_s else None
    lock = threading.Lock()

    def logger(dev: str, event: DeployEvent) -> None:
        line = f"{time.strftime('%H:%M:%S')} {event.name} {_short(event)}"
        path = c.root / "logs" / f"{dev}.log"
        try:
            with lock, open(path, "a") as f:
                f.write(line + "\n")
        except OSError as e:
            raise storage_error(e, path) from e
        if log:
            log(dev, event)

    for p in profiles:
        if journal.device(p.name)["state"] == "pending":
            journal.set_device(p.name, "pending")
    outcomes: dict[str, DeviceResult | BaseException] = {}
    with ThreadPoolExecutor(max_workers=min(c.spec.workers, len(profiles))) as pool:
        futures = {p.name: pool.submit(run_device, c, p, suites, sequence, journal, t_end, logger) for p in profiles}
        for name, fut in futures.items():
            try:
                outcomes[name] = fut.result()
            except Exception as e:  # noqa: BLE001 - a device must never take the campaign down
                journal.set_device(name, "quarantined", _why(e))
                outcomes[name] = e
    return outcomes


def run_dirs(c: Campaign) -> list[Path]:
    journal = Journal(c.journal_path)
    return [c.root / "runs" / rid for (rid,) in journal.exec("select run_id from runs where state='done' order by run_id")]
