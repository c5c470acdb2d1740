"""Adversarial text for the parsers of device and tool output (linear parsers: docs/architecture.md, "The trust
boundary").

Each attack is a few MiB that a linear parser gets through in milliseconds and a backtracking one in minutes
(``-{5,}\\s*X`` searched over a line of dashes is quadratic; ``\\s*\\n\\s*`` over blank lines is cubic). Tests feed
every parser of device text each one and require a sane answer or a clean refusal within ``LIMIT_S``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

ATTACK_CHARS = 4 << 20  # 4 MiB: one line far past any line cap, small enough to build in milliseconds
LINES_ATTACK_CHARS = 128 << 10  # 128 KiB of short lines: tens of thousands of lines (a per-line cost of a few us
# makes millions of lines take seconds however linear the parser; a quadratic one still takes minutes here)
LIMIT_S = 1.0  # a linear parser takes milliseconds on ATTACK_CHARS; a quadratic one, minutes


def floods(n_chars: int = ATTACK_CHARS, n_line_chars: int = LINES_ATTACK_CHARS) -> dict[str, str]:
    """One-character floods: a single line of ``n_chars``, or ``n_line_chars`` of line breaks."""
    out = {name: ch * n_chars for name, ch in (("dashes", "-"), ("spaces", " "), ("digits", "1"), ("at", "@"),
                                               ("commas", ","), ("brackets", "["), ("braces", "{"), ("tabs", "\t"),
                                               ("letters", "A"))}
    return out | {name: ch * n_line_chars for name, ch in (("newlines", "\n"), ("crs", "\r"), ("blank lines", " \n"))}


def repeated(fragment: str, n_chars: int = ATTACK_CHARS, lines: bool = False) -> str:
    """``fragment`` repeated to ``n_chars``, as one line, or (``lines``) one fragment per line."""
    unit = fragment + "\n" if lines else fragment
    return unit * max(1, n_chars // len(unit))


def attacks(*fragments: str, n_chars: int = ATTACK_CHARS, n_line_chars: int = LINES_ATTACK_CHARS) -> dict[str, str]:
    """The floods, plus each fragment repeated on one line (``n_chars``) and one per line (``n_line_chars``):
    the parser's own keywords."""
    out = floods(n_chars, n_line_chars)
    for f in fragments:
        out[f"{f[:24]!r} x n"] = repeated(f, n_chars)
        out[f"{f[:24]!r} per line"] = repeated(f, n_line_chars, lines=True)
    return out


def timed(fn: Callable, *args, limit_s: float = LIMIT_S, **kwargs):
    """``fn(*args, **kwargs)``, asserting it returned or raised within ``limit_s``; its result (or the exception
    it raised, returned rather than raised, for the test to judge)."""
    t0 = time.perf_counter()
    try:
        out = fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - a refusal is judged by the test
        out = e
    took = time.perf_counter() - t0
    assert took < limit_s, f"{getattr(fn, '__name__', fn)} took {took:.2f} s (> {limit_s:g} s): not linear"
    return out


def unblocked(fn: Callable, *args, limit_s: float = LIMIT_S, **kwargs):
    """``fn(*args, **kwargs)`` in a daemon thread, asserting it returned or raised within ``limit_s`` (for reads
    that could block: a FIFO opened for reading waits for a writer forever). Its result, or the exception."""
    import threading

    box: list = []

    def run() -> None:
        try:
            box.append(fn(*args, **kwargs))
        except Exception as e:  # noqa: BLE001 - a refusal is judged by the test
            box.append(e)

    t = threading.Thread(target=run, name="attack-unblocked", daemon=True)
    t.start()
    t.join(limit_s)
    assert box, f"{getattr(fn, '__name__', fn)} still blocked after {limit_s:g} s (a FIFO read without a bound?)"
    return box[0]
