"""Jetson power modes by name: the board's modes (``/etc/nvpmodel.conf``), the active one (``nvpmodel -q``),
switching (``nvpmodel -m ID``, a reboot where nvpmodel asks for one) and the clocks a mode should give.

One ``ModeControl`` serves both sides through one ``subproc.Shell``: the runner on a board runs the commands
itself (``LocalShell``), the host runs them over SSH (a ``DeviceConnection``). Users write names (``15W``, ``MAXN_SUPER``);
ids differ per board and are looked up in the board's own file, never taken from a suite. What a board
prints is parsed defensively: bounded, numbers checked, a name must be one the file defines; the conf is
read only when it is a regular file, and never by a read that can block. The module is long because the
conf's parser, the clocks a mode promises and the control that switches serve one concept on both sides.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from harness import devtext
from harness.errors import BenchmarkError
from harness.paths import sysfs_root
from harness.subproc import LocalShell, Shell

NVPMODEL_CONF = "/etc/nvpmodel.conf"
MAX_CONF_BYTES = 1 << 20  # 1 MiB: L4T's nvpmodel.conf files are 10-60 KiB
CONF_READ_TIMEOUT_S = 10  # the device-side read of the conf gives up after this (a FIFO swapped in mid-read)
MAX_QUERY_CHARS = 64 << 10  # 64 KiB of `nvpmodel -q` looked at (it prints two short lines)
# The conf read on the board (or here) never blocks: a FIFO or directory is refused (exit 4) before it is opened,
# at most $2 bytes are read, under `timeout` where the board has it.
_READ_CONF = ('[ -e "$1" ] || { echo "no such file" >&2; exit 3; }; [ -f "$1" ] || exit 4; command -v timeout '
              '>/dev/null 2>&1 && exec timeout "$3" head -c "$2" -- "$1"; exec head -c "$2" -- "$1"')
CONF_FIX = ("restore the board's nvpmodel.conf (on L4T a symlink to a regular file under /etc/nvpmodel/), "
            "or drop power_modes for this device")
_MODEL = re.compile(r"<\s*POWER_MODEL\s+ID=(\d{1,3})\s+NAME=([A-Za-z0-9][A-Za-z0-9_.+-]{0,63})\s*>")
_DEFAULT = re.compile(r"<\s*PM_CONFIG\s+DEFAULT=(\d{1,3})\s*>")
_REBOOT = re.compile(r"reboot", re.IGNORECASE)


@dataclass(frozen=True)
class ModeLimits:
    """What a mode sets, from its block in nvpmodel.conf: online cores, CPU and GPU frequency caps."""

    cpu_online: int | None = None  # cores the mode keeps online (CPU_ONLINE CORE_n 1)
    cpu_max_khz: int | None = None  # the highest CPU cluster MAX_FREQ (kHz); None: unlimited / not set
    gpu_max_hz: int | None = None  # GPU MAX_FREQ (Hz); None: unlimited / not set

    def as_dict(self) -> dict:
        return {"cpu_online": self.cpu_online, "cpu_max_khz": self.cpu_max_khz, "gpu_max_hz": self.gpu_max_hz}


@dataclass(frozen=True)
class BoardModes:
    """A board's power modes: name -> id (file order), each mode's limits, the default id."""

    ids: dict[str, int]
    limits: dict[str, ModeLimits] = field(default_factory=dict)
    default_id: int | None = None

    def id_of(self, name: str, where: str = "this board") -> int:
        if name not in self.ids:
            raise BenchmarkError(f"{where}: power mode {name!r} is not defined in {NVPMODEL_CONF} "
                                 f"(this board has: {', '.join(self.ids) or 'none'})",
                                 "use one of those names in the suite's power_modes (or the profile's power_mode.nvpmodel)")
        return self.ids[name]

    def name_of(self, mode_id: int) -> str | None:
        return next((n for n, i in self.ids.items() if i == mode_id), None)


def parse_nvpmodel_conf(text: str) -> BoardModes:
    """The modes of an nvpmodel.conf: ``< POWER_MODEL ID=n NAME=x >`` blocks with their CPU_ONLINE / MAX_FREQ lines."""
    ids: dict[str, int] = {}
    limits: dict[str, ModeLimits] = {}
    default = None
    current: str | None = None
    acc: dict = {}

    def close() -> None:
        if current is not None:
            # cpu0 cannot be taken offline, so a mode may leave out its CORE_0 line (TX2's modes do): counted online
            online = acc["online"] + (not acc.get("core0_seen")) if acc.get("seen_online") else None
            limits[current] = ModeLimits(online, acc.get("cpu"), acc.get("gpu"))

    for raw in devtext.lines(text)[:20000]:  # a line past devtext.MAX_LINE_CHARS is no conf line
        line = raw.strip()
        if m := _MODEL.match(line):
            close()
            current, acc = m.group(2), {"online": 0}
            ids.setdefault(current, int(m.group(1)))
            continue
        if m := _DEFAULT.match(line):
            close()
            current, default = None, int(m.group(1))
            continue
        if line.startswith("<"):
            close()
            current = None
            continue
        if current is None or not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) == 3 and parts[0] == "CPU_ONLINE":
            acc["seen_online"] = True
            acc["online"] += parts[2] == "1"
            acc["core0_seen"] = acc.get("core0_seen") or parts[1] == "CORE_0"
        elif len(parts) == 3 and parts[1] == "MAX_FREQ" and re.fullmatch(r"-?\d{1,12}", parts[2]):
            value = int(parts[2])
            if value <= 0:
                continue  # -1 / 0: no cap
            if parts[0].startswith("CPU"):
                acc["cpu"] = max(acc.get("cpu") or 0, value)
            elif parts[0] == "GPU":
                acc["gpu"] = value
    close()
    return BoardModes(ids, limits, default)


def parse_nvpmodel_query(text: str | None) -> tuple[str | None, int | None]:
    """(name, id) from ``nvpmodel -q``: ``NV Power Mode: 15W`` then the id on its own line (``--verbose`` prefixes
    the line: ``NVPM VERB: Current mode: NV Power Mode: MAXP_CORE_ARM``)."""
    name, mode_id = None, None
    lines = (text or "")[:MAX_QUERY_CHARS].splitlines()[:50]
    for i, line in enumerate(lines):
        if (at := line.find("NV Power Mode:")) >= 0:
            name = line[at:].split(":", 1)[1].strip() or None
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            mode_id = int(nxt) if re.fullmatch(r"\d{1,3}", nxt) else None
            break
    if name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}", name):
        name = None  # not a mode name (a board's text is never trusted as one)
    return name, mode_id


# --- clocks (sysfs) ------------------------------------------------------------------------------

def _num(path: str) -> int | None:
    """A sysfs number: 64 bytes of a regular file at most (a FIFO is None, never a blocked read)."""
    text = (devtext.read_small_or_none(path, 64) or "").strip()
    return int(text) if re.fullmatch(r"\d{1,15}", text) else None


MAX_CPUS = 4096  # the kernel's largest NR_CPUS on arm64


def _online_count(text: str) -> int | None:
    """``0-3,5`` -> 5; None for anything else (a range backwards or past ``MAX_CPUS`` too)."""
    n = 0
    for part in text.strip().split(","):
        m = re.fullmatch(r"(\d{1,4})(?:-(\d{1,4}))?", part)
        if not m or int(m.group(2) or m.group(1)) < int(m.group(1)):
            return None
        n += int(m.group(2) or m.group(1)) - int(m.group(1)) + 1
    return n if n <= MAX_CPUS else None


GPU_DEVFREQ_NAMES = ("gpu", "gv11b", "ga10b", "gp10b")  # Orin, Xavier, Orin (older kernels), TX2


def is_gpu_devfreq(name: str) -> bool:
    """A devfreq device that is the Jetson's GPU (``17000000.gpu``, ``17000000.gv11b``, ...)."""
    return any(n in name for n in GPU_DEVFREQ_NAMES)


