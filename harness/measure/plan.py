"""What a run is: its id, suite, profile and sequence (``RunPlan``, kept in the manifest so a resume can rebuild
it), and the decoded frame window every cell of the run shares (``FrameCache``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from harness.config.profiles import DeviceProfile
from harness.config.suite import Suite
from harness.errors import DataError, ResultsError
from harness.mot.sequence import Sequence, decode_frames
from harness.environment import collect_environment
from harness.results.record import SCHEMA_VERSION


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id(profile: str, suite: str) -> str:
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{profile}-{suite}"


@dataclass
class RunPlan:
    """Everything a run needs; stored in the manifest so a resume can rebuild it."""

    run_id: str
    suite: Suite
    profile: DeviceProfile
    sequence: Path
    mode_control: str = "local"  # who switches power modes in a sweep: the runner ("local") or the host ("host")

    def __post_init__(self) -> None:
        from harness.names import require_safe_name

        require_safe_name(self.run_id, "run id", ResultsError)

    @property
    def window(self) -> tuple[float, int]:
        """(min_duration_s, min_frames) of the timed window: the suite's, else the profile's board defaults."""
        s, m = self.suite, self.profile.measure
        return (s.min_duration_s if s.min_duration_s is not None else m.min_duration_s,
                s.min_frames if s.min_frames is not None else m.min_frames)

    def manifest(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "created_at": now(),
            "state": "running",
            "suite": self.suite.model_dump(),
            "profile": self.profile.model_dump(),
            "sequence": str(self.sequence.resolve()),
            "environment": collect_environment(),
            "cells": [{**c.as_dict(), "state": "pending"} for c in self.suite.instances()],
            "mode_control": self.mode_control,
        }

    @classmethod
    def from_manifest(cls, m: dict) -> RunPlan:
        try:
            return cls(m["run_id"], Suite.model_validate(m["suite"]), DeviceProfile.model_validate(m["profile"]),
                       Path(m["sequence"]), m.get("mode_control") or "local")
        except (KeyError, ValueError) as e:
            raise ResultsError(f"manifest.json: incomplete or invalid ({e})", "start a new run") from e


class FrameCache:
    """Decodes the run's frame window once; a decode error is kept and re-raised per cell."""

    def __init__(self, seq: Sequence, n_frames: int) -> None:
        self.ids, self.paths = seq.window(n_frames)
        self._frames = None
        self._error: DataError | None = None

    @property
    def decoded(self) -> bool:
        return self._frames is not None

    def get(self):
        if self._error is not None:
            raise self._error
        if self._frames is None:
            try:
                self._frames = decode_frames(self.paths)
            except DataError as e:
                self._error = e
                raise
        return self._frames


