"""nvpmodel by name: the conf parser, the query parser, clocks against a mode's limits, switching with the fake L4T."""

import os

import pytest

from harness.errors import BenchmarkError
from harness.subproc import CommandResult, LocalShell
from harness.powermodes import (ModeControl, ModeLimits, clocks_mismatch, parse_nvpmodel_conf,
                                parse_nvpmodel_query, read_clocks)
from harness.testing.attacks import attacks, repeated, timed, unblocked
from harness.testing.fakes import sysfs as fake_sysfs
from harness.testing.fakes.jetson import NVPMODEL_CONF, write_fake_jetson

# The shape of an Orin NX file of JetPack 6 (PARAM blocks, CPU clusters, a mode without GPU cap), abridged by hand.
ORIN_NX_STYLE = """
< PARAM TYPE=FILE NAME=CPU_ONLINE >
CORE_0 /sys/devices/system/cpu/cpu0/online
< PARAM TYPE=CLOCK NAME=GPU >
MAX_FREQ /sys/devices/platform/bus@0/17000000.gpu/devfreq/17000000.gpu/max_freq
< POWER_MODEL ID=0 NAME=MAXN >
CPU_ONLINE CORE_0 1
CPU_ONLINE CORE_1 1
CPU_A78_0 MAX_FREQ -1
CPU_A78_1 MAX_FREQ -1
GPU MAX_FREQ -1
< POWER_MODEL ID=1 NAME=10W >
CPU_ONLINE CORE_0 1
CPU_ONLINE CORE_1 0
CPU_A78_0 MAX_FREQ 1190400
CPU_A78_1 MAX_FREQ 1113600
GPU MAX_FREQ 510000000
< PM_CONFIG DEFAULT=1 >
"""


def test_the_conf_gives_names_ids_and_limits():
    modes = parse_nvpmodel_conf(ORIN_NX_STYLE)
    assert modes.ids == {"MAXN": 0, "10W": 1} and modes.default_id == 1 and modes.name_of(1) == "10W"
    assert modes.limits["MAXN"] == ModeLimits(2, None, None)  # -1: no cap
    assert modes.limits["10W"] == ModeLimits(1, 1190400, 510000000)  # the highest cluster cap
    fake = parse_nvpmodel_conf(NVPMODEL_CONF)
    assert list(fake.ids) == ["15W", "25W", "MAXN_SUPER", "7W"] and fake.ids["7W"] == 3


def test_a_mode_without_a_core0_line_counts_cpu0_online():
    """TX2's modes list CORE_1..CORE_5 only (cpu0 cannot be offlined): counting the lines alone was one core short,
    which raised a false clock mismatch against the board's online count."""
    conf = ("< POWER_MODEL ID=0 NAME=MAXN >\nCPU_ONLINE CORE_1 1\nCPU_ONLINE CORE_2 1\nCPU_ONLINE CORE_3 1\n"
            "CPU_ONLINE CORE_4 1\nCPU_ONLINE CORE_5 1\n< POWER_MODEL ID=3 NAME=MAXP_CORE_ARM >\n"
            "CPU_ONLINE CORE_1 0\nCPU_ONLINE CORE_2 0\nCPU_ONLINE CORE_3 1\nCPU_ONLINE CORE_4 1\nCPU_ONLINE CORE_5 1\n")
    modes = parse_nvpmodel_conf(conf)
    assert modes.limits["MAXN"].cpu_online == 6 and modes.limits["MAXP_CORE_ARM"].cpu_online == 4


def test_an_unknown_name_lists_the_boards_modes():
    with pytest.raises(BenchmarkError, match=r"'9W' is not defined .*this board has: MAXN, 10W"):
        parse_nvpmodel_conf(ORIN_NX_STYLE).id_of("9W")


def test_the_query_and_hostile_answers():
    assert parse_nvpmodel_query("NV Power Mode: MAXN_SUPER\n2\n") == ("MAXN_SUPER", 2)
    assert parse_nvpmodel_query("NV Power Mode: 15W\n") == ("15W", None)
    assert parse_nvpmodel_query("NV Power Mode: 15W; reboot\n0\n") == (None, 0)  # not a mode name
    assert parse_nvpmodel_query("") == (None, None)


