"""The shell commands README.md and docs/ show, as a test reads them: every line of a ```bash block.

Comments are dropped, a line that starts with whitespace continues the one before (a long synopsis or a quoted
SQL query), and a synopsis's optional parts are expanded: ``[--sort energy|latency]`` becomes ``--sort energy``
(the first alternative), so the line parses as a real command. Placeholders (``<run-id>``, ``RUN_DIR``, ``FILE``)
are filled in by the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_OPTIONAL = re.compile(r"\[(--?[^\[\]]*)\]")


@dataclass(frozen=True)
class DocCommand:
    file: str  # relative to the repository root
    line: int  # 1-based, the first line of the command
    text: str  # as written (continuations joined with a space, comment dropped)


def doc_files(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def _strip_comment(line: str) -> str:
    """``line`` without a trailing ``# comment`` outside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def commands(root: Path) -> list[DocCommand]:
    found: list[DocCommand] = []
    for path in doc_files(root):
        in_bash = False
        for no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if raw.startswith("```"):
                in_bash = raw.strip() == "```bash" if not in_bash else False
                continue
            if not in_bash or not raw.strip() or raw.lstrip().startswith("#"):
                continue
            text = _strip_comment(raw)
            if raw[0].isspace() and found and found[-1].file == str(path.relative_to(root)):
                last = found.pop()
                found.append(DocCommand(last.file, last.line, f"{last.text} {text.strip()}"))
            else:
                found.append(DocCommand(str(path.relative_to(root)), no, text))
    return found


def expand_synopsis(text: str) -> str:
    """``[--x A|B]`` -> ``--x A`` and ``A|B`` values -> ``A`` (outside quotes), repeatedly."""
    while True:
        new = _OPTIONAL.sub(lambda m: m.group(1), text)
        if new == text:
            break
        text = new
    out, quote = [], None
    for word in re.split(r"(\s+)", text):
        if quote is None and not word.startswith(("'", '"')) and "|" in word and not word.startswith("|"):
            word = word.split("|", 1)[0]
        for ch in word:
            if ch in "'\"":
                quote = None if quote == ch else (quote or ch)
        out.append(word)
    return "".join(out)
