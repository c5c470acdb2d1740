"""Unattended campaigns: one suite, many devices, in parallel, surviving the night.

A campaign file (YAML) names the devices (profiles, or an Ansible inventory
group), the suite, repetitions, cell order, time budget, retry and quarantine
policy. Each device runs on a bounded worker pool through ``harness deploy``;
a journal (SQLite, ``<out>/<campaign>/journal.sqlite``) records every device's
state (pending -> running -> done | quarantined), each run and each finished
cell, and every event. ``resume`` reads it after the host itself restarted:
finished runs are skipped, unfinished ones are resumed on the device (the
runner continues after the last finished cell; a runner still going is
followed, not restarted), so no cell is re-run and no record duplicated. A
board that fails its health check (connect / preflight) ``quarantine_after``
times in a row is quarantined with the reason and the campaign finishes
without it; an optional power-cycle command (from the profile) runs before a
retry.
"""

from __future__ import annotations

import random
import shlex
import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from harness.errors import HarnessError, ProfileError
from harness.config.profiles import Cooldown, DeviceProfile, load_profile
from harness.config.suite import Experiment, Suite, VariantSpec, load_suite
from harness.config.yamlio import load_model_yaml, read_yaml

CAMPAIGN_FIX = "see README (Overnight campaigns) for the campaign file format"


class Inventory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    group: str = "all"


class CampaignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    devices: list[str] = Field(default_factory=list, description="profile names or YAML paths")
    inventory: Inventory | None = None
    suite: str = "quick"
    suites: list[str] = Field(default_factory=list, description="several suites (overrides suite); each is its own run")
    cooldown: Cooldown | None = Field(None, description="overrides every device profile's cooldown block")
    sequence: str | None = None
    frames: int | None = None
    imgsz: int | None = None
    repetitions: int = Field(1, ge=1)
    order: Literal["suite", "interleaved", "random"] = "suite"
    seed: int = 0
    time_budget_s: float | None = Field(None, gt=0)
    workers: int = Field(8, ge=1, le=64)
    max_attempts: int = Field(3, ge=1, description="tries per run before the device is quarantined")
    quarantine_after: int = Field(2, ge=1, description="consecutive failed health checks that quarantine a device")
    retry_backoff_s: float = Field(5.0, ge=0)
    reconnect_budget_s: float = Field(300.0, gt=0)
    poll_s: float = Field(2.0, gt=0)


def load_campaign(path: str | Path) -> CampaignSpec:
    spec = load_model_yaml(Path(path), CampaignSpec, ProfileError, "campaign", CAMPAIGN_FIX)
    if not spec.devices and spec.inventory is None:
        raise ProfileError(f"{path}: no devices (set devices: [...] or inventory: {{path, group}})", CAMPAIGN_FIX)
    return spec


def inventory_profiles(inv: Inventory, base: Path) -> list[DeviceProfile]:
    """Profiles from an Ansible YAML inventory group: each host's vars say which profile and how to reach it."""
    path = (base / inv.path) if not Path(inv.path).is_absolute() else Path(inv.path)
    data = read_yaml(path, ProfileError, "inventory", "use an Ansible YAML inventory")
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: an inventory must be a YAML mapping", "use an Ansible YAML inventory")

    def hosts_of(node: dict, want: str, inside: bool) -> dict:
        out = {}
        for name, child in (node.get("children") or {}).items():
            out.update(hosts_of(child or {}, want, inside or name == want))
        if inside:
            out.update(node.get("hosts") or {})
        return out

    root = data.get("all", data)
    hosts = hosts_of(root, inv.group, inv.group == "all")
    if not hosts:
        raise ProfileError(f"{path}: group {inv.group!r} has no hosts", "check inventory.group")
    profiles = []
    for host, hv in hosts.items():
        hv = hv or {}
        prof = load_profile(hv.get("harness_profile", "local")).model_dump()
        conn = dict(prof.get("connection") or {})
        conn.update(host=hv.get("ansible_host", host), user=hv.get("ansible_user", conn.get("user", "root")),
                    port=int(hv.get("ansible_port", conn.get("port", 22))))
        if hv.get("ansible_ssh_private_key_file"):
            conn["key_file"] = hv["ansible_ssh_private_key_file"]
        if hv.get("harness_known_hosts"):
            conn["known_hosts"] = hv["harness_known_hosts"]
        prof.update(name=host, connection=conn, **(hv.get("harness_overrides") or {}))
        profiles.append(DeviceProfile.model_validate(prof))
    return profiles