def test_clocks_are_read_and_checked_against_the_mode(tmp_path):
    root = tmp_path / "sys"
    (root / "sys/devices/system/cpu").mkdir(parents=True)
    (root / "sys/devices/system/cpu/online").write_text("0-3\n")
    for c in range(4):
        d = root / f"sys/devices/system/cpu/cpu{c}/cpufreq"
        d.mkdir(parents=True)
        (d / "scaling_max_freq").write_text("1190400\n")
        (d / "scaling_cur_freq").write_text("729600\n")
    gpu = root / "sys/class/devfreq/17000000.gpu"
    gpu.mkdir(parents=True)
    (gpu / "max_freq").write_text("918000000\n")
    (gpu / "cur_freq").write_text("306000000\n")
    clocks = read_clocks(root)
    assert clocks == {"cpu_online": 4, "cpu_cur_khz": 729600, "cpu_max_khz": 1190400, "gpu_cur_hz": 306000000,
                      "gpu_max_hz": 918000000, "emc_hz": None}
    assert clocks_mismatch(ModeLimits(4, 1190400, 918000000), clocks) is None
    why = clocks_mismatch(ModeLimits(6, 1190400, 510000000), clocks)
    assert why == "4 CPU cores online, the mode keeps 6; GPU max 918 MHz, the mode caps it at 510 MHz"


@pytest.fixture
def fake_l4t(tmp_path, monkeypatch):
    sysroot = tmp_path / "sys-root"
    hwmon = fake_sysfs.ina3221_hwmon(sysroot, fake_sysfs.ORIN_NANO_RAILS)[0]
    board = write_fake_jetson(tmp_path / "board", sysfs=sysroot, rail_ma={0: 2000, 3: 1200},
                              rail_file=hwmon / "curr1_input", reboot_modes=(3,))
    monkeypatch.setenv("FAKE_JETSON_ROOT", str(board))
    monkeypatch.setenv("PATH", f"{board / 'usr/sbin'}:{board / 'usr/bin'}:{os.environ['PATH']}")
    return board, sysroot, hwmon


def test_switching_by_name_and_a_mode_that_asks_for_a_reboot(fake_l4t):
    board, sysroot, hwmon = fake_l4t
    ctl = ModeControl.local()
    assert ctl is not None and ctl.query() == ("15W", 0)
    done = ctl.switch("MAXN_SUPER")
    assert not done.needs_reboot and ctl.verify("MAXN_SUPER") == 2
    assert read_clocks(sysroot)["gpu_max_hz"] == 1020000000
    pending = ctl.switch("7W")  # nvpmodel asks; nobody answers: the mode waits for the next boot
    assert pending.needs_reboot and "Reboot required" in pending.output and ctl.query()[0] == "MAXN_SUPER"
    (board / "proc/sys/kernel/random").mkdir(parents=True)
    (board / "proc/sys/kernel/random/boot_id").write_text("before\n")
    rebooted = ctl.switch("7W", confirm_reboot=True)
    assert rebooted.needs_reboot and ctl.query() == ("7W", 3)
    assert (board / "proc/sys/kernel/random/boot_id").read_text().strip() != "before"
    assert int((hwmon / "curr1_input").read_text()) == 1200 and read_clocks(sysroot)["cpu_online"] == 4
    with pytest.raises(BenchmarkError, match="active power mode is 7W, expected 15W"):
        ctl.verify("15W")


def test_without_root_the_commands_go_through_sudo_n():
    seen = []

    class Scripted:
        where = "jetson@nx"

        def run(self, argv, *, stdin="", timeout_s=None):
            seen.append(argv)
            if argv[:2] == ["sh", "-c"] and "/etc/nvpmodel.conf" in argv:  # the bounded read of the conf
                return CommandResult("", 0, ORIN_NX_STYLE)
            return CommandResult("", 0, "" if argv[:2] != ["id", "-u"] else "1000\n")

    ModeControl(Scripted()).switch("10W")
    assert seen[-1] == ["sudo", "-n", "nvpmodel", "-m", "1"]


