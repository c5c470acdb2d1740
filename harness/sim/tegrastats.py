"""``tegrastats`` on the simulated board: JetPack 6's line format from the fake sysfs tree (``HARNESS_SYSFS_ROOT``).

``tegrastats [--interval MS] [--logfile FILE]`` prints one line per interval until it is stopped, e.g.
``RAM 2048/7620MB (lfb 4x4MB) SWAP 0/3810MB (cached 0MB) CPU [12%@1510,...] EMC_FREQ 0% GR3D_FREQ 0%
cpu@48.5C ... VDD_IN 6000mW/6000mW VDD_CPU_GPU_CV 2000mW/2000mW``: current/average power per rail in mW (the
average over the lines printed so far), temperatures per thermal zone (``-thermal`` dropped, offline zones left
out), CPU clocks per online core. ``harness.telemetry.backends.tegrastats`` parses it as it parses a board's.
"""

from __future__ import annotations

import argparse
import sys
import time

from harness.telemetry.backends.sysfs import ThermalZones, read_float, under_root
from harness.telemetry.backends.sysfs_ina3221 import discover_rails


def _cpus() -> str:
    cores = []
    cpu = under_root("/sys/devices/system/cpu")
    for d in sorted(cpu.glob("cpu[0-9]*"), key=lambda p: int(p.name[3:])):
        try:
            cores.append(f"0%@{round(read_float(d / 'cpufreq/scaling_cur_freq') / 1000)}")
        except (OSError, ValueError):
            cores.append("off")
    return ",".join(cores)


def _gpu() -> str:
    """``0%@[MHz]`` from the GPU's devfreq node (``0%`` where there is none)."""
    for cur in sorted(under_root("/sys/class/devfreq").glob("*/cur_freq")):
        try:
            return f"0%@[{round(read_float(cur) / 1e6)}]"
        except (OSError, ValueError):
            continue
    return "0%"


def line(rails: dict, zones: ThermalZones, sums: dict[str, float], n: int) -> str:
    """One tegrastats line; ``sums`` accumulates each rail's mW over the ``n`` lines so far (this one included)."""
    power = []
    for name, (files, mw_per_unit) in rails.items():
        value = mw_per_unit
        for f in files:
            value *= read_float(f)
        sums[name] = sums.get(name, 0.0) + value
        power.append(f"{name} {round(value)}mW/{round(sums[name] / n)}mW")
    temps = [f"{name.removesuffix('-thermal')}@{c:g}C" for name, c in zones.read().items()]
    return " ".join(["RAM 2048/7620MB (lfb 4x4MB) SWAP 0/3810MB (cached 0MB)", f"CPU [{_cpus()}]",
                     f"EMC_FREQ 0% GR3D_FREQ {_gpu()}", *temps, *power])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tegrastats", description="Simulated board's tegrastats (edge-harness sim).")
    ap.add_argument("--interval", type=int, default=1000, help="milliseconds between lines")
    ap.add_argument("--logfile", help="append the lines to this file instead of stdout")
    args = ap.parse_args(argv)
    rails, zones, sums = discover_rails(), ThermalZones(), {}
    out = open(args.logfile, "a") if args.logfile else sys.stdout
    n = 0
    try:
        while True:
            n += 1
            out.write(line(rails, zones, sums, n) + "\n")
            out.flush()
            time.sleep(max(10, args.interval) / 1000)
    except (KeyboardInterrupt, BrokenPipeError):
        return 0


if __name__ == "__main__":
    sys.exit(main())
