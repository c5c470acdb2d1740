"""Stand-ins for a Jetson's power tools inside a test container: nvpmodel, jetson_clocks, /etc/nvpmodel.conf.

``write_fake_jetson(root)`` lays them out under ``root`` as they sit on L4T
(``usr/sbin/nvpmodel``, ``usr/bin/jetson_clocks``, ``etc/nvpmodel.conf``); copying
``root`` over ``/`` of a Debian container lets the provisioning roles' Jetson tasks
query and set a power mode by name. State lives in ``/var/lib/fake-jetson``; with
``FAKE_JETSON_ROOT=DIR`` in the environment the tools use ``DIR/etc/...`` and
``DIR/var/lib/...`` instead (a test on this machine).
"""

from __future__ import annotations

from pathlib import Path

# Modelled on an Orin Nano 8GB (p3767-0003) file of JetPack 6.2: the IDs are not in name order; what each mode
# sets (online cores, CPU and GPU caps) is in its block as on L4T. (id, name, cores online, CPU max kHz, GPU max Hz)
MODES = [(0, "15W", 6, 1497600, 612000000), (1, "25W", 6, 1344000, 918000000), (2, "MAXN_SUPER", 6, 1728000, 1020000000),
         (3, "7W", 4, 960000, 408000000)]


def _conf(modes=MODES, cpus: int = 6, gpu_devfreq: str = "17000000.gpu") -> str:
    """An nvpmodel.conf with ``modes`` (id, name, cores online, CPU max kHz, GPU max Hz) on a board of ``cpus`` CPUs."""
    out = ["# Fake /etc/nvpmodel.conf (edge-harness tests), modelled on JetPack 6.2's Orin Nano 8GB file.",
           "< PARAM TYPE=FILE NAME=CPU_ONLINE >", *(f"CORE_{c} /sys/devices/system/cpu/cpu{c}/online" for c in range(cpus)),
           "", "< PARAM TYPE=CLOCK NAME=CPU_A78_0 >", "FREQ_TABLE /sys/devices/system/cpu/cpu0/cpufreq/scaling_available_frequencies",
           "MAX_FREQ /sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq", "", "< PARAM TYPE=CLOCK NAME=GPU >",
           f"MAX_FREQ /sys/devices/platform/bus@0/{gpu_devfreq}/devfreq/{gpu_devfreq}/max_freq", ""]
    for mode_id, name, cores, cpu_khz, gpu_hz in modes:
        out += [f"< POWER_MODEL ID={mode_id} NAME={name} >", *(f"CPU_ONLINE CORE_{c} {int(c < cores)}" for c in range(cpus)),
                "CPU_A78_0 MIN_FREQ 729600", f"CPU_A78_0 MAX_FREQ {cpu_khz}", "GPU MIN_FREQ 0", f"GPU MAX_FREQ {gpu_hz}",
                "EMC MAX_FREQ 0", ""]
    out.append(f"< PM_CONFIG DEFAULT={modes[0][0]} >")
    return "\n".join(out) + "\n"


NVPMODEL_CONF = _conf()

NVPMODEL = r"""#!/bin/sh
# Fake nvpmodel (edge-harness tests): -q prints the mode as L4T's does, -m ID sets it. A mode listed in
# etc/fake-jetson/reboot_modes asks for a reboot as L4T's does: answered YES it "reboots" (the mode applies and
# proc/sys/kernel/random/boot_id under the fake root changes), else the mode waits for the next boot. With
# etc/fake-jetson/no_reboot present the YES is taken and the mode applied, but the reboot never happens (same boot id).
# etc/fake-jetson/on-mode ID, when present, applies a mode's clocks and power to a fake sysfs tree.
root=${FAKE_JETSON_ROOT:-}
conf=$root/etc/nvpmodel.conf
state=$root/var/lib/fake-jetson/nvpmodel
name_of() { sed -n "s/.*POWER_MODEL ID=$1 NAME=\([^ >]*\).*/\1/p" "$conf"; }
id=$(cat "$state" 2>/dev/null || sed -n 's/.*PM_CONFIG DEFAULT=\([0-9]*\).*/\1/p' "$conf")
apply() {
  mkdir -p "${state%/*}" && echo "$1" > "$state"
  if [ -x "$root/etc/fake-jetson/on-mode" ]; then "$root/etc/fake-jetson/on-mode" "$1"; fi
}
case "$1" in
  -q) echo "NV Power Mode: $(name_of "$id")"; echo "$id" ;;
  -m) [ -n "$2" ] && [ -n "$(name_of "$2")" ] || { echo "NVPM ERROR: invalid power mode: $2" >&2; exit 1; }
      if [ "$2" != "$id" ] && grep -qx "$2" "$root/etc/fake-jetson/reboot_modes" 2>/dev/null; then
        echo "NVPM WARN: Reboot required for changing to this power mode: $2"
        echo "NVPM WARN: DO YOU WANT TO REBOOT NOW? enter YES/yes to confirm:"
        read answer || answer=
        case "$answer" in
          YES|yes) apply "$2"; mkdir -p "$root/proc/sys/kernel/random"
                   [ -e "$root/etc/fake-jetson/no_reboot" ] ||
                     cat /proc/sys/kernel/random/uuid > "$root/proc/sys/kernel/random/boot_id"
                   echo "rebooting" ;;
          *) echo "$2" > "$state.pending"; echo "NVPM WARN: power mode $2 applies after the next reboot" ;;
        esac
        exit 0
      fi
      apply "$2" ;;
  *) echo "usage: nvpmodel -q | -m ID" >&2; exit 2 ;;
esac
"""

