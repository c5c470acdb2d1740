"""One line of a device's checklist (``harness doctor``, a deploy's preflight)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Check:
    """``ok`` False stops a deploy; ``info`` marks a line that reports without judging (shown as ``info``)."""

    name: str
    ok: bool
    detail: str
    info: bool = False

    @property
    def mark(self) -> str:
        return "info" if self.info else ("ok" if self.ok else "FAIL")
