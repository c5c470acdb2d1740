"""Campaign wall time over N loopback sshd devices vs one device, same tiny suite (the parallel speed-up).

Every "device" is this machine behind its own OpenSSH server, so the devices
share these CPU cores: the ratio shows the orchestration's parallelism, capped
by the host's cores, not what N real boards would give.

    .venv/bin/python benchmarks/bench_campaign.py [--devices 8] [--frames 4] [--imgsz 64]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=8)
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--imgsz", type=int, default=64)
    args = ap.parse_args()
    from harness.mot.synth import synthesize
    from harness.campaign.fleet import Campaign
    from harness.campaign.scheduler import run_campaign
    from harness.config.campaign import load_campaign
    from harness.testing.infra.sshd import make_device

    tmp = Path(tempfile.mkdtemp())
    cache = os.environ.get("HARNESS_CACHE_DIR", str(tmp / "cache"))
    os.environ.update(HARNESS_OFFLINE="1", HARNESS_CACHE_DIR=cache)
    seq = synthesize(tmp / "seq", n_frames=max(24, args.frames), size=(320, 192), seed=3)
    (tmp / "suite.yaml").write_text(yaml.safe_dump({"name": "tiny", "frames": args.frames, "warmup": 1, "imgsz": args.imgsz,
                                                    "experiments": [{"name": "b", "models": ["yolov8n"]}]}))
    devs = []
    try:
        for i in range(args.devices):
            d = make_device(tmp / f"dev{i}")
            d.start(env={"HARNESS_OFFLINE": "1", "HARNESS_CACHE_DIR": cache})
            devs.append(d)
            (tmp / f"dev{i}.yaml").write_text(yaml.safe_dump({
                "name": f"dev{i}", "kind": "local", "runtime": "host", "compute": "cpu",
                "connection": {"host": "127.0.0.1", "user": "root", "port": d.port, "key_file": str(d.client_key),
                               "known_hosts": str(d.known_hosts), "connect_timeout_s": 5},
                "host_runtime": {"python": sys.executable, "venv": False, "workdir": str(tmp / f"wd{i}")}}))

        def campaign(n: int, name: str) -> float:
            f = tmp / f"{name}.yaml"
            f.write_text(yaml.safe_dump({"name": name, "devices": [f"dev{i}.yaml" for i in range(n)], "suite": "suite.yaml",
                                         "sequence": str(seq), "workers": n, "poll_s": 0.5}))
            t0 = time.perf_counter()
            out = run_campaign(Campaign(load_campaign(f), tmp / "results" / name, tmp))
            took = time.perf_counter() - t0
            assert all(getattr(o, "state", None) == "done" for o in out.values()), out
            return took

        campaign(1, "warm")
        t1 = campaign(1, "one")
        tn = campaign(args.devices, "many")
    finally:
        for d in devs:
            d.kill_all()
    print(f"tiny suite (1 cell, {args.frames} frames, imgsz {args.imgsz}); devices share this host's {os.cpu_count()} cores")
    print(f"  1 device            {t1:6.1f} s")
    print(f"  {args.devices} devices in parallel {tn:6.1f} s   ({args.devices} x the work in {tn / t1:.2f} x the time; "
          f"speed-up {args.devices * t1 / tn:.2f} x over running them one after another)")


if __name__ == "__main__":
    main()
