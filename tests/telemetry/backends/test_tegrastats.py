"""tegrastats parsing with real lines from several boards (public captures), plus the live sampler."""

import os
import stat
import sys
import time

import pytest

from harness.telemetry.backends.tegrastats import TegrastatsSampler, parse_line, parse_text
from harness.testing.attacks import attacks, timed

# Jetson Nano, JetPack 4, run as root (no units; POM_5V_IN is the module input).
NANO_JP4 = ("RAM 1655/3956MB (lfb 311x4MB) SWAP 0/1978MB (cached 0MB) IRAM 0/252kB(lfb 252kB) "
            "CPU [12%@102,10%@102,11%@102,12%@102] EMC_FREQ 3%@1600 GR3D_FREQ 0%@76 APE 25 PLL@36.5C CPU@39C "
            "iwlwifi@44C PMIC@50C GPU@37C AO@47.5C thermal@38C POM_5V_IN 2132/2132 POM_5V_GPU 78/78 POM_5V_CPU 275/275")
# Jetson Nano under a stress test: sub-rails exceed the input reading; the input is still the total.
NANO_JP4_LOAD = ("RAM 2020/3964MB (lfb 19x4MB) SWAP 43/1982MB (cached 1MB) CPU [100%@1479,100%@1479,100%@1479,100%@1479] "
                 "EMC_FREQ 0% GR3D_FREQ 83% PLL@42C CPU@48C PMIC@100C GPU@46C AO@53.5C thermal@48C "
                 "POM_5V_GPU 8791/8742 POM_5V_IN 3075/3086 POM_5V_CPU 3109/3134")
# Jetson Nano with two CPUs off.
NANO_OFF = ("RAM 1409/3964MB (lfb 28x4MB) SWAP 0/1982MB (cached 0MB) IRAM 0/252kB(lfb 252kB) CPU [22%@518,67%@518,off,off] "
            "EMC_FREQ 0%@1600 GR3D_FREQ 0%@76 APE 25 PLL@28.5C CPU@32C PMIC@50C GPU@30.5C AO@39.5C thermal@31.25C "
            "POM_5V_IN 2003/2003 POM_5V_GPU 0/0 POM_5V_CPU 320/320")
# Orin Nano, JetPack 6, non-root (no EMC_FREQ, no GPU @freq); note the unitless average on one rail.
ORIN_NANO_JP6 = ("12-23-2024 22:54:11 RAM 3162/7620MB (lfb 4x2MB) SWAP 0/3810MB (cached 0MB) "
                 "CPU [1%@729,0%@729,0%@729,0%@729,off,off] GR3D_FREQ 1% cpu@62.843C soc2@61.968C soc0@60.625C "
                 "gpu@61.687C tj@62.843C soc1@61.687C VDD_IN 3913mW/3922mW VDD_CPU_GPU_CV 598mW/598 VDD_SOC 1238mW/1237mW")
# AGX Orin 64GB, JetPack 5, root: GPU clusters @[..], offline -256C sensors, NC channels, no VDD_IN.
AGX_ORIN_JP5 = ("04-11-2025 10:36:27 RAM 4321/62801MB (lfb 1759x4MB) SWAP 19/31400MB (cached 0MB) "
                "CPU [0%@729,0%@729,0%@729,0%@729,0%@729,0%@729,0%@729,0%@729,0%@729,0%@729,0%@729,0%@729] "
                "EMC_FREQ 0%@2133 GR3D_FREQ 0%@[0,0] VIC_FREQ 729 APE 174 CV0@-256C CPU@44.562C Tboard@32C "
                "SOC2@40.093C Tdiode@33C SOC0@41.093C CV1@-256C GPU@-256C tj@44.343C SOC1@41.25C CV2@-256C "
                "VDD_GPU_SOC 2340mW/2340mW VDD_CPU_CV 390mW/390mW VIN_SYS_5V0 4025mW/4025mW NC 0mW/0mW "
                "VDDQ_VDD2_1V8AO 301mW/301mW NC 0mW/0mW")
