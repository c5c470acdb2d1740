"""What a run on this machine reports while it works, as typed values (``Runner``'s ``progress``): rendered by
``cli/_progress.RunProgress``. A handler is ``Callable[[RunEvent], None]``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class RunEvent:
    pass


@dataclass(frozen=True)
class RunStarted(RunEvent):
    total: int  # cells in the run
    todo: int  # cells left to run (a resumed run has fewer)
    run_dir: str


@dataclass(frozen=True)
class CellStarted(RunEvent):
    index: int  # 1-based, of ``total``
    total: int
    cell: object  # config.suite.Cell


@dataclass(frozen=True)
class Stage(RunEvent):
    text: str  # what the cell is doing now ("exporting ONNX", "timing (at least 6 s)")


@dataclass(frozen=True)
class CellDone(RunEvent):
    record: dict


@dataclass(frozen=True)
class HostBusy(RunEvent):
    contended_reason: str | None  # what else the machine did at the start
    threads_warning: str | None  # more inference threads than free cores


Handler = Callable[[RunEvent], None]


def ignore(event: RunEvent) -> None:  # noqa: ARG001 - the handler of a run nobody watches
    return None
