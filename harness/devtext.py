"""Text a device or a tool wrote (docs/architecture.md, "The trust boundary"): bounded lines, small files read
without blocking.

Parsers of such text (tegrastats, nvpmodel, TensorRT and trtexec logs, L4T release files, sysfs attributes,
MOT tables) split it here, so that none does more than linear work in what it was given: a line longer than
``MAX_LINE_CHARS`` is dropped (no real line of any of them comes near it; a 4 MiB line of dashes is an attack or
a broken tool, not data), and a small file is read only when it is a regular file, at most ``max_bytes`` of it,
opened without waiting on a FIFO. Files the user names and wants refused loudly go through
``fsutil.read_bounded_text`` instead; this module is for facts that may simply be absent.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import IO

MAX_LINE_CHARS = 64 << 10  # 64 KiB: the longest line any parser here looks at
SMALL_FILE_BYTES = 4 << 10  # 4 KiB: a sysfs attribute is at most one page


def lines(text: str, max_line_chars: int = MAX_LINE_CHARS) -> list[str]:
    """``text.splitlines()`` without the lines longer than ``max_line_chars``."""
    return [ln for ln in text.splitlines() if len(ln) <= max_line_chars]


def first_line(text: str | None, max_line_chars: int = MAX_LINE_CHARS) -> str:
    """The first line of ``text`` (``""`` when there is none or it is longer than ``max_line_chars``); only the
    start of ``text`` is looked at."""
    head = (text or "")[:max_line_chars + 2].splitlines()
    return head[0] if head and len(head[0]) <= max_line_chars else ""


def stream_lines(stream: IO[str], max_line_chars: int = MAX_LINE_CHARS) -> Iterator[str]:
    """Lines of a text stream (a child's stdout) as they arrive, newline kept; a line longer than
    ``max_line_chars`` is dropped through its newline, never held whole in memory."""
    dropping = False
    while chunk := stream.readline(max_line_chars + 1):
        ended = chunk.endswith("\n")
        too_long = not ended and len(chunk) > max_line_chars
        if not dropping and not too_long:
            yield chunk
        dropping = (dropping or too_long) and not ended


def open_regular(path: str | os.PathLike) -> int:
    """A read-only descriptor of ``path`` when it is a regular file; OSError otherwise (missing, unreadable, or a
    FIFO, device, socket or directory: opened non-blocking, so a FIFO without a writer never stalls the caller)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise OSError(f"{path}: not a regular file")
    return fd


def read_small(path: str | os.PathLike, max_bytes: int = SMALL_FILE_BYTES) -> str:
    """At most ``max_bytes`` of a regular file as text (undecodable bytes replaced); OSError as ``open_regular``."""
    fd = open_regular(path)
    try:
        parts, left = [], max_bytes
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts).decode(errors="replace")
    finally:
        os.close(fd)


def read_small_or_none(path: str | os.PathLike, max_bytes: int = SMALL_FILE_BYTES) -> str | None:
    """``read_small``, or None where the file is absent, unreadable or not a regular file."""
    try:
        return read_small(path, max_bytes)
    except OSError:
        return None
