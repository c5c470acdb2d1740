"""Bringing a device's run home: its progress and every new finished record (+ its files), through the intake.

The local manifest is the host's own plan (suite, profile, cells) with the states the device
reports for those cells; records are appended in one write per pull (linear in the records).
"""

from __future__ import annotations

from harness.remote.intake import RemoteRunDir
from harness.remote.session import DeployPlan
from harness.config.suite import cell_key
from harness.results.record import SCHEMA_VERSION, record_key
from harness.results.store import RunStore


def pull_run(conn, plan: DeployPlan, remote_run_dir: str, store: RunStore) -> dict:
    """Pull what is new; returns the local manifest ({} while the device has none yet)."""
    remote = RemoteRunDir(conn, remote_run_dir, plan.profile.limits, store.root)
    device_manifest = remote.manifest(plan.run_id)
    if device_manifest is None:
        return {}
    cells = plan.suite.cells()
    have = {record_key(r): r for r in store.read_records()}
    remote.spend(sum(_local_bytes(store, r) for r in have.values()))
    new = []
    for rec in remote.records(plan.run_id, {c.cell_id for c in cells}):
        if have.get(record_key(rec)) == rec:
            continue
        for rel in (rec.get("files") or {}).values():  # validated: a dict of run-relative paths
            remote.fetch(rel)
        new.append(rec)
    store.put_records(new)
    manifest = local_manifest(plan, device_manifest, conn.where, remote_run_dir)
    store.write_manifest(manifest)
    return manifest


def _local_bytes(store: RunStore, rec: dict) -> int:
    total = 0
    for rel in (rec.get("files") or {}).values():
        try:
            total += (store.root / rel).stat().st_size
        except OSError:
            pass
    return total


def local_manifest(plan: DeployPlan, device: dict, where: str, remote_run_dir: str) -> dict:
    """The host's manifest of a deployed run: its plan, with the device's environment and cell states."""
    states = {cell_key(c["cell_id"], c.get("repeat", 1)): c["state"] for c in device["cells"]}
    prof = plan.profile.model_dump()
    prof.pop("connection")
    return {
        "schema_version": SCHEMA_VERSION, "run_id": plan.run_id, "state": device["state"],
        "created_at": device.get("created_at"), "finished_at": device.get("finished_at"),
        "suite": plan.suite.model_dump(), "profile": prof,
        "sequence": plan.host_sequence,  # the host's own copy: a device never names host paths
        "device_sequence": plan.device_sequence,
        "environment": device.get("environment") or {}, "telemetry": device.get("telemetry"),
        "cells": [{**c.as_dict(), "state": states.get(c.key, "pending")} for c in plan.suite.instances()],
        "pulled_from": {"device": where, "remote_run_dir": remote_run_dir},
        "mode_control": "host" if plan.suite.power_modes else None,
        "wanted_mode": device.get("wanted_mode"),  # validated (a mode name); the host checks it is one it sweeps
    }
