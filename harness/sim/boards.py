"""The board kinds ``harness sim start`` offers: a fake tree's shape, its power modes, and the device profile it
imitates (``device_profiles/<kind>.yaml``).

Modes are (id, name, cores online, CPU max kHz, GPU max Hz) as ``sim.jetson`` writes them into nvpmodel.conf, with
each mode's power budget in W (the dynamic power at full load stays under it). IDs follow the boards' JetPack files
where known; the budgets are the modes' names (MAXN: the module's maximum).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.sim.board_tree import AGX_ORIN_JP6, ORIN_NANO_JP6, XAVIER_NX_JP5, Shape
from harness.sim.jetson import MODES as ORIN_NANO_MODES

ORIN_NX_JP6 = Shape(
    name="orin-nx-jp6", model="NVIDIA Jetson Orin NX Engineering Reference Developer Kit", boardids="3767:0000",
    compatible=("nvidia,p3768-0000+p3767-0000", "nvidia,p3767-0000", "nvidia,tegra234"),
    release=ORIN_NANO_JP6.release,
    ina3221=[[("VDD_IN", 5000, 1400), ("VDD_CPU_GPU_CV", 5000, 500), ("VDD_SOC", 5000, 350)]],  # 7000, 2500, 1750 mW
    temps_c={"cpu-thermal": 47.5, "gpu-thermal": 46.0, "cv0-thermal": 45.5, "soc0-thermal": 45.0, "tj-thermal": 48.0},
    cpus=8,
)


@dataclass(frozen=True)
class SimKind:
    """One kind of simulated board."""

    name: str  # as typed: orin-nano
    shape: Shape
    modes: list[tuple[int, str, int, int, int]]
    maxn_w: float  # a MAXN mode's budget

    def budget_w(self, mode_id: int) -> float:
        """The power budget of mode ``mode_id`` (W): the number in its name (15W, MODE_20W_6CORE), else MAXN's."""
        name = next((m[1] for m in self.modes if m[0] == mode_id), "")
        m = re.search(r"(\d+)W", name)
        return float(m.group(1)) if m else self.maxn_w

    def mode_id(self, name: str) -> int:
        return next(m[0] for m in self.modes if m[1] == name)


KINDS = {k.name: k for k in (
    SimKind("orin-nano", ORIN_NANO_JP6, ORIN_NANO_MODES, 25.0),
    SimKind("orin-nx", ORIN_NX_JP6, [(0, "MAXN", 8, 1984000, 918000000), (1, "10W", 4, 1190400, 612000000),
                                     (2, "15W", 4, 1497600, 612000000), (3, "25W", 8, 1984000, 918000000)], 40.0),
    SimKind("agx-orin", AGX_ORIN_JP6, [(0, "MAXN", 12, 2201600, 1300500000), (1, "15W", 4, 1113600, 420750000),
                                       (2, "30W", 8, 1728000, 624750000), (3, "50W", 12, 1497600, 828750000)], 60.0),
    SimKind("xavier-nx", XAVIER_NX_JP5, [(2, "MODE_15W_6CORE", 6, 1420800, 1109250000),
                                         (3, "MODE_10W_2CORE", 2, 1497600, 803250000),
                                         (8, "MODE_20W_6CORE", 6, 1907200, 1109250000)], 20.0),
)}
