"""Pulling a device's records into the host: one write per pull vs one rewrite per record (the old way).

A loopback sshd "device" holds a finished run of N records, each with its frames
file. ``Deployment.pull`` fetches everything through the validating intake and
writes records.jsonl and summary.csv once; the old pull stored each record with
``RunStore.put_record``, which rewrites both files every time (quadratic). Both
are timed in this run for N = 300 / 1000 / 3000; the ratios are what to read
(this machine is shared, absolute times drift). The old way is replayed with
today's ``put_record``, which also validates every record it reads back, and
without its file transfers: the shape (quadratic), not its exact cost.

    .venv/bin/python benchmarks/bench_pull.py [--sizes 300 1000 3000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 3000])
    args = ap.parse_args()
    from harness.config.profiles import DeviceProfile
    from harness.remote.deploy import Deployment, DeployPlan
    from harness.results.store import RunStore
    from harness.config.suite import Cell, Suite
    from harness.testing.fakes.runs import record
    from harness.testing.infra.sshd import make_device

    tmp = Path(tempfile.mkdtemp())
    dev = make_device(tmp / "dev")
    dev.start()
    rows = []
    try:
        for n in args.sizes:
            models = [f"m{i:05d}" for i in range(n)]
            suite = Suite.model_validate({"name": "many", "frames": 6, "warmup": 2,
                                          "experiments": [{"name": "baseline", "models": models}]})
            cells = [Cell("baseline", m, "pytorch", "fp32") for m in models]
            work = tmp / f"n{n}"
            remote = work / "device" / "runs" / "r"
            (remote / "frames").mkdir(parents=True)
            recs = []
            for c in cells:
                (remote / "frames" / f"{c.cell_id}.csv").write_text("pre_ms,infer_ms,post_ms,total_ms\n1,2,3,6\n")
                rec = record("r", "loop", c, p50=10.0, f1=0.5)
                rec["files"] = {"frames": f"frames/{c.cell_id}.csv"}
                recs.append(rec)
            (remote / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
            (remote / "manifest.json").write_text(json.dumps({
                "schema_version": 1, "run_id": "r", "state": "complete", "suite": suite.model_dump(), "profile": {},
                "cells": [{**c.as_dict(), "state": "ok"} for c in cells]}))
            prof = DeviceProfile.model_validate({
                "name": "loop", "kind": "jetson", "connection": {"host": "127.0.0.1", "port": dev.port,
                                                                  "key_file": str(dev.client_key),
                                                                  "known_hosts": str(dev.known_hosts)},
                "host_runtime": {"workdir": str(work / "device")}})
            d = Deployment.attach(DeployPlan(prof, suite, work / "seq", "r", work / "host"), str(work / "device"))
            t0 = time.perf_counter()
            d.pull()
            new_s = time.perf_counter() - t0
            d.conn.close()
            old = RunStore(work / "old")
            old.root.mkdir()
            t0 = time.perf_counter()
            for r in recs:  # the records only: the old way's file transfers would come on top
                old.put_record(r)
            old_s = time.perf_counter() - t0
            rows.append((n, new_s, old_s))
            print(f"{n:5d} records: pull with files {new_s:6.2f} s   old per-record store alone {old_s:7.2f} s   "
                  f"old/new x{old_s / new_s:5.1f}", flush=True)
    finally:
        dev.kill_all()
    (n0, a0, b0), (n1, a1, b1) = rows[0], rows[-1]
    print(f"\n{n1 / n0:.0f}x the records: the pull took x{a1 / a0:.1f} (linear: x{n1 / n0:.0f}), "
          f"the old store x{b1 / b0:.1f} (quadratic: x{(n1 / n0) ** 2:.0f})")


if __name__ == "__main__":
    main()