def read_clocks(root: Path | None = None) -> dict:
    """The clocks now: online cores, CPU cur/max (kHz, the highest core), GPU cur/max (Hz), EMC (Hz) where readable."""
    root = root or sysfs_root()
    out: dict = {"cpu_online": None, "cpu_cur_khz": None, "cpu_max_khz": None, "gpu_cur_hz": None, "gpu_max_hz": None,
                 "emc_hz": None}
    online = devtext.read_small_or_none(root / "sys/devices/system/cpu/online", 256)
    out["cpu_online"] = _online_count(online) if online is not None else None
    cpus = sorted(glob.glob(str(root / "sys/devices/system/cpu/cpu[0-9]*/cpufreq")))[:256]
    cur = [v for c in cpus if (v := _num(f"{c}/scaling_cur_freq")) is not None]
    top = [v for c in cpus if (v := _num(f"{c}/scaling_max_freq")) is not None]
    out["cpu_cur_khz"] = max(cur) if cur else None
    out["cpu_max_khz"] = max(top) if top else None
    gpus = sorted(d for d in glob.glob(str(root / "sys/class/devfreq/*")) if is_gpu_devfreq(os.path.basename(d)))
    if gpus:
        out["gpu_cur_hz"], out["gpu_max_hz"] = _num(f"{gpus[0]}/cur_freq"), _num(f"{gpus[0]}/max_freq")
    out["emc_hz"] = _num(str(root / "sys/kernel/debug/bpmp/debug/clk/emc/rate"))
    return out


