"""The output owner's prose lines: wrapped at words in a terminal, whole when piped (logs and grep see one line)."""

import io

from rich.console import Console

from harness.cli._console import Output

NOTE = "simulated board: not a measurement (sim-orin-nano/t80: `harness sim`, a loopback board whose power follows a model of its load)"


def _out(terminal: bool) -> tuple[Output, io.StringIO]:
    out, buf = Output(), io.StringIO()
    out.con = Console(file=buf, width=80, force_terminal=terminal, color_system=None)
    return out, buf


def test_a_terminal_wraps_prose_at_words_and_a_pipe_keeps_it_whole():
    out, buf = _out(terminal=True)
    out.line(NOTE)
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2 and all(len(x) <= 80 for x in lines)
    assert " ".join(x.strip() for x in lines) == NOTE  # broken between words only
    out, buf = _out(terminal=False)
    out.line(NOTE)
    assert buf.getvalue() == NOTE + "\n"
