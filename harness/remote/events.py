"""What a deploy reports while it works, as typed values: one class per event, made in this module's types only,
rendered in one place (``cli/_deploy_progress.DeployProgress`` and ``CampaignProgress``) and journalled by a campaign
(its ``name`` and ``as_dict()``). A handler is ``Callable[[DeployEvent], None]``."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Callable


@dataclass(frozen=True)
class DeployEvent:
    @property
    def name(self) -> str:
        """The event's name in a campaign journal (``link_lost``, ``power_mode``, ...)."""
        return getattr(self, "NAME", None) or re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Preflight(DeployEvent):
    checks: tuple  # preflight.Check


@dataclass(frozen=True)
class SequenceBytes(DeployEvent):
    sent: int
    total: int


@dataclass(frozen=True)
class ImageBytes(DeployEvent):
    read: int  # of the image
    total: int | None
    sent: int  # compressed bytes on the wire
    seconds: float


@dataclass(frozen=True)
class Shipped(DeployEvent):
    info: dict  # the sequence (sent, skipped, files kept) and the image (skipped, bytes_sent)


@dataclass(frozen=True)
class Started(DeployEvent):
    pid: int | str | None
    resume: bool


@dataclass(frozen=True)
class Reattached(DeployEvent):
    pid: int | str | None


@dataclass(frozen=True)
class Poll(DeployEvent):
    done: int
    total: int
    current: str | None  # the cell running now
    state: str | None  # the device's manifest state
    last_w: float | None  # the last finished cell's mean power
    last_temp_c: float | None
    board: dict | None = None  # the board now (remote/live.py): watts, temp_c, cpu_mhz, gpu_mhz


@dataclass(frozen=True)
class LinkLost(DeployEvent):
    error: str


@dataclass(frozen=True)
class Reconnecting(DeployEvent):
    in_s: float
    error: str


@dataclass(frozen=True)
class Reconnected(DeployEvent):
    after_s: float


@dataclass(frozen=True)
class Rebooting(DeployEvent):
    mode: str  # the power mode that needs it


@dataclass(frozen=True)
class Rebooted(DeployEvent):
    mode: str | None = None  # None: the board rebooted on its own (seen by a new boot id)


@dataclass(frozen=True)
class PowerMode(DeployEvent):
    mode: str
    id: int | None = None
    rebooted: bool = False
    restored: bool = False  # back in the profile's mode (or the one found) after a sweep


@dataclass(frozen=True)
class PowerModeNotRestored(DeployEvent):
    mode: str | None
    error: str


@dataclass(frozen=True)
class Catalogued(DeployEvent):  # the pulled run went into the results catalogue (``rows``), or why not (``problem``)
    rows: int
    problem: str | None = None


@dataclass(frozen=True)
class Farm(DeployEvent):  # the board pool: queued, leased, a board held aside, re-taken, released (harness.farm)
    text: str


@dataclass(frozen=True)
class DeviceFailed(DeployEvent):  # a campaign's: one attempt on the device failed
    NAME = "failed"
    error: str
    failures: int


@dataclass(frozen=True)
class Quarantined(DeployEvent):  # a campaign's: the device is given up on
    reason: str


Handler = Callable[[DeployEvent], None]


def ignore(event: DeployEvent) -> None:  # noqa: ARG001 - the handler of a deploy nobody watches
    return None