def ordered_suite(suite: Suite, order: str, rep: int, seed: int, device: str) -> Suite:
    """The suite with its cells reordered (cell ids unchanged): interleaved rotates by repetition, random shuffles."""
    cells = suite.cells()
    if order == "interleaved" and cells:
        k = rep % len(cells)
        cells = cells[k:] + cells[:k]
    elif order == "random":
        random.Random(f"{seed}|{device}|{rep}").shuffle(cells)
    else:
        return suite
    exps = [Experiment(name=c.experiment, models=[c.model],
                       variants=[VariantSpec(format=c.format, precision=c.precision, prune_ratio=c.prune_ratio,
                                             finetuned=c.finetuned)]) for c in cells]
    return Suite.model_validate({**suite.model_dump(), "experiments": [e.model_dump() for e in exps]})


# --- the journal -----------------------------------------------------------------------------

SCHEMA = """
create table if not exists devices(device text primary key, state text, failures integer default 0,
                                   reason text, updated real);
create table if not exists runs(run_id text primary key, device text, rep integer, state text, attempts integer default 0,
                                updated real);
create table if not exists cells(run_id text, cell_id text, device text, status text, primary key(run_id, cell_id));
create table if not exists events(ts real, device text, event text, detail text);
"""


class Journal:
    """SQLite journal; one connection per call (threads), WAL for concurrent readers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        with self._db() as db:
            db.executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("pragma journal_mode=wal")
        return db

    def exec(self, sql: str, *args) -> list[tuple]:
        with self._lock, self._db() as db:
            return db.execute(sql, args).fetchall()

    def event(self, device: str, event: str, detail: str = "") -> None:
        self.exec("insert into events values(?,?,?,?)", time.time(), device, event, detail)

    def set_device(self, device: str, state: str, reason: str | None = None, failures: int | None = None) -> None:
        self.exec("insert into devices(device, state, reason, updated) values(?,?,?,?) on conflict(device) do update set "
                  "state=excluded.state, reason=coalesce(excluded.reason, devices.reason), updated=excluded.updated",
                  device, state, reason, time.time())
        if failures is not None:
            self.exec("update devices set failures=? where device=?", failures, device)

    def device(self, device: str) -> dict:
        rows = self.exec("select state, failures, reason from devices where device=?", device)
        return dict(zip(("state", "failures", "reason"), rows[0])) if rows else {"state": "pending", "failures": 0, "reason": None}

    def run_state(self, run_id: str) -> str | None:
        rows = self.exec("select state from runs where run_id=?", run_id)
        return rows[0][0] if rows else None

    def set_run(self, run_id: str, device: str, rep: int, state: str) -> None:
        self.exec("insert into runs(run_id, device, rep, state, updated) values(?,?,?,?,?) on conflict(run_id) do update set "
                  "state=excluded.state, attempts=runs.attempts + (excluded.state='running'), updated=excluded.updated",
                  run_id, device, rep, state, time.time())

    def add_cells(self, run_id: str, device: str, records: list[dict]) -> None:
        for r in records:
            self.exec("insert or replace into cells values(?,?,?,?)", run_id, r["cell_id"], device, r["status"])

    def summary(self) -> list[dict]:
        rows = self.exec("select d.device, d.state, d.failures, d.reason, "
                         "(select count(*) from cells c where c.device=d.device), "
                         "(select count(*) from runs r where r.device=d.device and r.state='done') from devices d order by d.device")
        return [dict(zip(("device", "state", "failures", "reason", "cells", "runs_done"), r)) for r in rows]


# --- running ---------------------------------------------------------------------------------


@dataclass
class Campaign:
    spec: CampaignSpec
    root: Path  # <out>/<campaign name>
    base: Path  # where relative paths in the spec resolve

    @property
    def journal_path(self) -> Path:
        return self.root / "journal.sqlite"

    @property
    def stop_flag(self) -> Path:
        return self.root / "STOP"

    def profiles(self) -> list[DeviceProfile]:
        profs = [load_profile(_abs(d, self.base)) for d in self.spec.devices]
        if self.spec.inventory is not None:
            profs += inventory_profiles(self.spec.inventory, self.base)
        names = [p.name for p in profs]
        if len(set(names)) != len(names):
            raise ProfileError(f"campaign {self.spec.name}: device names repeat ({names})", "give every device its own profile name")
        return profs


def _power_cycle(profile: DeviceProfile, journal: Journal) -> None:
    pc = profile.power_cycle
    if not (pc.off and pc.on):
        return
    for step in (pc.off, pc.on):
        r = subprocess.run(shlex.split(step), capture_output=True, text=True, timeout=120)
        journal.event(profile.name, "power_cycle", f"{step} -> {r.returncode}")
        time.sleep(5)


def run_device(c: Campaign, profile: DeviceProfile, suites: list[Suite], sequence: Path, journal: Journal,
               t_end: float | None, log) -> str:
    """All repetitions of one device; returns its final state. Never raises."""
    from harness.remote.deploy import DeployPlan, deploy

    dev = profile.name
    spec = c.spec
    state = journal.device(dev)
    if state["state"] in ("done", "quarantined"):
        return state["state"]
    failures = state["failures"]
    journal.set_device(dev, "running")
    jobs = [(suite, rep) for rep in range(spec.repetitions) for suite in suites]
    for suite, rep in jobs:
        tag = f"-{suite.name}" if len(suites) > 1 else ""
        run_id = f"{spec.name}-{dev}{tag}-r{rep + 1}"
        if journal.run_state(run_id) == "done":
            continue
        for attempt in range(spec.max_attempts):
            if c.stop_flag.exists():
                journal.set_device(dev, "stopped", "campaign stopped")
                return "stopped"
            if t_end is not None and time.time() > t_end:
                journal.set_device(dev, "budget", "time budget exhausted")
                return "budget"
            resume = journal.run_state(run_id) is not None
            journal.set_run(run_id, dev, rep + 1, "running")
            plan = DeployPlan(profile, ordered_suite(suite, spec.order, rep, spec.seed, dev), sequence, run_id,
                              c.root / "runs", poll_s=spec.poll_s, reconnect_budget_s=spec.reconnect_budget_s)
            try:
                store = deploy(plan, lambda e, d: (log(dev, e, d), journal.event(dev, e, _short(d))), resume=resume)
            except Exception as e:  # noqa: BLE001 - any failure of one board is that board's, never the campaign's
                why = e.message if isinstance(e, HarnessError) else f"{type(e).__name__}: {e}"
                failures += 1
                journal.set_device(dev, "retrying", why, failures)
                journal.event(dev, "failed", why)
                log(dev, "failed", {"error": why, "failures": failures})
                if failures >= spec.quarantine_after:
                    journal.set_device(dev, "quarantined", why, failures)
                    journal.set_run(run_id, dev, rep + 1, "abandoned")
                    log(dev, "quarantined", {"reason": why})
                    return "quarantined"
                _power_cycle(profile, journal)
                time.sleep(spec.retry_backoff_s)
                continue
            failures = 0
            journal.add_cells(run_id, dev, store.read_records())
            journal.set_run(run_id, dev, rep + 1, "done")
            journal.set_device(dev, "running", None, 0)
            break
        else:
            journal.set_device(dev, "quarantined", f"{spec.max_attempts} attempts failed", failures)
            return "quarantined"
    journal.set_device(dev, "done")
    return "done"


def _abs(ref: str, base: Path) -> str:
    """A relative YAML path made absolute against ``base``; names (profiles, suites) stay names."""
    return str((base / ref).resolve()) if ref.endswith((".yaml", ".yml")) and not Path(ref).is_absolute() else ref


def _absolute(spec: CampaignSpec, base: Path) -> CampaignSpec:
    d = spec.model_dump(exclude_unset=True)
    d["devices"] = [_abs(x, base) for x in spec.devices]
    d["suite"] = _abs(spec.suite, base)
    d["suites"] = [_abs(x, base) for x in spec.suites]
    if spec.sequence and not Path(spec.sequence).is_absolute():
        d["sequence"] = str((base / spec.sequence).resolve())
    if spec.inventory and not Path(spec.inventory.path).is_absolute():
        d["inventory"]["path"] = str((base / spec.inventory.path).resolve())
    return CampaignSpec.model_validate(d)


def _short(d: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in d.items() if k != "checks")[:300]


def run_campaign(c: Campaign, log=None) -> dict[str, str]:
    """Run (or resume) every device; returns device -> outcome. One device's failure never stops the others."""
    from harness.cli.run import _apply_overrides, _demo_sequence

    c.root.mkdir(parents=True, exist_ok=True)
    # the saved copy has absolute paths, so `campaign resume DIR` works from anywhere
    (c.root / "campaign.yaml").write_text(yaml.safe_dump(_absolute(c.spec, c.base).model_dump(exclude_unset=True)))
    (c.root / "logs").mkdir(exist_ok=True)
    c.stop_flag.unlink(missing_ok=True)
    journal = Journal(c.journal_path)
    suites = [_apply_overrides(load_suite(_abs(ref, c.base)), c.spec.frames, c.spec.imgsz, None)
              for ref in (c.spec.suites or [c.spec.suite])]
    sequence = Path(c.spec.sequence) if c.spec.sequence else _demo_sequence(max(s.frames for s in suites))
    profiles = c.profiles()
    if c.spec.cooldown:
        given = c.spec.cooldown.model_dump(exclude_unset=True)
        profiles = [p.model_copy(update={"cooldown": Cooldown.model_validate({**p.cooldown.model_dump(), **given})})
                    for p in profiles]
    t_end = time.time() + c.spec.time_budget_s if c.spec.time_budget_s else None
    lock = threading.Lock()

    def logger(dev: str, event: str, data: dict) -> None:
        line = f"{time.strftime('%H:%M:%S')} {event} {_short(data)}"
        with lock, open(c.root / "logs" / f"{dev}.log", "a") as f:
            f.write(line + "\n")
        if log:
            log(dev, event, data)

    for p in profiles:
        if journal.device(p.name)["state"] == "pending":
            journal.set_device(p.name, "pending")
    with ThreadPoolExecutor(max_workers=min(c.spec.workers, len(profiles))) as pool:
        futures = {p.name: pool.submit(run_device, c, p, suites, sequence, journal, t_end, logger) for p in profiles}
        outcomes = {}
        for name, fut in futures.items():
            try:
                outcomes[name] = fut.result()
            except Exception as e:  # noqa: BLE001 - a device must never take the campaign down
                journal.set_device(name, "quarantined", f"{type(e).__name__}: {e}")
                outcomes[name] = "quarantined"
    return outcomes


def run_dirs(c: Campaign) -> list[Path]:
    journal = Journal(c.journal_path)
    return [c.root / "runs" / rid for (rid,) in journal.exec("select run_id from runs where state='done' order by run_id")]

