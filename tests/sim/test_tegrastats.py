"""The simulated tegrastats prints lines the harness's tegrastats parser reads as a board's."""

import subprocess
import sys

from harness.sim.board_tree import ORIN_NANO_JP6, build
from harness.telemetry.backends.tegrastats import parse_line


def test_tegrastats_lines_parse_with_the_boards_rails_and_temperatures(tmp_path):
    build(tmp_path / "board", ORIN_NANO_JP6)
    p = subprocess.Popen([sys.executable, "-m", "harness.sim.tegrastats", "--interval", "50"], stdout=subprocess.PIPE,
                         text=True, env={"HARNESS_SYSFS_ROOT": str(tmp_path / "board"), "PATH": "/usr/bin:/bin"})
    try:
        lines = [p.stdout.readline() for _ in range(2)]
    finally:
        p.kill()
        p.wait()
    parsed = parse_line(lines[1])
    assert parsed["rails_mw"] == {"VDD_IN": 6000, "VDD_CPU_GPU_CV": 2000, "VDD_SOC": 1500}
    assert parsed["total_mw"] == 6000 and parsed["scope"] == "module_input:VDD_IN"
    assert parsed["temps_c"]["cpu"] == 48.5 and "cv0" not in parsed["temps_c"]  # the offline zone is left out
    assert parsed["clocks_mhz"]["cpu_max"] == 1510 and parsed["clocks_mhz"]["gpu"] == 306
