"""A run on this machine from start to end, as ``remote/deploy.deploy`` is one on a device: the run directory
created (or resumed) under its lock, SIGTERM taken as an interrupt, the runner driven, and a run stopped before
its end marked ``interrupted`` so that ``--resume`` continues it. What a person sees is the command's."""

from __future__ import annotations

import signal
from dataclasses import dataclass

from harness.errors import HarnessError, Interrupted
from harness.fsutil import DirLock
from harness.measure.plan import RunPlan
from harness.measure.events import Handler as Progress
from harness.measure.runner import Runner
from harness.results.store import RunStore


@dataclass(frozen=True)
class LocalRun:
    store: RunStore
    plan: RunPlan
    records: list[dict]
    wanted_mode: str | None  # a deployed sweep's runner stopped for the host to set this power mode


def _raise_interrupt(signum, frame):  # noqa: ARG001
    raise KeyboardInterrupt


def run_here(store: RunStore, plan: RunPlan, progress: Progress | None = None, resume: bool = False) -> LocalRun:
    """Run (or resume) ``plan`` into ``store``; Interrupted (exit code 130) on Ctrl-C or SIGTERM, the finished cells
    saved and the run marked interrupted."""
    runner = Runner(store, plan, progress)  # validates the sequence before anything is written
    old = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with DirLock(store.root, "harness run"):  # one writer per run directory: a second run/--resume is refused
            if not resume:
                store.create(plan.manifest())
            records = runner.run()
    except KeyboardInterrupt:
        _mark_interrupted(store)
        raise Interrupted("interrupted: finished cells are saved", f"continue with `harness run --resume {store.root}`") \
            from None
    finally:
        signal.signal(signal.SIGTERM, old)
    waiting = store.read_manifest()
    wanted = waiting.get("wanted_mode") if waiting.get("state") == "awaiting_mode" else None
    return LocalRun(store, plan, records, wanted)


def _mark_interrupted(store: RunStore) -> None:
    """A run stopped before its runner took over (between creating the run directory and the first cell's
    bookkeeping, under load a noticeable while) is marked interrupted too, never left ``running``."""
    try:
        manifest = store.read_manifest()
        if manifest.get("state") == "running":
            manifest["state"] = "interrupted"
            store.write_manifest(manifest)
    except HarnessError:
        pass  # no manifest yet, or the disk is full: nothing to mark, the records are intact
