"""Preflight (``harness doctor``, and the first step of a deploy): what the device is, and is it what the profile says.

One remote command gathers every fact as ``key=value`` lines (one round trip).
A mismatch with the profile -- wrong board, an unknown or different L4T major
(a JetPack 6 image on an L4T r35 board), no container engine, no NVIDIA runtime
-- is a failed check with the reason; the harness never guesses.
"""

from __future__ import annotations

import re

from harness import devtext
from harness.image.versions import LABEL
from harness.errors import printable
from harness.environment import parse_l4t, parse_nvpmodel_query
from harness.powermodes import CONF_FIX, MAX_CPUS, NVPMODEL_CONF
from harness.config.profiles import DeviceProfile
from harness.measure.host import Thresholds, quiet_verdict, share_between
from harness.remote.checks import Check
from harness.remote.runtimes import runtime_for

MIN_FREE_DISK_GB = 2.0

# Nothing here may block: a fact file is read only when it is a regular file and at most FACT_FILE_BYTES of it
# (`rd`; a FIFO at /proc/device-tree/model would stall `cat` until the host gave up), and commands that can hang
# (nvpmodel on a conf that is a FIFO, docker on a stuck daemon) run under `timeout` where the board has it (`t`).
FACT_FILE_BYTES = 4096
FACT_COMMAND_TIMEOUT_S = 5
FACTS_SCRIPT = r"""
r=$HARNESS_PROBE_ROOT
rd() { [ -f "$1" ] && head -c FACT_FILE_BYTES -- "$1"; }
t() { if command -v timeout >/dev/null 2>&1; then timeout FACT_COMMAND_TIMEOUT_S "$@"; else "$@"; fi; }
conf="$r/etc/nvpmodel.conf"
if [ -f "$conf" ]; then conf_kind=regular; elif [ -e "$conf" ]; then conf_kind=other; else conf_kind=missing; fi
printf 'model=%s\n' "$(rd "$r/proc/device-tree/model" 2>/dev/null | tr -d '\000')"
printf 'l4t=%s\n' "$(rd "$r/etc/nv_tegra_release" 2>/dev/null | head -n1)"
printf 'boot_id=%s\n' "$(rd "$r/proc/sys/kernel/random/boot_id" 2>/dev/null || rd /proc/sys/kernel/random/boot_id 2>/dev/null)"
printf 'dla_cores=%s\n' "$(ls -d "$r"/sys/devices/platform/*.nvdla[0-9] "$r"/sys/devices/platform/*/*.nvdla[0-9] 2>/dev/null | sed 's/.*nvdla//' | sort -u | wc -l | tr -d ' ')"
printf 'disk_free_kb=%s\n' "$(t df -Pk "$HOME" 2>/dev/null | awk 'NR==2{print $4}')"
printf 'mem_total_kb=%s\n' "$(awk '/^MemTotal:/{print $2}' /proc/meminfo 2>/dev/null)"
printf 'swap_total_kb=%s\n' "$(awk '/^SwapTotal:/{print $2}' /proc/meminfo 2>/dev/null)"
printf 'docker=%s\n' "$(command -v docker 2>/dev/null)"
printf 'podman=%s\n' "$(command -v podman 2>/dev/null)"
printf 'docker_runtimes=%s\n' "$(t docker info --format '{{json .Runtimes}}' 2>/dev/null | tr -d '\n')"
printf 'nvidia_cdi=%s\n' "$(ls /etc/cdi/nvidia.yaml /var/run/cdi/nvidia.yaml 2>/dev/null | head -n1)"
printf 'python3=%s\n' "$(t python3 -c 'import sys; print(sys.version.split()[0])' 2>/dev/null)"
printf 'jtop_socket=%s\n' "$(test -S /run/jtop.sock && echo yes)"
printf 'nvpmodel_conf=%s\n' "$conf_kind"
if [ "$conf_kind" != other ]; then
  printf 'nvpmodel_query=%s\n' "$(t nvpmodel -q 2>/dev/null | grep -m1 '^NV Power Mode:')"
fi
printf 'jetson_clocks=%s\n' "$(command -v jetson_clocks 2>/dev/null)"
printf 'trtexec=%s\n' "$(command -v trtexec 2>/dev/null || ls /usr/src/tensorrt/bin/trtexec 2>/dev/null)"
printf 'arch=%s\n' "$(uname -m)"
printf 'jtop_version=%s\n' "$(t python3 -c 'import jtop; print(jtop.__version__)' 2>/dev/null)"
printf 'cpu_stat_a=%s\n' "$(head -n1 /proc/stat 2>/dev/null)"
sleep 1
printf 'cpu_stat_b=%s\n' "$(head -n1 /proc/stat 2>/dev/null)"
printf 'loadavg=%s\n' "$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)"
printf 'nproc=%s\n' "$(nproc 2>/dev/null)"
if [ -n "$HARNESS_ENGINE" ] && command -v "$HARNESS_ENGINE" >/dev/null 2>&1; then
  printf 'image_versions=%s\n' "$(t "$HARNESS_ENGINE" image inspect --format "$HARNESS_IMAGE_FORMAT" "$HARNESS_IMAGE" 2>/dev/null | tr -d '\n')"
fi
""".replace("FACT_FILE_BYTES", str(FACT_FILE_BYTES)).replace("FACT_COMMAND_TIMEOUT_S", str(FACT_COMMAND_TIMEOUT_S))


