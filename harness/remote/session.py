"""What a deploy is asked to do (``DeployPlan``) and what it leaves behind to be found again (``deploy.json``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.config.profiles import DeviceProfile
from harness.config.suite import Suite
from harness.errors import ProfileError, ResultsError
from harness.fsutil import atomic_write_text
from harness.names import require_safe_name

POLL_S = 2.0
SESSION_FILE = "deploy.json"


@dataclass
class DeployPlan:
    profile: DeviceProfile
    suite: Suite
    sequence: Path
    run_id: str
    out: Path
    accept_new_host_key: bool = False
    poll_s: float = POLL_S
    reconnect_budget_s: float = 300.0
    device_sequence: str | None = None  # a sequence already on the device: nothing shipped
    lease: dict | None = None  # the board leased from a pool (harness.farm.lease.Lease.as_dict), None for a fixed host

    def __post_init__(self) -> None:
        require_safe_name(self.run_id, "run id", ProfileError)

    @property
    def host_sequence(self) -> str | None:
        """The host's own copy of the sequence (None when the sequence lives on the device only)."""
        return None if self.device_sequence else str(self.sequence.resolve())


class PendingReboot(BaseModel):
    """A power mode whose reboot was asked for: it counts only once the board has a boot id other than ``boot_id``."""

    model_config = ConfigDict(extra="forbid")

    mode: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
    boot_id: str = Field(max_length=64)  # the boot the reboot was asked in
    asked_at: float  # epoch s


class Session(BaseModel):
    """``deploy.json``: written by the host only (a pull can never name it), validated when read back."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    profile: dict
    suite: dict
    sequence: str | None = None
    device_sequence: str | None = None
    workdir: str
    remote_run_dir: str
    pid: int | str | None
    log: str
    boot_id: str
    mode_at_start: str | None = None  # a sweep's board returns here when the profile names no power mode
    reboot_pending: PendingReboot | None = None  # a power mode switched with a reboot not yet seen
    lease: dict | None = None  # the pool's board this run runs on: a resumed deploy leases the same place

    def write(self, run_dir: Path) -> None:
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(run_dir) / SESSION_FILE, self.model_dump_json(indent=2))

    @staticmethod
    def read(run_dir: Path) -> Session | None:
        path = Path(run_dir) / SESSION_FILE
        try:
            return Session.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValidationError) as e:
            raise ResultsError(f"{path}: not a deploy session ({str(e).splitlines()[0][:200]})",
                               "it is written by `harness deploy`; restore it or deploy again") from None

    def plan(self, run_dir: Path) -> DeployPlan:
        """The plan this session was deployed with (profile and suite validated again)."""
        try:
            prof, suite = DeviceProfile.model_validate(self.profile), Suite.model_validate(self.suite)
        except ValidationError as e:
            raise ResultsError(f"{Path(run_dir) / SESSION_FILE}: invalid profile or suite ({str(e).splitlines()[0][:200]})",
                               "restore it or deploy again") from None
        return DeployPlan(prof, suite, Path(self.sequence or "."), self.run_id, Path(run_dir).parent,
                          device_sequence=self.device_sequence, lease=self.lease)
