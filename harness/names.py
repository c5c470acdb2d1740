"""Names that become file names, directory names or command arguments: one rule for all of them.

A run id, a suite, profile, campaign or experiment name, a cell id: each ends up
as a path component on this host or on a device. ``SAFE_NAME`` admits letters,
digits and ``_ . + -``, starting with a letter or digit: never ``/``, never ``..``
alone, never a leading ``-`` that a command would read as an option.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

SAFE_NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,199}$"
SafeName = Annotated[str, StringConstraints(pattern=SAFE_NAME_RE)]

_SAFE = re.compile(SAFE_NAME_RE)


def is_safe_name(value: str) -> bool:
    return bool(_SAFE.match(value or ""))


def safe_name_hint(what: str) -> str:
    return f"a {what} may hold letters, digits and _ . + - (starting with a letter or digit), at most 200 characters"


def require_safe_name(value: str, what: str, error: type) -> str:
    """``value`` if it is a safe name, else ``error`` (a HarnessError class) saying what is allowed."""
    if not is_safe_name(value):
        raise error(f"{what} {value[:80]!r} is not a safe name", safe_name_hint(what))
    return value


def did_you_mean(value: str, known) -> str:
    """`` (did you mean 'orin-nano'?)`` for the closest of ``known`` names, '' when none is close."""
    import difflib

    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
