"""Numeric settings are user input: every one is finite and within bounds a practitioner never needs to leave.

A limit value in a profile, suite or campaign file ends up in a timer (``setitimer``, a socket timeout,
``time.sleep``), in an integer (``int(min_duration_s * 1e9)``, bytes from MiB) or in a loop count. Out of
range, it used to fail every cell with ``OverflowError`` or blame the device for a host setting, far from
the file that set it. ``bounded`` refuses it where it is defined: nan, inf, a bool, a non-number or a
value outside the range is one error that shows the value given and what to write instead, e.g.
``timeouts.cell_s: inf is not allowed: use a number above 0 and at most 604800 s (7 days)``.

The upper bounds are far above any real use and far below any overflow (``threading.TIMEOUT_MAX`` and
``time_t`` timers fail near 9.2e9 s); each field's bound is chosen, and explained, where it is defined.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, ValidationError, WrapValidator
from pydantic_core import PydanticCustomError

MINUTE_S, HOUR_S, DAY_S = 60, 3600, 86400
GIB_IN_MIB, TIB_IN_MIB = 1 << 10, 1 << 20
MAX_THREADS = 4096


def shown(value: Any) -> str:
    """``value`` as a short literal for an error message (a 400-digit integer is not printed in full)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        digits = int((value.bit_length() - 1) * 0.30103)  # str() of a huge int is itself refused: count by powers
        while 10**digits <= abs(value):
            digits += 1
        return f"a {digits}-digit number"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _human(limit: float, unit: str) -> str:
    """``604800`` s as ``7 days``, ``4194304`` MiB as ``4 TiB``; empty when there is nothing shorter to say."""
    if unit == "s":
        for size, name in ((DAY_S, "day"), (HOUR_S, "hour"), (MINUTE_S, "minute")):
            if limit >= size and limit % size == 0:
                n = int(limit // size)
                return f"{n} {name}{'s' if n != 1 else ''}"
    if unit == "MiB":
        for size, name in ((TIB_IN_MIB, "TiB"), (GIB_IN_MIB, "GiB")):
            if limit >= size and limit % size == 0:
                return f"{int(limit // size)} {name}"
    return ""


def _num(x: float) -> str:
    """``604800`` not ``604800.0``, ``0.5`` as is, a large integer in full."""
    if isinstance(x, int) or float(x).is_integer():
        return str(int(x))
    return f"{x:g}"


def rule(kind: type, ge: float | None, gt: float | None, le: float | None, lt: float | None = None, unit: str = "",
         multiple_of: int | None = None) -> str:
    """What a valid value is, in words: ``a whole number from 1 to 100``, ``a number above 0 and at most 60 s``."""
    top = le if le is not None else lt
    human = _human(top, unit)
    tail = f" {unit}" if unit else ""
    tail += f" ({human})" if human else ""
    if kind is int:
        lo = ge if ge is not None else gt + 1
        hi = le if le is not None else lt - 1
        what = f"a multiple of {multiple_of}" if multiple_of else "a whole number"
        return f"{what} from {_num(lo)} to {_num(hi)}{tail}"
    if ge is not None and le is not None:
        return f"a number from {_num(ge)} to {_num(le)}{tail}"
    low = f"above {_num(gt)}" if gt is not None else f"from {_num(ge)}"
    high = f"at most {_num(le)}" if le is not None else f"below {_num(lt)}"
    return f"a number {low} and {high}{tail}"


def _refuse(what: str):
    def check(value: Any, handler):
        if isinstance(value, bool):  # YAML's yes/no/true are not numbers (pydantic would take true as 1)
            raise PydanticCustomError("out_of_range", "{given} is not allowed: use {rule}",
                                      {"given": shown(value), "rule": what})
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("out_of_range", "{given} is not allowed: use {rule}",
                                      {"given": shown(value), "rule": what}) from None
    return WrapValidator(check)


def bounded(kind: type, *, ge: float | None = None, gt: float | None = None, le: float | None = None,
            lt: float | None = None, unit: str = "", multiple_of: int | None = None) -> Any:
    """``kind`` (int or float), finite, above ``ge`` | ``gt`` and below ``le`` | ``lt``; an ``Annotated`` type for a
    model field. The constraints stay in the JSON schema; a value outside them fails with the value and the rule."""
    if (ge is None) == (gt is None) or (le is None) == (lt is None):
        raise ValueError("bounded needs one lower bound (ge or gt) and one upper bound (le or lt)")
    constraints = Field(ge=ge, gt=gt, le=le, lt=lt, multiple_of=multiple_of,
                        **({"allow_inf_nan": False} if kind is float else {}))
    return Annotated[kind, constraints, _refuse(rule(kind, ge, gt, le, lt, unit, multiple_of))]


# inference threads: a whole number, or "auto" (the CPUs this process may use)
ThreadCount = Annotated[int, Field(ge=1, le=MAX_THREADS)]
Threads = Annotated[Union[ThreadCount, Literal["auto"]], _refuse(f"a whole number from 1 to {MAX_THREADS}, or auto")]
