"""Device profiles: what a device is, how to reach it and how to run on it.

Profiles are data (YAML in ``device_profiles/``), validated by pydantic with
unknown keys rejected; errors name the YAML file and the field path.
``--profile`` takes a profile name or a path to a YAML file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import ProfileError
from harness.yamlio import load_model_yaml

PROFILE_FIX = "see `harness profiles show local` for a valid profile"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Connection(_Strict):
    """How the host reaches the device over SSH."""

    host: str
    user: str = "root"
    port: int = Field(22, ge=1, le=65535)
    key_file: str | None = None
    known_hosts: str | None = None
    connect_timeout_s: float = Field(15.0, gt=0)
    load_ssh_config: bool = False
    forward_agent: bool = False


class Expect(_Strict):
    """What the device must be; a mismatch stops a deploy."""

    board_contains: str | None = None  # substring of /proc/device-tree/model
    l4t_major: int | None = None  # 35 = JetPack 5, 36 = JetPack 6


class Container(_Strict):
    image: str = "edge-harness:cpu"
    python: str = Field("python3", description="interpreter inside the image")
    nvidia_runtime: bool = False  # --runtime nvidia (Jetson); desktops use --gpus all
    gpus_all: bool = False
    mount_jtop_socket: bool = False
    extra_args: list[str] = Field(default_factory=list)
    flavor: Literal["auto", "cpu", "gpu", "l4t-r36", "l4t-r35"] = Field(
        "auto", description="image flavour for `harness image build` (auto: from kind and expect.l4t_major)")
    build_args: dict[str, str] = Field(default_factory=dict, description="build args over docker/<flavour>.args")


class Telemetry(_Strict):
    """Power/thermal sampling: backends in probe order, rate, idle window, limits."""

    prefer: list[Literal["sysfs_ina3221", "jtop", "tegrastats", "nvml", "rapl", "none"]] = Field(
        default_factory=lambda: ["none"]
    )
    interval_ms: int = Field(50, ge=10, description="sampling period (jtop: at least 500)")
    idle_s: float = Field(2.0, ge=0, description="idle power is sampled this long before each timed window")
    temp_limit_c: float | None = Field(None, description="a zone at or above this in the window marks the cell throttled")
    required: bool = Field(False, description="fail cells instead of recording null power when no backend works")


class PowerMode(_Strict):
    nvpmodel: str | None = None  # mode name, never an id
    jetson_clocks: bool = False


class Cooldown(_Strict):
    max_start_temp_c: float | None = None
    wait_s: float = Field(0.0, ge=0)
    timeout_s: float = Field(300.0, ge=0)


class Timeouts(_Strict):
    command_s: float = Field(120.0, gt=0)
    cell_s: float = Field(3600.0, gt=0)


class HostRuntime(_Strict):
    """How ``runtime: host`` runs the runner on the device."""

    python: str = Field("python3", description="interpreter on the device (its site-packages provide torch etc.)")
    workdir: str = Field("~/edge-harness", description="device directory for inputs, runs and logs")
    venv: bool = Field(True, description="create <workdir>/venv (--system-site-packages) and install this harness into it; "
                                         "false: `python` must already import harness")


class PowerCycle(_Strict):
    off: str | None = None
    on: str | None = None


class DeviceProfile(_Strict):
    """One device kind. ``compute`` is the torch/onnxruntime device to run on."""

    name: str
    kind: Literal["jetson", "desktop-gpu", "desktop-cpu", "local"]
    description: str = ""
    compute: Literal["auto", "cpu", "cuda"] = "auto"
    connection: Connection | None = None
    expect: Expect = Field(default_factory=Expect)
    runtime: Literal["docker", "podman", "host"] = "host"
    container: Container = Field(default_factory=Container)
    telemetry: Telemetry = Field(default_factory=Telemetry)
    power_mode: PowerMode = Field(default_factory=PowerMode)
    cooldown: Cooldown = Field(default_factory=Cooldown)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    power_cycle: PowerCycle = Field(default_factory=PowerCycle)
    host_runtime: HostRuntime = Field(default_factory=HostRuntime)
    probe_root: str = Field("/", description="where preflight reads /proc/device-tree/model and /etc/nv_tegra_release (tests use a fake tree)")


def profiles_dir() -> Path:
    """``HARNESS_PROFILES_DIR`` or the packaged ``harness/device_profiles/`` (``device_profiles/`` links to it)."""
    env = os.environ.get("HARNESS_PROFILES_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "device_profiles"


def profile_names() -> list[str]:
    d = profiles_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def profile_path(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or os.sep in name_or_path:
        return p
    candidate = profiles_dir() / f"{name_or_path}.yaml"
    if not candidate.is_file():
        known = ", ".join(profile_names()) or "none found"
        raise ProfileError(f"unknown profile {name_or_path!r} (known: {known})", "pass a profile name or a path to a YAML file")
    return candidate


def load_profile(name_or_path: str) -> DeviceProfile:
    """Load and validate a profile by name or path."""
    return load_model_yaml(profile_path(name_or_path), DeviceProfile, ProfileError, "profile", PROFILE_FIX)
