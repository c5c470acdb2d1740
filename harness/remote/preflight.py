"""Preflight (``harness doctor``, and the first step of a deploy): what the device is, and is it what the profile says.

One remote command gathers every fact as ``key=value`` lines (one round trip).
A mismatch with the profile -- wrong board, an unknown or different L4T major
(a JetPack 6 image on an L4T r35 board), no container engine, no NVIDIA runtime
-- is a failed check with the reason; the harness never guesses.
"""

from __future__ import annotations


from harness.image.versions import LABEL
from harness.errors import printable
from harness.platform import parse_l4t, parse_nvpmodel_query
from harness.config.profiles import DeviceProfile
from harness.measure.host import Thresholds, quiet_verdict, share_between
from harness.remote.checks import Check
from harness.remote.runtimes import runtime_for

MIN_FREE_DISK_GB = 2.0

FACTS_SCRIPT = r"""
r=$HARNESS_PROBE_ROOT
printf 'model=%s\n' "$(tr -d '\000' < "$r/proc/device-tree/model" 2>/dev/null)"
printf 'l4t=%s\n' "$(head -n1 "$r/etc/nv_tegra_release" 2>/dev/null)"
printf 'boot_id=%s\n' "$(cat "$r/proc/sys/kernel/random/boot_id" 2>/dev/null || cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
printf 'dla_cores=%s\n' "$(ls -d "$r"/sys/devices/platform/*.nvdla[0-9] "$r"/sys/devices/platform/*/*.nvdla[0-9] 2>/dev/null | sed 's/.*nvdla//' | sort -u | wc -l | tr -d ' ')"
printf 'disk_free_kb=%s\n' "$(df -Pk "$HOME" 2>/dev/null | awk 'NR==2{print $4}')"
printf 'mem_total_kb=%s\n' "$(awk '/^MemTotal:/{print $2}' /proc/meminfo 2>/dev/null)"
printf 'swap_total_kb=%s\n' "$(awk '/^SwapTotal:/{print $2}' /proc/meminfo 2>/dev/null)"
printf 'docker=%s\n' "$(command -v docker 2>/dev/null)"
printf 'podman=%s\n' "$(command -v podman 2>/dev/null)"
printf 'docker_runtimes=%s\n' "$(docker info --format '{{json .Runtimes}}' 2>/dev/null | tr -d '\n')"
printf 'nvidia_cdi=%s\n' "$(ls /etc/cdi/nvidia.yaml /var/run/cdi/nvidia.yaml 2>/dev/null | head -n1)"
printf 'python3=%s\n' "$(python3 -c 'import sys; print(sys.version.split()[0])' 2>/dev/null)"
printf 'jtop_socket=%s\n' "$(test -S /run/jtop.sock && echo yes)"
printf 'nvpmodel_query=%s\n' "$(nvpmodel -q 2>/dev/null | grep -m1 '^NV Power Mode:')"
printf 'jetson_clocks=%s\n' "$(command -v jetson_clocks 2>/dev/null)"
printf 'trtexec=%s\n' "$(command -v trtexec 2>/dev/null || ls /usr/src/tensorrt/bin/trtexec 2>/dev/null)"
printf 'arch=%s\n' "$(uname -m)"
printf 'jtop_version=%s\n' "$(python3 -c 'import jtop; print(jtop.__version__)' 2>/dev/null)"
printf 'cpu_stat_a=%s\n' "$(head -n1 /proc/stat 2>/dev/null)"
sleep 1
printf 'cpu_stat_b=%s\n' "$(head -n1 /proc/stat 2>/dev/null)"
printf 'loadavg=%s\n' "$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)"
printf 'nproc=%s\n' "$(nproc 2>/dev/null)"
if [ -n "$HARNESS_ENGINE" ] && command -v "$HARNESS_ENGINE" >/dev/null 2>&1; then
  printf 'image_versions=%s\n' "$("$HARNESS_ENGINE" image inspect --format "$HARNESS_IMAGE_FORMAT" "$HARNESS_IMAGE" 2>/dev/null | tr -d '\n')"
fi
"""


def facts_command(probe_root: str, engine: str = "", image: str = "") -> list[str]:
    """argv for the facts script; probe root, engine and image passed as quoted environment values."""
    return ["env", f"HARNESS_PROBE_ROOT={probe_root.rstrip('/')}", f"HARNESS_ENGINE={engine}", f"HARNESS_IMAGE={image}",
            f'HARNESS_IMAGE_FORMAT={{{{index .Config.Labels "{LABEL}"}}}}', "sh", "-c", FACTS_SCRIPT]


MAX_FACT_CHARS = 4000


def parse_facts(text: str) -> dict[str, str]:
    """``key=value`` lines of the facts script; values made printable and bounded (they are the device's words)."""
    out = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[printable(k.strip())[:64]] = printable(v.strip())[:MAX_FACT_CHARS]
    out["nvpmodel"] = parse_nvpmodel_query(out.pop("nvpmodel_query", "")) or ""
    return out


def l4t_major(release_line: str) -> int | None:
    """``# R36 (release), REVISION: 4.0, ...`` -> 36 (the platform module's parser)."""
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
    free_gb = int(facts.get("disk_free_kb") or 0) / 1024**2
    checks.append(Check("disk", free_gb >= MIN_FREE_DISK_GB, f"{free_gb:.1f} GB free in $HOME (need {MIN_FREE_DISK_GB:g})"))
    mem = int(facts.get("mem_total_kb") or 0) / 1024**2
    swap = int(facts.get("swap_total_kb") or 0) / 1024**2
    checks.append(Check("memory", mem > 0, f"{mem:.1f} GB RAM, {swap:.1f} GB swap"))
    runtime = runtime_for(profile)
    checks += runtime.checks(facts)
    if profile.container.mount_jtop_socket:
        checks.append(Check("jtop", facts.get("jtop_socket") == "yes",
                            "jtop service socket present" if facts.get("jtop_socket") == "yes" else "no /run/jtop.sock (sudo systemctl restart jtop.service)"))
    if profile.power_mode.nvpmodel:
        mode = facts.get("nvpmodel") or ""
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
    other, steal = share_between(facts.get("cpu_stat_a") or "", facts.get("cpu_stat_b") or "")
    try:
        load = float(facts.get("loadavg") or "")
    except ValueError:
        load = None
    cpus = int(facts["nproc"]) if (facts.get("nproc") or "").isdigit() else 1
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



