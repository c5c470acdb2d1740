"""A deploy's live view: a bar over the cells, the ETA from this deploy's measured cells, the board now."""

import io

from rich.console import Console

from harness.cli._deploy_progress import CellClock, DeployProgress, eta_text
from harness.remote import events as ev

BOARD = {"watts": 7.24, "temp_c": 54.2, "cpu_mhz": 1510.0, "gpu_mhz": 624.0}


def test_the_eta_is_the_measured_time_per_cell_times_the_cells_left():
    clock = CellClock()
    assert clock.eta_s(2, 10, now=100.0) is None  # nothing measured yet: no guess
    assert clock.eta_s(2, 10, now=130.0) is None
    assert clock.eta_s(4, 10, now=160.0) == 180.0  # 2 cells in 60 s, 6 left
    assert eta_text(None, 2, 10) == "ETA after the first cell"
    assert eta_text(185, 4, 10) == "ETA 3 min 05 s" and eta_text(4000, 1, 10) == "ETA 1 h 06 min"
    assert eta_text(5, 10, 10) == "done"


def test_piped_output_gets_lines_with_the_eta_and_the_board_at_most_every_30_s():
    buf = io.StringIO()
    view = DeployProgress(Console(file=buf, width=120, force_terminal=False))
    view(ev.Poll(0, 4, "q.yolov8n.onnx-fp32", "running", None, None, BOARD))
    view(ev.Poll(0, 4, "q.yolov8n.onnx-fp32", "running", None, None, BOARD))
    out = buf.getvalue()
    assert "0/4 cells done, running q.yolov8n.onnx-fp32, ETA after the first cell" in out
    assert out.count("board now: 7.2 W  54 °C  CPU 1510 MHz  GPU 624 MHz") == 1


def test_a_terminal_gets_a_bar_with_the_cell_the_eta_and_the_board():
    buf = io.StringIO()
    con = Console(file=buf, width=160, force_terminal=True, color_system=None)
    view = DeployProgress(con)
    view.clock.t0, view.clock.done0 = 0.0, 0  # as if following began long ago: 1 cell measured
    view(ev.Poll(1, 4, "q.yolov8n.onnx-fp16", "running", None, None, BOARD))
    view.cells.refresh()
    shown = buf.getvalue()
    view.close()
    assert "1/4" in shown and "running q.yolov8n.onnx-fp16" in shown and "board now: 7.2 W  54 °C" in shown and "ETA" in shown


def test_at_80_columns_the_counts_and_eta_keep_their_place_and_the_cell_name_gives_way():
    import re

    buf = io.StringIO()
    view = DeployProgress(Console(file=buf, width=80, force_terminal=True, color_system=None))
    view(ev.Poll(1, 12, "quantization.reference.onnx-int8-p30-ft+MAXN_SUPER", "running", None, None, BOARD))
    view.cells.refresh()
    view.close()
    lines = [x for x in re.split(r"[\r\n]", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())) if x.strip()]
    bar, board = lines[-2], lines[-1]
    assert bar.startswith("cells ") and " 1/12 " in bar and "ETA" in bar and bar.endswith("…") and len(bar) <= 80
    assert board == "board now: 7.2 W  54 °C  CPU 1510 MHz  GPU 624 MHz"
