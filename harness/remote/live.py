"""The board as it is now, for a deploy's live line: watts, the hottest zone and the clocks, read over the SSH link.

One short ``tegrastats`` run per reading (every JetPack has it; it needs no jtop service and sees the whole board
whatever runtime the runner uses), parsed by the same linear-time parser as a saved log. What the board prints is
hostile input: lines are bounded, numbers outside physical ranges are dropped, and a board without tegrastats (or
one that answers garbage) gives no reading rather than an error -- the live line is a convenience, never a reason
for a deploy to fail. The record's power figures come from the runner's own telemetry, not from here.
"""

from __future__ import annotations

from harness.errors import HarnessError
from harness.telemetry.backends.tegrastats import parse_text

SAMPLE_MS = 500  # tegrastats' interval: two readings fit in about a second
MAX_OUTPUT_BYTES = 64 * 1024
RANGES = {"watts": (0.0, 2000.0), "temp_c": (-40.0, 150.0), "cpu_mhz": (1.0, 10_000.0), "gpu_mhz": (1.0, 10_000.0)}


def _bounded(name: str, value) -> float | None:
    lo, hi = RANGES[name]
    return float(value) if value is not None and lo <= value <= hi else None


def reading(text: str) -> dict | None:
    """The last tegrastats line of ``text`` with data, as {watts, temp_c, cpu_mhz, gpu_mhz} (None when there is
    none, or nothing in it is plausible)."""
    lines = parse_text(text)
    if not lines:
        return None
    p = lines[-1]
    temps = [t for t in p["temps_c"].values() if t is not None]
    now = {"watts": _bounded("watts", p["total_mw"] / 1000 if p["total_mw"] is not None else None),
           "temp_c": _bounded("temp_c", max(temps) if temps else None),
           "cpu_mhz": _bounded("cpu_mhz", p["clocks_mhz"].get("cpu_max")),
           "gpu_mhz": _bounded("gpu_mhz", p["clocks_mhz"].get("gpu"))}
    return now if any(v is not None for v in now.values()) else None


def read_board(conn) -> dict | None:
    """One reading over ``conn`` (about a second), or None when the board has no tegrastats or said nothing usable."""
    argv = ["timeout", "-s", "INT", f"{2.5 * SAMPLE_MS / 1000:g}", "tegrastats", "--interval", str(SAMPLE_MS)]
    try:
        result = conn.run(argv, timeout_s=5.0, max_output_bytes=MAX_OUTPUT_BYTES)
    except HarnessError:  # a flood, a hang: no reading (a lost link shows at the next poll's pull)
        return None
    return reading(result.stdout)


def board_text(now: dict) -> str:
    """``7.2 W  54 °C  CPU 1510 MHz  GPU 624 MHz``, with what the reading has."""
    parts = [f"{now['watts']:.1f} W" if now.get("watts") is not None else None,
             f"{now['temp_c']:.0f} °C" if now.get("temp_c") is not None else None,
             f"CPU {now['cpu_mhz']:.0f} MHz" if now.get("cpu_mhz") is not None else None,
             f"GPU {now['gpu_mhz']:.0f} MHz" if now.get("gpu_mhz") is not None else None]
    return "  ".join(p for p in parts if p)
