"""Campaign files: which devices (profiles, or an Ansible inventory group), which suites, how often, in what
order, and the retry / quarantine / time-budget policy. Pure data, validated where it is defined."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pydantic import StringConstraints
from typing_extensions import Annotated

from harness.config.profiles import MODE_RE, Cooldown
from harness.config.yamlio import load_model_yaml
from harness.errors import ProfileError
from harness.names import SafeName

CAMPAIGN_FIX = "see README (Overnight campaigns) for the campaign file format"


class InventoryRef(BaseModel):
    """An Ansible inventory and the group whose hosts are the campaign's devices."""

    model_config = ConfigDict(extra="forbid")

    path: str
    group: str = "all"


class CampaignSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: SafeName
    devices: list[str] = Field(default_factory=list, description="profile names or YAML paths")
    inventory: InventoryRef | None = None
    suite: str = "quick"
    suites: list[str] = Field(default_factory=list, description="several suites (overrides suite); each is its own run")
    cooldown: Cooldown | None = Field(None, description="overrides every device profile's cooldown block")
    sequence: str | None = None
    frames: int | None = None
    imgsz: int | None = None
    repetitions: int = Field(1, ge=1)
    order: Literal["suite", "interleaved", "random"] = "suite"
    seed: int = 0
    time_budget_s: float | None = Field(None, gt=0)
    workers: int = Field(8, ge=1, le=64)
    max_attempts: int = Field(3, ge=1, description="tries per run before the device is quarantined")
    quarantine_after: int = Field(2, ge=1, description="consecutive failed attempts that quarantine a device")
    retry_backoff_s: float = Field(5.0, ge=0)
    reconnect_budget_s: float = Field(300.0, gt=0)
    poll_s: float = Field(2.0, gt=0)
    power_modes: dict[SafeName, list[Annotated[str, StringConstraints(pattern=MODE_RE)]]] = Field(
        default_factory=dict, description="per device (profile name): the power modes to sweep, overriding the "
        "suite's (mode names differ per board); [] drops the sweep for that device")


def load_campaign(path: str | Path) -> CampaignSpec:
    spec = load_model_yaml(Path(path), CampaignSpec, ProfileError, "campaign", CAMPAIGN_FIX)
    if not spec.devices and spec.inventory is None:
        raise ProfileError(f"{path}: no devices (set devices: [...] or inventory: {{path, group}})", CAMPAIGN_FIX)
    return spec
