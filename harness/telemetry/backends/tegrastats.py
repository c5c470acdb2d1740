"""tegrastats: parsing its text (JetPack 4-7) and a sampler that runs it.

Rails are ``NAME cur/avg`` (JetPack 4, no unit), ``NAME curmW/avgmW`` (5/6) or
three values per rail (7); the first value is the current one and is the one
used. Temperatures are ``name@XC`` (7: two values, the first is current);
offline sensors (-256C) are dropped. Lines without ``EMC_FREQ`` or ``@freq``
(tegrastats run without root), ``off`` CPUs, ``@[f,f]`` GPU clusters and Thor's ``GR3D_FREQ @[f,f,f]``
(a clock per GPC, no utilisation) parse.
Total and scope: ``telemetry.rails`` (the input rail -- ``VDD_IN`` / ``POM_5V_IN`` / ``VIN`` -- never plus its
sub-rails, else the sum of the named rails, and the scope names them). ``tests/boards`` holds real lines from many
boards and JetPacks with their expected parse, written by hand.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time

from harness import devtext
from harness.errors import TelemetryError
from harness.telemetry.sampler import SamplerBase
from harness.telemetry.rails import total_of
from harness.telemetry.trace import Availability, Sample, Trace
from harness.telemetry.zones import clean_temps

# Every quantifier is bounded (names 64, numbers 9 digits) and every pattern starts at a word start or a keyword,
# so each is tried at most a few dozen characters from each position: linear in the line, whatever the device wrote.
_NUM = r"-?\d{1,6}(?:\.\d{1,6})?"
RAIL_RE = re.compile(r"(?<![\w@])([A-Z][A-Z0-9_]{0,63}) (\d{1,9})(?:mW)?/(\d{1,9})(?:mW)?(?:/(\d{1,9})(?:mW)?)?(?=\s|$)")
TEMP_RE = re.compile(rf"(?<![\w%])([A-Za-z]\w{{0,63}})@({_NUM})(?:C/{_NUM}C|/{_NUM}C|C)(?=\s|$)")
GR3D_RE = re.compile(r"GR3D_FREQ (?:(\d{1,3})%)?(?:@\[?([\d,]{1,64})\]?)?")  # Thor, a TX2 without its driver: no %
EMC_RE = re.compile(r"EMC_FREQ (\d{1,3})%(?:@(\d{1,9}))?")
CPU_CORE_RE = re.compile(r"\d{1,3}%@(\d{1,9})")
MAX_CPU_LIST_CHARS = 4096  # "CPU [...]" of a 256-core board is ~3 KiB
NOT_RAILS = {"RAM", "SWAP", "IRAM", "LFB"}


def _cpu_list(line: str) -> str | None:
    """What ``CPU [`` ... ``]`` holds (the first such list), by ``str.find``: the regex ``CPU \\[([^\\]]*)\\]``
    rescanned the rest of the line from every ``CPU [`` (quadratic on repeated fragments)."""
    start = line.find("CPU [")
    if start < 0:
        return None
    end = line.find("]", start + 5, start + 5 + MAX_CPU_LIST_CHARS + 1)
    return line[start + 5:end] if end >= 0 else None


def parse_line(line: str) -> dict | None:
    """One tegrastats line -> {total_mw, scope, rails_mw, temps_c, clocks_mhz, gpu_util_pct}; None if no data
    (or longer than ``devtext.MAX_LINE_CHARS``: no tegrastats line is)."""
    if len(line) > devtext.MAX_LINE_CHARS:
        return None
    rails = {m.group(1): float(m.group(2)) for m in RAIL_RE.finditer(line)
             if m.group(1) not in NOT_RAILS and m.group(1) != "NC"}
    temps = clean_temps({m.group(1): float(m.group(2)) for m in TEMP_RE.finditer(line)})
    clocks: dict[str, float] = {}
    gpu_util = None
    if (m := GR3D_RE.search(line)) and (m.group(1) or m.group(2)):
        gpu_util = float(m.group(1)) if m.group(1) else None
        if freqs := [float(f) for f in (m.group(2) or "").split(",") if f]:
            clocks["gpu"] = max(freqs)
    if (m := EMC_RE.search(line)) and m.group(2):
        clocks["emc"] = float(m.group(2))
    if cores := _cpu_list(line):
        freqs = [float(m.group(1)) for c in cores.split(",") if (m := CPU_CORE_RE.fullmatch(c.strip()))]
        if freqs:
            clocks["cpu_max"] = max(freqs)
    if not rails and not temps and gpu_util is None:
        return None
    total, scope = total_of(rails)
    return {"total_mw": total, "scope": scope, "rails_mw": rails, "temps_c": temps,
            "clocks_mhz": clocks, "gpu_util_pct": gpu_util}


def parse_text(text: str) -> list[dict]:
    """Every line of a saved tegrastats log that carries data (lines past ``devtext.MAX_LINE_CHARS`` skipped)."""
    return [p for p in (parse_line(ln) for ln in devtext.lines(text) if ln and not ln.isspace()) if p is not None]


class TegrastatsSampler(SamplerBase):
    """Runs ``tegrastats --interval N`` and timestamps each line as it arrives."""

    name = "tegrastats"

    def __init__(self, interval_ms: int = 100, exe: str | None = None) -> None:
        super().__init__()
        self.interval_ms = max(10, interval_ms)
        self.exe = exe
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    def _probe(self) -> Availability:
        self.exe = self.exe or shutil.which("tegrastats")
        if not self.exe:
            return Availability(False, "tegrastats not on PATH (not a Jetson, or not mounted in the container)")
        return Availability(True, self.exe)

    def start(self) -> None:
        if not self.available().ok:
            raise TelemetryError(f"tegrastats: {self.available().reason}", "pick another backend")
        self._trace = Trace(self.name, None, interval_s=self.interval_ms / 1000)
        try:
            self._proc = subprocess.Popen([self.exe, "--interval", str(self.interval_ms)], stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True, bufsize=1)
        except OSError as e:
            raise TelemetryError(f"tegrastats: cannot start {self.exe} ({e})", "check the binary and permissions") from e
        self._thread = threading.Thread(target=self._read, name="telemetry-tegrastats", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in devtext.stream_lines(self._proc.stdout):  # a line without end is dropped, never held whole
            t = time.perf_counter()
            p = parse_line(line)
            if p is None:
                continue
            self.scope = self.scope or p["scope"]
            self._trace.samples.append(Sample(t, p["total_mw"], p["rails_mw"], p["temps_c"], p["clocks_mhz"]))

    def stop(self) -> Trace:
        if self._proc is None or self._trace is None:
            raise TelemetryError("tegrastats: stop() before start()", "call start() first")
        self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._thread.join(timeout=5)
        self._proc = None
        self._trace.scope = self.scope
        return self._trace