def facts_command(probe_root: str, engine: str = "", image: str = "") -> list[str]:
    """argv for the facts script; probe root, engine and image passed as quoted environment values."""
    return ["env", f"HARNESS_PROBE_ROOT={probe_root.rstrip('/')}", f"HARNESS_ENGINE={engine}", f"HARNESS_IMAGE={image}",
            f'HARNESS_IMAGE_FORMAT={{{{index .Config.Labels "{LABEL}"}}}}', "sh", "-c", FACTS_SCRIPT]


MAX_FACT_CHARS = 4000
MAX_FACT_LINES = 256  # the script prints about 25
_UINT = re.compile(r"[0-9]{1,15}")
_LOAD = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,6})?")
_CPU_STAT = re.compile(r"cpu(?: +[0-9]{1,20}){4,10} *")  # /proc/stat's aggregate line: bounded jiffies counts


def parse_facts(text: str) -> dict[str, str]:
    """``key=value`` lines of the facts script; values bounded, then made printable (they are the device's words).

    Linear in ``text``: lines past ``devtext.MAX_LINE_CHARS`` are skipped, only the first ``MAX_FACT_LINES`` read.
    """
    out = {}
    for line in devtext.lines(text)[:MAX_FACT_LINES]:
        k, sep, v = line.partition("=")
        if sep:
            out[printable(k.strip()[:64])] = printable(v.strip()[:MAX_FACT_CHARS])
    out["nvpmodel"] = parse_nvpmodel_query(out.pop("nvpmodel_query", "")) or ""
    return out


def _uint(facts: dict[str, str], key: str) -> int | None:
    """A whole-number fact (kB, a count), None when absent or not one (never int() of the device's text as is)."""
    value = (facts.get(key) or "").strip()
    return int(value) if _UINT.fullmatch(value) else None


def l4t_major(release_line: str) -> int | None:
    """``# R36 (release), REVISION: 4.0, ...`` -> 36 (the environment module's parser)."""
    rel = parse_l4t(release_line)
    return rel.major if rel else None


