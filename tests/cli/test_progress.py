"""What the progress renderers print: a record's reason and a device's words are literal, never rich markup."""

from __future__ import annotations

from rich.console import Console

from harness.cli._deploy_progress import DeployProgress
from harness.cli._progress import CampaignProgress, RunProgress
from harness.remote import events as ev


def _console() -> Console:
    return Console(record=True, width=120, file=open("/dev/null", "w"))


def test_a_cells_reason_is_printed_literally():
    con = _console()
    bar = RunProgress(con)
    bar._done({"status": "failed", "cell_id": "a.yolov8n.onnx-fp16", "reason": "boom [bold]x[/] [red]"})
    bar._done({"status": "ok", "cell_id": "b.yolov8n.pytorch-fp32", "quality": {"f1": 0.5},
               "latency": {"total": {"p50_ms": 3.25}}, "duration_s": 2, "host_state": {"contended_reason": "hog [x]"}})
    text = con.export_text()
    assert "failed a.yolov8n.onnx-fp16: boom [bold]x[/] [red]" in text
    assert "ok b.yolov8n.pytorch-fp32: p50 3.2 ms, F1 0.500 (2 s) contended: hog [x]" in text


def test_a_catalogue_problem_is_one_warning_and_an_add_is_silent():
    view = DeployProgress(_console())
    assert view.line(ev.Catalogued(14)) is None
    line = view.line(ev.Catalogued(0, "not added to the results catalogue (disk full [x]): `harness results index` adds it"))
    assert line.plain.startswith("warning not added to the results catalogue (disk full [x])")


def test_a_campaigns_lines_without_a_terminal_are_words_not_dicts():
    con = _console()  # not a terminal: one line per state change
    view = CampaignProgress(con, "night")
    view("lab-nano-1", ev.Farm("re-took nano1 after the coordinator forgot it [x]"))
    view("lab-nano-1", ev.Started(4242, False))
    view("lab-nano-2", ev.DeviceFailed("ssh: timed out", 2))
    text = con.export_text()
    assert "[lab-nano-1] farm: re-took nano1 after the coordinator forgot it [x]" in text
    assert "[lab-nano-1] runner started on the device (pid 4242)" in text
    assert "[lab-nano-2] failed error ssh: timed out, failures 2" in text
    assert "{" not in text and "'text'" not in text
