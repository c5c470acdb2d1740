"""Campaign files: which devices (profiles, or an Ansible inventory group), which suites, how often, in what
order, and the retry / quarantine / time-budget policy. Pure data, validated where it is defined."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pydantic import StringConstraints
from typing_extensions import Annotated

from harness.config.bounds import DAY_S, HOUR_S, MINUTE_S, bounded
from harness.config.profiles import MODE_RE, Cooldown
from harness.config.compression import ImageSize
from harness.config.suite import MAX_FRAMES
from harness.config.yamlio import load_model_yaml
from harness.errors import ProfileError
from harness.names import SafeName

CAMPAIGN_FIX = "see docs/campaigns.md for the campaign file format"


class InventoryRef(BaseModel):
    """An Ansible inventory and the group whose hosts are the campaign's devices."""

    model_config = ConfigDict(extra="forbid")

    path: str
    group: str = "all"


class BoardRequest(BaseModel):
    """``count`` boards leased by a pool profile's tags (``connection.pool: labgrid``): devices PROFILE-1..PROFILE-N,
    each running its work on whichever matching board is free when it starts."""

    model_config = ConfigDict(extra="forbid")

    profile: str
    count: bounded(int, ge=1, le=64) = 1


class CampaignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: SafeName
    devices: list[str] = Field(default_factory=list, description="profile names or YAML paths")
    inventory: InventoryRef | None = None
    boards: list[BoardRequest] = Field(default_factory=list, description="boards by kind from a pool (docs/farm.md)")
    suite: str = "quick"
    suites: list[str] = Field(default_factory=list, description="several suites (overrides suite); each is its own run")
    cooldown: Cooldown | None = Field(None, description="overrides every device profile's cooldown block")
    sequence: str | None = None
    # Bounds (limit values are input: docs/architecture.md, "The trust boundary"): frames and imgsz as a suite's;
    # a campaign runs for a month at most; retries, waits and polls in minutes to a day (a board silent for a day is gone); polling an SSH link
    # faster than 10 Hz only loads the board; a seed is a 63-bit number.
    frames: bounded(int, ge=2, le=MAX_FRAMES) | None = Field(None, description="overrides every suite's frames")
    imgsz: ImageSize | None = Field(None, description="overrides every suite's imgsz")
    repetitions: bounded(int, ge=1, le=1000) = 1
    order: Literal["suite", "interleaved", "random"] = "suite"
    seed: bounded(int, ge=0, le=2**63 - 1) = 0
    time_budget_s: bounded(float, gt=0, le=30 * DAY_S, unit="s") | None = None
    workers: bounded(int, ge=1, le=64) = 8
    max_attempts: bounded(int, ge=1, le=100) = Field(3, description="tries per run before the device is quarantined")
    quarantine_after: bounded(int, ge=1, le=100) = Field(
        2, description="consecutive failed attempts that quarantine a device")
    retry_backoff_s: bounded(float, ge=0, le=HOUR_S, unit="s") = 5.0
    reconnect_budget_s: bounded(float, gt=0, le=DAY_S, unit="s") = 300.0
    poll_s: bounded(float, ge=0.1, le=10 * MINUTE_S, unit="s") = 2.0
    power_modes: dict[SafeName, list[Annotated[str, StringConstraints(pattern=MODE_RE)]]] = Field(
        default_factory=dict, description="per device (profile name): the power modes to sweep, overriding the "
        "suite's (mode names differ per board); [] drops the sweep for that device")


def load_campaign(path: str | Path) -> CampaignSpec:
    spec = load_model_yaml(Path(path), CampaignSpec, ProfileError, "campaign", CAMPAIGN_FIX)
    if not spec.devices and spec.inventory is None and not spec.boards:
        raise ProfileError(f"{path}: no devices (set devices: [...], boards: [{{profile, count}}] or inventory: "
                           "{path, group})", CAMPAIGN_FIX)
    return spec