def evaluate(profile: DeviceProfile, facts: dict[str, str]) -> list[Check]:
    """The checklist: every expectation of the profile against the device's facts."""
    checks = [Check("reachable", True, f"boot id {facts.get('boot_id') or '?'}, {facts.get('arch') or '?'}")]
    exp = profile.expect
    model = facts.get("model", "")
    if exp.board_contains:
        checks.append(Check("board", exp.board_contains in model,
                            f"{model or 'no /proc/device-tree/model'} (profile expects '{exp.board_contains}')"))
    if exp.l4t_major is not None:
        got = l4t_major(facts.get("l4t", ""))
        if got is None:
            checks.append(Check("l4t", False, f"no or unknown L4T release ({facts.get('l4t') or 'no /etc/nv_tegra_release'}); "
                                              f"profile expects r{exp.l4t_major}"))
        else:
            checks.append(Check("l4t", got == exp.l4t_major, f"r{got} (profile expects r{exp.l4t_major}: "
                                                               f"{'match' if got == exp.l4t_major else 'wrong image for this board'})"))
    free_gb = (_uint(facts, "disk_free_kb") or 0) / 1024**2
    checks.append(Check("disk", free_gb >= MIN_FREE_DISK_GB, f"{free_gb:.1f} GB free in $HOME (need {MIN_FREE_DISK_GB:g})"))
    mem = (_uint(facts, "mem_total_kb") or 0) / 1024**2
    swap = (_uint(facts, "swap_total_kb") or 0) / 1024**2
    checks.append(Check("memory", mem > 0, f"{mem:.1f} GB RAM, {swap:.1f} GB swap"))
    runtime = runtime_for(profile)
    checks += runtime.checks(facts)
    if profile.container.mount_jtop_socket:
        checks.append(Check("jtop", facts.get("jtop_socket") == "yes",
                            "jtop service socket present" if facts.get("jtop_socket") == "yes" else "no /run/jtop.sock (sudo systemctl restart jtop.service)"))
    if profile.power_mode.nvpmodel:
        mode = facts.get("nvpmodel") or ""
        if facts.get("nvpmodel_conf") == "other":
            checks.append(Check("nvpmodel", False, f"{NVPMODEL_CONF} is not a regular file (a FIFO, device or "
                                                   f"directory), so nvpmodel was not asked; {CONF_FIX}"))
        else:
            checks.append(Check("nvpmodel", mode == profile.power_mode.nvpmodel,
                                f"{mode or 'nvpmodel unavailable'} (profile wants {profile.power_mode.nvpmodel})"))
    dla = facts.get("dla_cores") or "0"
    checks.append(Check("dla", True, f"{dla} DLA core{'s' if dla != '1' else ''}" + (
        "" if dla != "0" else " (TensorRT dla_core cells are skipped here)"), info=True))
    checks.append(Check("trtexec", True, facts.get("trtexec") or "not found (engine timing by trtexec skipped)",
                        info=not facts.get("trtexec")))
    checks.append(quiet_check_line(profile, facts))
    return checks


def quiet_check_line(profile: DeviceProfile, facts: dict[str, str]) -> Check:
    """Is the board quiet (one second of /proc/stat while the probe sleeps)? Reported, never a deploy stopper: its
    cells would be marked contended."""
    a, b = ((facts.get(k) or "").strip() for k in ("cpu_stat_a", "cpu_stat_b"))
    other, steal = share_between(a, b) if _CPU_STAT.fullmatch(a) and _CPU_STAT.fullmatch(b) else (None, None)
    load_text = (facts.get("loadavg") or "").strip()
    load = float(load_text) if _LOAD.fullmatch(load_text) else None
    cpus = min(_uint(facts, "nproc") or 1, MAX_CPUS)
    m = profile.measure
    quiet, line = quiet_verdict(other, steal, load, cpus, Thresholds(m.max_other_cpu_share, m.max_steal_share))
    return Check("quiet", True, line, info=quiet is not True)


def run_preflight(conn, profile: DeviceProfile) -> tuple[dict[str, str], list[Check]]:
    engine = runtime_for(profile).engine
    r = conn.run(facts_command(profile.probe_root, engine, profile.container.image), timeout_s=profile.timeouts.command_s)
    if not r.ok:
        from harness.errors import RemoteError

        raise RemoteError(f"{conn.where}: preflight script failed ({r.exit_code}): {r.stderr.strip()[-200:]}",
                          "check that the device has a POSIX sh and coreutils")
    facts = parse_facts(r.stdout)
    return facts, evaluate(profile, facts)