def clocks_mismatch(limits: ModeLimits | None, clocks: dict) -> str | None:
    """Why the clocks read do not belong to the mode (None when they do, or nothing can be compared)."""
    if limits is None:
        return None
    problems = []
    if limits.cpu_online is not None and clocks.get("cpu_online") is not None and clocks["cpu_online"] != limits.cpu_online:
        problems.append(f"{clocks['cpu_online']} CPU cores online, the mode keeps {limits.cpu_online}")
    for key, unit, scale in (("gpu_max_hz", "MHz", 1e6), ("cpu_max_khz", "MHz", 1e3)):
        want, got = getattr(limits, key), clocks.get(key)
        if want and got and abs(got - want) > 0.02 * want:
            problems.append(f"{key.split('_')[0].upper()} max {got / scale:.0f} {unit}, the mode caps it at {want / scale:.0f} {unit}")
    return "; ".join(problems) or None


# --- control -------------------------------------------------------------------------------------

@dataclass
class Switch:
    """What ``nvpmodel -m`` did: switched, or left the mode pending a reboot (``needs_reboot``)."""

    mode: str
    mode_id: int
    needs_reboot: bool
    output: str


class ModeControl:
    """nvpmodel through a shell: ``modes()``, ``query()``, ``switch(name)``; as root directly, else ``sudo -n``."""

    def __init__(self, shell: Shell, where: str | None = None, conf_path: str = NVPMODEL_CONF,
                 as_root: bool | None = None) -> None:
        self.shell = shell
        self.where = where if where is not None else shell.where
        self.conf_path = conf_path
        self._root = as_root
        self._modes: BoardModes | None = None

    @classmethod
    def local(cls) -> ModeControl | None:
        """This machine's control, or None where there is no nvpmodel (not a Jetson, or inside a container)."""
        if shutil.which("nvpmodel") is None:
            return None
        conf = os.environ.get("FAKE_JETSON_ROOT", "") + NVPMODEL_CONF
        return cls(LocalShell(), conf_path=conf, as_root=os.geteuid() == 0)

    def _priv(self, argv: list[str]) -> list[str]:
        if self._root is None:
            r = self.shell.run(["id", "-u"])
            self._root = r.exit_code == 0 and r.stdout.strip() == "0"
        return argv if self._root else ["sudo", "-n", *argv]

    def available(self) -> bool:
        return self.shell.run(["sh", "-c", "command -v nvpmodel"]).exit_code == 0

    def modes(self) -> BoardModes:
        """The board's modes from its conf, read once: a regular file of at most ``MAX_CONF_BYTES``, else a
        one-line BenchmarkError naming the file (a FIFO or directory is refused before anything reads it)."""
        if self._modes is None:
            conf = self.conf_path
            r = self.shell.run(["sh", "-c", _READ_CONF, "sh", conf, str(MAX_CONF_BYTES + 1), str(CONF_READ_TIMEOUT_S)])
            refused = {4: "is not a regular file (a FIFO, device or directory); power modes are read only from one",
                       124: f"took longer than {CONF_READ_TIMEOUT_S} s to read"}.get(r.exit_code)
            if r.exit_code == 0 and len(r.stdout) > MAX_CONF_BYTES:
                refused = f"is over the {MAX_CONF_BYTES >> 20} MiB an nvpmodel.conf can be (L4T's are tens of KiB)"
            if refused:
                raise BenchmarkError(f"{self.where}: {conf} {refused}", CONF_FIX)
            if r.exit_code != 0:
                raise BenchmarkError(f"{self.where}: cannot read {conf} ({r.stderr.strip()[:200] or 'missing'})",
                                     "power-mode sweeps need a Jetson with nvpmodel; drop power_modes for this device")
            self._modes = parse_nvpmodel_conf(r.stdout)
            if not self._modes.ids:
                raise BenchmarkError(f"{self.where}: {self.conf_path} defines no POWER_MODEL", "check the board's L4T install")
        return self._modes

    def query(self) -> tuple[str | None, int | None]:
        r = self.shell.run(["nvpmodel", "-q"])
        if r.exit_code != 0:
            raise BenchmarkError(f"{self.where}: `nvpmodel -q` failed ({r.stderr.strip()[:200]})",
                                 "check that nvpmodel works on the device")
        return parse_nvpmodel_query(r.stdout)

    def switch(self, name: str, confirm_reboot: bool = False) -> Switch:
        """``nvpmodel -m ID`` for ``name``; with ``confirm_reboot`` answers YES to nvpmodel's reboot prompt."""
        mode_id = self.modes().id_of(name, self.where)
        r = self.shell.run(self._priv(["nvpmodel", "-m", str(mode_id)]), stdin="YES\n" if confirm_reboot else "")
        text = (r.stdout + r.stderr)[-4000:]
        needs_reboot = bool(_REBOOT.search(text))
        if r.exit_code != 0 and not needs_reboot:
            raise BenchmarkError(f"{self.where}: `nvpmodel -m {mode_id}` ({name}) failed: {text.strip()[-300:]}",
                                 "check the sudoers rule (`harness provision` installs it) and the mode")
        return Switch(name, mode_id, needs_reboot, text)

    def lock_clocks(self) -> None:
        """``jetson_clocks`` (clocks at the mode's maximum): a profile's ``jetson_clocks: true`` after each switch,
        since nvpmodel resets them."""
        r = self.shell.run(self._priv(["jetson_clocks"]))
        if r.exit_code != 0:
            raise BenchmarkError(f"{self.where}: `jetson_clocks` failed ({(r.stderr or r.stdout).strip()[-200:]})",
                                 "check the sudoers rule (`harness provision`), or set power_mode.jetson_clocks: false")

    def verify(self, name: str) -> int:
        """The id of the active mode when it is ``name``; BenchmarkError naming both when not."""
        active, mode_id = self.query()
        if active != name:
            raise BenchmarkError(f"{self.where}: the active power mode is {active or '?'}, expected {name}",
                                 "check `nvpmodel -q` on the device; another process may have changed it")
        return mode_id if mode_id is not None else self.modes().id_of(name, self.where)
