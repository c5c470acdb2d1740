"""The board now, for a deploy's live line: one tegrastats reading over the link, hostile output refused."""

from pathlib import Path

from harness.errors import DeviceDataError
from harness.remote.live import board_text, read_board, reading
from harness.subproc import CommandResult
from harness.testing.fakes.connection import FakeConnection

LINES = Path(__file__).resolve().parents[1] / "boards" / "files" / "tegrastats"
TEGRA = ["timeout", "-s", "INT"]


def test_a_reading_has_the_boards_watts_hottest_zone_and_clocks():
    now = reading((LINES / "xavier_nx_jp5.1.2.txt").read_text())
    assert now is not None and 1.0 < now["watts"] < 20.0 and 30.0 < now["temp_c"] < 100.0
    assert now["cpu_mhz"] >= 1000 and now["gpu_mhz"] > 0
    assert board_text({"watts": 7.24, "temp_c": 54.2, "cpu_mhz": 1510, "gpu_mhz": None}) == "7.2 W  54 °C  CPU 1510 MHz"


def test_read_board_runs_tegrastats_briefly_and_takes_its_last_line():
    line = (LINES / "xavier_nx_jp5.1.2.txt").read_text().splitlines()[0]
    conn = FakeConnection().script(TEGRA, CommandResult("tegrastats", 0, f"{line}\n{line.replace('VDD_IN 2763', 'VDD_IN 9000')}\n", ""))
    now = read_board(conn)
    assert now["watts"] == 9.0
    argv = conn.commands[-1]
    assert "tegrastats" in argv and argv[:3] == TEGRA  # bounded on the board too


def test_garbage_implausible_numbers_and_floods_give_no_reading_not_an_error():
    assert reading("\x1b[31mnot tegrastats\n" * 100) is None
    assert reading("VDD_IN 999999999mW/1mW CPU@9999C") is None  # 1 MW and 9999 °C are not a board
    flood = FakeConnection().script(TEGRA, lambda argv, stdin: (_ for _ in ()).throw(DeviceDataError("too much output")))
    assert read_board(flood) is None
    missing = FakeConnection().script(TEGRA, CommandResult("tegrastats", 127, "", "tegrastats: not found"))
    assert read_board(missing) is None
