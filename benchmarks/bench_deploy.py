"""Wall time of `harness deploy` of a suite to a loopback "device" (real sshd) vs `harness run` locally.

Both use the same suite, frames and sequence; the device is this machine behind
OpenSSH on 127.0.0.1 (runtime: host), so the difference is the deploy's own
cost: connect, preflight, lock, ship (first deploy only: the sequence), start,
polling and pulling. Also measures how long a killed sshd takes to be noticed
and recovered from.

    .venv/bin/python benchmarks/bench_deploy.py [--suite quick] [--frames 12] [--imgsz 320]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="quick")
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--imgsz", type=int, default=320)
    args = ap.parse_args()
    from harness.mot.synth import synthesize
    from harness.testing.infra.sshd import make_device

    harness = str(Path(sys.executable).parent / "harness")
    tmp = Path(tempfile.mkdtemp())
    seq = synthesize(tmp / "seq", n_frames=max(60, args.frames), size=(1280, 720), seed=0)
    cache = os.environ.get("HARNESS_CACHE_DIR", str(tmp / "cache"))
    env = {**os.environ, "HARNESS_OFFLINE": "1", "HARNESS_CACHE_DIR": cache}
    dev = make_device(tmp / "dev")
    dev.start(env={"HARNESS_OFFLINE": "1", "HARNESS_CACHE_DIR": cache})
    (tmp / "board" / "etc").mkdir(parents=True)
    prof = {"name": "loop", "kind": "local", "runtime": "host", "compute": "cpu",
            "connection": {"host": "127.0.0.1", "user": "root", "port": dev.port, "key_file": str(dev.client_key),
                           "known_hosts": str(dev.known_hosts), "connect_timeout_s": 5},
            "probe_root": str(tmp / "board"), "host_runtime": {"python": sys.executable, "venv": False, "workdir": str(tmp / "wd")}}
    (tmp / "p.yaml").write_text(yaml.safe_dump(prof))
    common = ["--suite", args.suite, "--sequence", str(seq), "--frames", str(args.frames), "--imgsz", str(args.imgsz)]

    def timed(cmd):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0

    try:
        timed([harness, "run", *common, "--out", str(tmp / "warm"), "--run-id", "warm"])  # builds caches for both
        t_local = timed([harness, "run", *common, "--out", str(tmp / "local"), "--run-id", "local"])
        t_first = timed([harness, "deploy", "--profile", str(tmp / "p.yaml"), *common, "--out", str(tmp / "dep"),
                         "--run-id", "d1", "--poll-s", "0.5"])
        t_again = timed([harness, "deploy", "--profile", str(tmp / "p.yaml"), *common, "--out", str(tmp / "dep"),
                         "--run-id", "d2", "--poll-s", "0.5"])
        dev.flap(after_s=2.0, down_s=3.0)  # recovery: kill sshd 2 s into the next deploy, restart it 3 s later
        t_chaos = timed([harness, "deploy", "--profile", str(tmp / "p.yaml"), *common, "--out", str(tmp / "dep"),
                         "--run-id", "d3", "--poll-s", "0.5"])
    finally:
        dev.kill_all()
    print(f"suite {args.suite}, {args.frames} frames, imgsz {args.imgsz}; device = this machine over loopback SSH")
    print(f"  harness run (local)          {t_local:6.1f} s")
    print(f"  harness deploy (first)       {t_first:6.1f} s   ratio {t_first / t_local:.2f}  (ships the sequence)")
    print(f"  harness deploy (again)       {t_again:6.1f} s   ratio {t_again / t_local:.2f}  (sequence already there)")
    print(f"  deploy with sshd killed 3 s  {t_chaos:6.1f} s   (+{t_chaos - t_again:.1f} s vs an undisturbed deploy)")


if __name__ == "__main__":
    main()
