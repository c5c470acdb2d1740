"""The power model: rails follow the load and the power mode; the board's load is its processes' CPU time."""

import subprocess
import sys
import time

import pytest

from harness.sim.boards import KINDS
from harness.sim.power import BoardLoad, idle_w, module_power_w, rail_readings, tree_cpu_s
from harness.telemetry.rails import total_of


def module_w(kind, mode_name, util):
    """The module total (W) the rails show, as the telemetry backends add them up."""
    k = KINDS[kind]
    rails = rail_readings(k.shape, k.budget_w(k.mode_id(mode_name)), util)
    return total_of({label: mv * ma / 1000 for label, (mv, ma) in rails.items()})[0] / 1000


@pytest.mark.parametrize("kind, low, high", [("orin-nano", "7W", "15W"), ("orin-nx", "10W", "25W"),
                                             ("agx-orin", "15W", "MAXN"), ("xavier-nx", "MODE_10W_2CORE", "MODE_20W_6CORE")])
def test_rail_power_rises_with_load_and_falls_with_a_lower_power_mode(kind, low, high):
    idle = idle_w(KINDS[kind].shape)
    assert module_w(kind, high, 0.0) == pytest.approx(idle, rel=1e-3)  # idle: the shape's own readings
    at = [module_w(kind, high, u) for u in (0.0, 0.25, 0.5, 1.0)]
    assert at == sorted(at) and at[-1] > at[0] + 1  # more load, more power
    for u in (0.25, 0.5, 1.0):
        assert module_w(kind, low, u) < module_w(kind, high, u)  # a lower budget, less power for the same load
    assert module_w(kind, high, 1.0) <= KINDS[kind].budget_w(KINDS[kind].mode_id(high)) + 0.01  # within the budget


def test_the_sub_rails_follow_the_input_rail_and_a_board_without_one_sums_its_rails():
    k = KINDS["orin-nano"]
    idle, busy = rail_readings(k.shape, 15, 0.0), rail_readings(k.shape, 15, 1.0)
    assert all(busy[r][1] > idle[r][1] for r in idle)  # every rail rises
    assert module_power_w(6.0, 15.0, 1.0) == pytest.approx(15.0) and module_power_w(6.0, 15.0, 2.0) == pytest.approx(15.0)
    assert module_power_w(6.0, 5.0, 1.0) == pytest.approx(6.5)  # a budget under idle still moves a little


def test_the_budgets_come_from_the_mode_names():
    nano = KINDS["orin-nano"]
    assert [nano.budget_w(m[0]) for m in nano.modes] == [15, 25, 25, 7]  # 15W, 25W, MAXN_SUPER, 7W
    assert KINDS["xavier-nx"].budget_w(8) == 20


def test_the_load_is_the_cpu_time_of_the_descendants_only():
    busy = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 1.5: pass"])
    try:
        load = BoardLoad(busy.pid, window=100)  # the busy process is the root: its own time does not count
        base = tree_cpu_s(busy.pid)
        time.sleep(0.5)
        assert load.sample() == 0.0 and tree_cpu_s(busy.pid) == base
    finally:
        busy.wait()
    import os

    me = os.getpid()
    child = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 1.0: pass"])
    load = BoardLoad(me, window=100, cpus=1)
    load.sample()
    time.sleep(0.8)
    util = load.sample()
    child.wait()
    assert util > 0.3  # one spinning child on "one CPU" (a busy host gives it less than all of it)
