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

# Abridged from an Orin Nano 8GB (p3767-0003) file of JetPack 6.2: the IDs are not in name order.
NVPMODEL_CONF = """\
# Fake /etc/nvpmodel.conf (edge-harness tests), modelled on JetPack 6.2's Orin Nano 8GB file.
< PARAM TYPE=FILE NAME=CPU_ONLINE >
CORE_0 /sys/devices/system/cpu/cpu0/online

< POWER_MODEL ID=0 NAME=15W >
CPU_ONLINE CORE_0 1

< POWER_MODEL ID=1 NAME=25W >
CPU_ONLINE CORE_0 1

< POWER_MODEL ID=2 NAME=MAXN_SUPER >
CPU_ONLINE CORE_0 1

< POWER_MODEL ID=3 NAME=7W >
CPU_ONLINE CORE_0 1

< PM_CONFIG DEFAULT=0 >
"""

NVPMODEL = r"""#!/bin/sh
# Fake nvpmodel (edge-harness tests): -q prints the mode as L4T's does, -m ID sets it.
conf=${FAKE_JETSON_ROOT:-}/etc/nvpmodel.conf
state=${FAKE_JETSON_ROOT:-}/var/lib/fake-jetson/nvpmodel
name_of() { sed -n "s/.*POWER_MODEL ID=$1 NAME=\([^ >]*\).*/\1/p" "$conf"; }
id=$(cat "$state" 2>/dev/null || sed -n 's/.*PM_CONFIG DEFAULT=\([0-9]*\).*/\1/p' "$conf")
case "$1" in
  -q) echo "NV Power Mode: $(name_of "$id")"; echo "$id" ;;
  -m) [ -n "$2" ] && [ -n "$(name_of "$2")" ] || { echo "NVPM ERROR: invalid power mode: $2" >&2; exit 1; }
      mkdir -p "${state%/*}" && echo "$2" > "$state" ;;
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


def write_fake_jetson(root: Path) -> Path:
    """Write the fake tools under ``root`` (mirroring ``/``); returns ``root``."""
    files = {"etc/nvpmodel.conf": (NVPMODEL_CONF, 0o644), "usr/sbin/nvpmodel": (NVPMODEL, 0o755),
             "usr/bin/jetson_clocks": (JETSON_CLOCKS, 0o755)}
    for rel, (text, mode) in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        p.chmod(mode)
    return root