def test_no_nvpmodel_means_no_local_control(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert ModeControl.local() is None
    assert LocalShell().run(["definitely-not-a-command"]).exit_code == 127


# --- a board's nvpmodel text and files are untrusted: linear parsers, bounded reads that never block ---------------

CONF_ATTACKS = attacks("< POWER_MODEL ID=1 NAME=", "<", "< ", "CPU_ONLINE CORE_0 1", "GPU MAX_FREQ 1", "CPU MAX_FREQ ",
                       "< PM_CONFIG DEFAULT=", "#")
CONF_ATTACKS["a real conf, then 4 MiB of one mode's lines"] = ORIN_NX_STYLE + repeated("CPU_ONLINE CORE_0 1 ")


@pytest.mark.parametrize("name", sorted(CONF_ATTACKS))
def test_the_conf_parser_is_linear_on_hostile_files(name):
    modes = timed(parse_nvpmodel_conf, CONF_ATTACKS[name])
    assert all(0 <= i <= 999 for i in modes.ids.values()) and all(len(n) <= 64 for n in modes.ids)


@pytest.mark.parametrize("name", sorted(QUERY_ATTACKS := attacks("NV Power Mode: ", "NV Power Mode: 15W\n0\n")))
def test_the_query_parser_is_linear_on_hostile_answers(name):
    mode, mode_id = timed(parse_nvpmodel_query, QUERY_ATTACKS[name])
    assert mode in (None, "15W") and mode_id in (None, 0)


def test_hostile_sysfs_clocks_are_bounded_and_never_block(tmp_path):
    cpu = tmp_path / "sys/devices/system/cpu"
    (cpu / "cpu0/cpufreq").mkdir(parents=True)
    (cpu / "online").write_text("0-99999999999999\n")  # no board has that many cores
    (cpu / "cpu0/cpufreq/scaling_max_freq").write_text("1" * (4 << 20))
    os.mkfifo(cpu / "cpu0/cpufreq/scaling_cur_freq")  # a plain read waits for a writer forever
    gpu = tmp_path / "sys/class/devfreq/17000000.gpu"
    gpu.mkdir(parents=True)
    (gpu / "max_freq").write_text("918000000\n")
    os.mkfifo(gpu / "cur_freq")
    clocks = unblocked(read_clocks, tmp_path)
    assert clocks == {"cpu_online": None, "cpu_cur_khz": None, "cpu_max_khz": None, "gpu_cur_hz": None,
                      "gpu_max_hz": 918000000, "emc_hz": None}


def _local_control(conf) -> ModeControl:
    return ModeControl(LocalShell(), "jetson@nx", conf_path=str(conf), as_root=True)


def test_a_fifo_at_the_conf_is_refused_at_once_naming_the_file(tmp_path):
    conf = tmp_path / "nvpmodel.conf"
    os.mkfifo(conf)  # `cat` would block on the board until the host gives up, and stay blocked there
    err = unblocked(_local_control(conf).modes, limit_s=5.0)
    assert isinstance(err, BenchmarkError) and "\n" not in str(err)
    assert f"{conf} is not a regular file" in err.message and "nvpmodel.conf" in err.hint


def test_a_huge_conf_is_refused_naming_the_file_and_its_limit(tmp_path):
    conf = tmp_path / "nvpmodel.conf"
    conf.write_text(ORIN_NX_STYLE + "#" * (8 << 20))
    err = timed(_local_control(conf).modes, limit_s=5.0)
    assert isinstance(err, BenchmarkError) and f"{conf} is over the 1 MiB" in err.message


def test_a_conf_behind_a_symlink_is_read_and_a_missing_one_named(tmp_path):
    real = tmp_path / "nvpmodel_p3767_0000.conf"
    real.write_text(ORIN_NX_STYLE)
    (tmp_path / "nvpmodel.conf").symlink_to(real)  # as on L4T
    assert _local_control(tmp_path / "nvpmodel.conf").modes().ids == {"MAXN": 0, "10W": 1}
    with pytest.raises(BenchmarkError, match=r"cannot read .*/absent.conf \(no such file\)"):
        _local_control(tmp_path / "absent.conf").modes()