JETSON_CLOCKS = r"""#!/bin/sh
# Fake jetson_clocks (edge-harness tests): --show, --store F, --restore F, no argument = lock.
state=${FAKE_JETSON_ROOT:-}/var/lib/fake-jetson/clocks_locked
show() {
  if [ -f "$state" ]; then min=1510400; gmin=624750000; else min=729600; gmin=306000000; fi
  echo "SOC family:tegra234  Machine:NVIDIA Jetson Orin Nano Developer Kit"
  echo "Online CPUs: 0-5"
  for c in 0 1 2 3 4 5; do
    echo "cpu$c: Online=1 Governor=schedutil MinFreq=$min MaxFreq=1510400 CurrentFreq=1510400 IdleStates: WFI=1 c7=1"
  done
  echo "GPU MinFreq=$gmin MaxFreq=624750000 CurrentFreq=$gmin"
  echo "EMC MinFreq=204000000 MaxFreq=2133000000 CurrentFreq=2133000000 FreqOverride=0"
  echo "NV Power Mode: $(nvpmodel -q | sed -n 's/^NV Power Mode: //p')"
}
case "$1" in
  --show) show ;;
  --store) show > "${2:-/var/lib/nvpmodel/l4t_dfs.conf}" ;;
  --restore) rm -f "$state" ;;
  "") mkdir -p "${state%/*}" && touch "$state" ;;
  *) echo "usage: jetson_clocks [--show | --store F | --restore F]" >&2; exit 2 ;;
esac
"""


def on_mode_hook(sysfs: Path, rail_ma: dict[int, int], rail_file: Path | None = None, modes=MODES, cpus: int = 6,
                 gpu_devfreq: str = "17000000.gpu") -> str:
    """A ``on-mode ID`` script: the mode's online cores and CPU/GPU caps (and current clocks at the cap) written
    to the fake sysfs tree ``sysfs``, and the board's input current ``rail_ma[ID]`` (mA) to ``rail_file``."""
    lines = ["#!/bin/sh", "# Fake L4T: what `nvpmodel -m ID` does to the clocks (and, here, to the input rail's current).",
             f"s={sysfs}", f'mkdir -p "$s/sys/devices/system/cpu" "$s/sys/class/devfreq/{gpu_devfreq}"', 'case "$1" in']
    for mode_id, _name, cores, cpu_khz, gpu_hz in modes:
        body = [f'printf "0-{cores - 1}\\n" > "$s/sys/devices/system/cpu/online"']
        for c in range(cpus):
            d = f"$s/sys/devices/system/cpu/cpu{c}/cpufreq"
            body.append(f'rm -rf "{d}"' if c >= cores else
                        f'mkdir -p "{d}"; echo {cpu_khz} > "{d}/scaling_max_freq"; echo {cpu_khz} > "{d}/scaling_cur_freq"')
        body += [f'echo {gpu_hz} > "$s/sys/class/devfreq/{gpu_devfreq}/max_freq"',
                 f'echo {gpu_hz} > "$s/sys/class/devfreq/{gpu_devfreq}/cur_freq"']
        if rail_file is not None and mode_id in rail_ma:
            body.append(f'echo {rail_ma[mode_id]} > "{rail_file}"')
        lines += [f"  {mode_id})", *(f"    {b}" for b in body), "    ;;"]
    lines += ["esac", ""]
    return "\n".join(lines)


def write_fake_jetson(root: Path, sysfs: Path | None = None, rail_ma: dict[int, int] | None = None,
                      rail_file: Path | None = None, reboot_modes: tuple[int, ...] = (), reboot_never_happens: bool = False,
                      modes=MODES, cpus: int = 6, gpu_devfreq: str = "17000000.gpu") -> Path:
    """Write the fake tools under ``root`` (mirroring ``/``); returns ``root``.

    With ``sysfs``, ``nvpmodel -m`` also sets that tree's clocks per mode (and ``rail_ma[id]`` into ``rail_file``,
    an INA3221 ``currN_input``); ``reboot_modes`` are the ids that ask for a reboot; with ``reboot_never_happens``
    a confirmed reboot applies the mode but the board stays in the same boot (a reboot that is accepted, then lost).
    ``modes``, ``cpus`` and ``gpu_devfreq`` describe another board than the default Orin Nano (``harness.sim``).
    """
    files = {"etc/nvpmodel.conf": (_conf(modes, cpus, gpu_devfreq), 0o644), "usr/sbin/nvpmodel": (NVPMODEL, 0o755),
             "usr/bin/jetson_clocks": (JETSON_CLOCKS, 0o755)}
    if sysfs is not None:
        files["etc/fake-jetson/on-mode"] = (on_mode_hook(sysfs, rail_ma or {}, rail_file, modes, cpus, gpu_devfreq), 0o755)
    if reboot_modes:
        files["etc/fake-jetson/reboot_modes"] = ("".join(f"{i}\n" for i in reboot_modes), 0o644)
    if reboot_never_happens:
        files["etc/fake-jetson/no_reboot"] = ("the reboot nvpmodel asks for never happens\n", 0o644)
    for rel, (text, mode) in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        p.chmod(mode)
    if sysfs is not None:  # the board booted in its default mode: its clocks and power are that mode's
        import subprocess

        subprocess.run([str(root / "etc/fake-jetson/on-mode"), str(modes[0][0])], check=True)
    return root