# AGX Orin, JetPack 6, non-root.
AGX_ORIN_JP6 = ("10-05-2026 21:03:35 RAM 5137/62841MB (lfb 2x4MB) SWAP 0/31420MB (cached 0MB) "
                "CPU [1%@729,25%@729,1%@729,1%@729,2%@729,1%@729,0%@729,0%@729,2%@729,14%@729,1%@729,0%@729] "
                "GR3D_FREQ 0% cpu@52.875C soc2@48.656C soc0@49.062C tj@52.875C soc1@49.031C "
                "VDD_GPU_SOC 3178mW/3178mW VDD_CPU_CV 794mW/794mW VIN_SYS_5V0 4543mW/4543mW")
# JetPack 7 shape (three values per rail, two per temperature). No public capture was found:
# this line is constructed from the format description, not recorded.
JP7_SHAPED = ("RAM 8123/125772MB (lfb 3x4MB) SWAP 0/0MB (cached 0MB) CPU [3%@972,1%@972,off] GR3D_FREQ 12%@[1575] "
              "cpu@45.5C/46.1C gpu@44.0C/44.2C tj@46.1C/47.0C VDD_GPU 4200mW/4100mW/5200mW "
              "VDD_CPU_SOC_MSS 3100mW/3000mW/3600mW VIN 21500mW/21000mW/26000mW")


def test_nano_input_rail_is_the_total_without_units():
    p = parse_line(NANO_JP4)
    assert (p["total_mw"], p["scope"]) == (2132.0, "module_input:POM_5V_IN")
    assert p["rails_mw"] == {"POM_5V_IN": 2132.0, "POM_5V_GPU": 78.0, "POM_5V_CPU": 275.0}
    assert p["temps_c"]["thermal"] == 38.0 and p["temps_c"]["AO"] == 47.5
    assert p["clocks_mhz"] == {"gpu": 76.0, "emc": 1600.0, "cpu_max": 102.0}


def test_nano_subrails_are_never_added_to_the_input():
    p = parse_line(NANO_JP4_LOAD)
    assert p["total_mw"] == 3075.0  # the current value, not the average, and not a sum
    assert p["gpu_util_pct"] == 83.0 and "gpu" not in p["clocks_mhz"]


def test_off_cpus():
    assert parse_line(NANO_OFF)["clocks_mhz"]["cpu_max"] == 518.0


def test_orin_nano_takes_current_values():
    p = parse_line(ORIN_NANO_JP6)
    assert (p["total_mw"], p["scope"]) == (3913.0, "module_input:VDD_IN")
    assert p["rails_mw"] == {"VDD_IN": 3913.0, "VDD_CPU_GPU_CV": 598.0, "VDD_SOC": 1238.0}
    assert p["temps_c"]["tj"] == 62.843 and "RAM" not in p["rails_mw"] and "SWAP" not in p["rails_mw"]
    assert "emc" not in p["clocks_mhz"] and p["gpu_util_pct"] == 1.0


def test_agx_orin_is_a_rail_sum_without_nc_and_offline_sensors():
    p = parse_line(AGX_ORIN_JP5)
    assert p["scope"] == "module_rail_sum:VDDQ_VDD2_1V8AO+VDD_CPU_CV+VDD_GPU_SOC+VIN_SYS_5V0"
    assert p["rails_mw"] == {"VDD_GPU_SOC": 2340.0, "VDD_CPU_CV": 390.0, "VIN_SYS_5V0": 4025.0, "VDDQ_VDD2_1V8AO": 301.0}
    assert p["total_mw"] == 2340 + 390 + 4025 + 301
    assert "CV0" not in p["temps_c"] and "GPU" not in p["temps_c"] and p["temps_c"]["tj"] == 44.343
    assert p["clocks_mhz"]["gpu"] == 0.0 and p["clocks_mhz"]["emc"] == 2133.0
    q = parse_line(AGX_ORIN_JP6)
    assert q["total_mw"] == 3178 + 794 + 4543 and q["clocks_mhz"] == {"cpu_max": 729.0}


def test_jetpack7_shape_takes_the_first_value():
    p = parse_line(JP7_SHAPED)
    assert p["rails_mw"] == {"VDD_GPU": 4200.0, "VDD_CPU_SOC_MSS": 3100.0, "VIN": 21500.0}
    assert (p["total_mw"], p["scope"]) == (21500.0, "module_input:VIN")  # VIN is Thor's input: never plus its sub-rails
    assert p["temps_c"] == {"cpu": 45.5, "gpu": 44.0, "tj": 46.1}
    assert p["clocks_mhz"]["gpu"] == 1575.0


