import json
import re

import pytest

from harness.testing.fakes import sysfs as fake_sysfs
from tests.cli.conftest import assert_user_error
from tests.telemetry.backends.test_tegrastats import AGX_ORIN_JP5, NANO_JP4, ORIN_NANO_JP6


def test_probe_here_says_why_nothing_is_available(run_harness, tmp_path):
    p = run_harness("telemetry", "probe", "--json", env={"HARNESS_SYSFS_ROOT": str(tmp_path)})
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["selected"] == "none"
    by = {b["name"]: b for b in out["backends"]}
    assert set(by) == {"sysfs_ina3221", "jtop", "tegrastats", "nvml", "rapl"}
    assert not by["rapl"]["available"] and "powercap" in by["rapl"]["reason"]


def test_probe_finds_a_jetson_tree(run_harness, tmp_path):
    fake_sysfs.ina3221_hwmon(tmp_path, fake_sysfs.ORIN_NANO_RAILS)
    p = run_harness("telemetry", "probe", "--profile", "orin-nano", env={"HARNESS_SYSFS_ROOT": str(tmp_path)})
    assert p.returncode == 0 and "selected: sysfs_ina3221" in p.stdout


def test_parse_tegrastats_json(run_harness, tmp_path):
    log = tmp_path / "t.log"
    log.write_text("\n".join([NANO_JP4, ORIN_NANO_JP6, AGX_ORIN_JP5, "not a tegrastats line"]) + "\n")
    p = run_harness("telemetry", "parse-tegrastats", log, "--json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)["rows"]
    assert [r["total_mw"] for r in rows] == [2132.0, 3913.0, 7056.0]
    assert [r["scope"].partition(":")[0] for r in rows] == ["module_input", "module_input", "module_rail_sum"]
    assert rows[1]["rails_mw"]["VDD_SOC"] == 1238.0 and rows[2]["temps_c"]["tj"] == 44.343
    p = run_harness("telemetry", "parse-tegrastats", log)
    assert p.returncode == 0 and "3 lines" in p.stdout


def test_parse_tegrastats_bad_input(run_harness, tmp_path):
    empty = tmp_path / "e.log"
    empty.write_text("nothing here\n")
    assert_user_error(run_harness("telemetry", "parse-tegrastats", empty), "no tegrastats lines found")
    assert_user_error(run_harness("telemetry", "parse-tegrastats", tmp_path / "missing.log"), "cannot read")


def test_record_live_on_a_fake_tree(run_harness, tmp_path):
    fake_sysfs.ina3221_hwmon(tmp_path, fake_sysfs.ORIN_NANO_RAILS)
    env = {"HARNESS_SYSFS_ROOT": str(tmp_path)}
    p = run_harness("telemetry", "record", "--seconds", "0.5", "--backend", "sysfs_ina3221", "--csv", tmp_path / "s.csv", env=env)
    assert p.returncode == 0, p.stderr
    csv = (tmp_path / "s.csv").read_text()
    assert csv.startswith("t_s,total_mw")
    # 5 W over the window between the marks: 0.5 s asked, a little more when the sleep overruns on a busy machine
    marks = dict(line.split()[2:4] for line in csv.splitlines() if line.startswith("# mark "))
    window_s = float(marks["end"]) - float(marks["start"])
    energy_j = float(re.search(r"energy: ([0-9.]+) J", p.stdout)[1])
    assert "power: mean 5.000 W" in p.stdout and window_s >= 0.5 and energy_j == pytest.approx(5.0 * window_s, abs=1e-3)
    assert_user_error(run_harness("telemetry", "record", "--seconds", "0.2", "--backend", "rapl", env=env),
                      "rapl: not available here")
    assert_user_error(run_harness("telemetry", "record", "--backend", "bogus", env=env), "unknown telemetry backend 'bogus'")