def test_parse_text_skips_noise():
    rows = parse_text("\n".join(["", "garbage", NANO_JP4, ORIN_NANO_JP6]))
    assert [r["total_mw"] for r in rows] == [2132.0, 3913.0]


def _tegrastats_on_path(tmp_path, monkeypatch, first: str = ""):
    """A ``tegrastats`` first on PATH that writes ``first`` (Python source of a write), then a real line every 20 ms."""
    exe = tmp_path / "tegrastats"
    exe.write_text(f"#!{sys.executable}\nimport sys, time\n{first}while True:\n"
                   f"    print({ORIN_NANO_JP6!r}, flush=True)\n    time.sleep(0.02)\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    return exe


@pytest.fixture
def fake_tegrastats(tmp_path, monkeypatch):
    return _tegrastats_on_path(tmp_path, monkeypatch)


def test_sampler_runs_tegrastats_and_stops_it(fake_tegrastats):
    s = TegrastatsSampler(interval_ms=20)
    assert s.available().ok and s.available().reason == str(fake_tegrastats)
    s.start()
    time.sleep(0.6)
    s.mark("x")
    tr = s.stop()
    assert len(tr.samples) >= 5 and tr.scope == "module_input:VDD_IN"
    assert {x.total_mw for x in tr.samples} == {3913.0}


def test_missing_tegrastats(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    a = TegrastatsSampler().available()
    assert not a.ok and "tegrastats not on PATH" in a.reason


# --- tegrastats' text is the device's: the parser is linear on anything (docs/architecture.md) ------------------------

TEGRASTATS_ATTACKS = attacks("GR3D_FREQ ", "GR3D_FREQ 1%@[", "GR3D_FREQ 1%@1,", "EMC_FREQ 1%@", "CPU [", "CPU [1%@",
                             "VDD_IN ", "VDD_IN 1/", "VDD_IN 1mW/1", "a@", "a@1", "a@1/", "a@1C/", "RAM 1/1MB ",
                             ORIN_NANO_JP6 + " ")
TEGRASTATS_ATTACKS["a real line, then 4 MiB of digits"] = ORIN_NANO_JP6 + " " + "1" * (4 << 20)


@pytest.mark.parametrize("name", sorted(TEGRASTATS_ATTACKS))
def test_the_parser_is_linear_on_hostile_lines(name):
    text = TEGRASTATS_ATTACKS[name]
    rows = timed(parse_text, text)
    assert isinstance(rows, list) and all(r["total_mw"] is None or r["total_mw"] >= 0 for r in rows)
    one = timed(parse_line, text)
    assert one is None or isinstance(one, dict)


def test_a_line_past_the_cap_is_not_data():
    assert parse_line(ORIN_NANO_JP6 + " " + "VDD_IN 1/1 " * 10_000) is None
    assert parse_text("\n".join([ORIN_NANO_JP6, "GR3D_FREQ 5% " * 10_000, NANO_JP4]))[1]["total_mw"] == 2132.0


def test_hostile_cpu_and_gpu_clocks_are_dropped_not_raised():
    p = timed(parse_line, "CPU [1%@abc,2%@,off,3%@1190,x@y@z] GR3D_FREQ 5%@[,,] VDD_IN 100/100")
    assert p["clocks_mhz"] == {"cpu_max": 1190.0} and p["gpu_util_pct"] == 5.0 and p["total_mw"] == 100.0


@pytest.fixture
def hostile_tegrastats(tmp_path, monkeypatch):
    """A tegrastats that first writes 8 MiB without a newline, then real lines."""
    return _tegrastats_on_path(tmp_path, monkeypatch, "sys.stdout.write('@' * (8 << 20))\n")


def test_the_sampler_drops_an_endless_line_and_keeps_reading(hostile_tegrastats):
    s = TegrastatsSampler(interval_ms=20)
    s.start()
    time.sleep(1.0)
    tr = s.stop()
    assert len(tr.samples) >= 3 and {x.total_mw for x in tr.samples} == {3913.0}
