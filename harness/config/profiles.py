"""Device profiles: what a device is, how to reach it and how to run on it.

Profiles are data (YAML in ``device_profiles/``), validated by pydantic with
unknown keys rejected; errors name the YAML file and the field path.
``--profile`` takes a profile name or a path to a YAML file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.errors import ProfileError
from harness.names import SafeName
from harness.config.bounds import DAY_S, GIB_IN_MIB, HOUR_S, MINUTE_S, TIB_IN_MIB, Threads, bounded
from harness.config.connection import HOST_RE, USER_RE, Connection, no_control_chars as _no_control_chars
from harness.config.yamlio import load_model_yaml

__all__ = ["HOST_RE", "USER_RE", "Connection", "DeviceProfile", "load_profile"]

PROFILE_FIX = "see `harness profiles show local` for a valid profile"
SIM_PREFIX = "sim-"  # ``--profile sim-orin-nano``: a simulated board's profile (``harness sim start orin-nano``)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# An OCI image reference: [registry[:port]/]path[:tag][@digest], lower-case path components.
IMAGE_RE = (r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?/)?"
            r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
            r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$")
MODE_RE = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$"
# Container options that undo the isolation a benchmark needs none of (checked in container.extra_args).
HOST_NAMESPACE_OPTS = ("--pid", "--userns", "--ipc", "--uts", "--cgroupns")


def forbidden_container_arg(opt: str, val: str) -> str | None:
    """Why ``opt [val]`` may not be given to docker/podman run, or None."""
    opt, val = opt.lower(), val.lower()
    if opt == "--privileged" and val not in ("false", "=false"):
        return "benchmarks never run privileged"
    if opt == "--cap-add" and val in ("all", "sys_admin", "cap_sys_admin"):
        return "no capability beyond the defaults is needed"
    if opt == "--security-opt" and ("unconfined" in val or val == "label=disable"):
        return "the default seccomp/AppArmor/SELinux confinement stays on"
    if opt in HOST_NAMESPACE_OPTS and val == "host":
        return "the container does not share the device's namespaces"
    if opt in ("-v", "--volume") and val.startswith("/:"):
        return "the device's root filesystem is never mounted into the container"
    if opt == "--mount" and any(part in ("source=/", "src=/") for part in val.split(",")):
        return "the device's root filesystem is never mounted into the container"
    return None


class Expect(_Strict):
    """What the device must be; a mismatch stops a deploy."""

    board_contains: str | None = None  # substring of /proc/device-tree/model
    l4t_major: bounded(int, ge=1, le=99) | None = None  # 35 = JetPack 5, 36 = JetPack 6 (releases are two digits)


class Container(_Strict):
    image: str = Field("edge-harness:cpu", pattern=IMAGE_RE, description="an image reference: [registry/]name[:tag][@sha256:...]")
    python: str = Field("python3", description="interpreter inside the image")
    nvidia_runtime: bool = False  # --runtime nvidia (Jetson); desktops use --gpus all
    gpus_all: bool = False
    mount_jtop_socket: bool = False
    shm_size: str | None = Field("8g", pattern=r"^[1-9][0-9]{0,5}[bkmg]?$", description=(
        "--shm-size for the container (Docker's default /dev/shm is 64 MB; jetson-containers uses 8g); null: the "
        "engine's default"))
    extra_args: list[str] = Field(default_factory=list)
    flavor: Literal["auto", "cpu", "gpu", "l4t-r36", "l4t-r35"] = Field(
        "auto", description="image flavour for `harness image build` (auto: from kind and expect.l4t_major)")
    build_args: dict[str, str] = Field(default_factory=dict, description="build args over docker/<flavour>.args")

    @field_validator("extra_args")
    @classmethod
    def _not_privileged(cls, args: list[str]) -> list[str]:
        for i, a in enumerate(args):
            _no_control_chars(a, "container.extra_args")
            opt, eq, val = a.partition("=")
            if not eq:
                val = args[i + 1] if i + 1 < len(args) and not args[i + 1].startswith("-") else ""
            why = forbidden_container_arg(opt, val)
            if why:
                shown = a if eq or not val else f"{a} {val}"
                raise ValueError(f"{shown!r} is not allowed: {why}; mount the device files you need (-v, --device) instead")
        return args


class Telemetry(_Strict):
    """Power/thermal sampling: backends in probe order, rate, idle window, limits."""

    prefer: list[str] = Field(default_factory=lambda: ["none"], description="backends in probe order: the "
                              "built-ins, plugins (`harness telemetry probe` lists them), none")

    @field_validator("prefer")
    @classmethod
    def _known_backends(cls, v: list[str]) -> list[str]:
        from harness.extensions import telemetry_names
        from harness.names import did_you_mean

        known = telemetry_names()
        for name in v:
            if name != "none" and name not in known:
                raise ValueError(f"{name[:80]!r} is not a telemetry backend here{did_you_mean(name, [*known, 'none'])}: use {', '.join(known)} or none "
                                 "(a plugin's name once its package is installed here: `harness telemetry probe`)")
        return v

    # Bounds: the power monitors update every few ms (INA3221) to 1 s (jtop's floor is 0.5 s): 10 ms to 10 s covers
    # every backend; an idle window of an hour before every cell is already absurd; Celsius limits within what a
    # sensor reads (Jetson modules shut down near 105 C); sample counts and periods far beyond a day-long window.
    interval_ms: bounded(int, ge=10, le=10_000, unit="ms") = Field(50, description="sampling period (jtop: at least 500)")
    idle_s: bounded(float, ge=0, le=HOUR_S, unit="s") = Field(
        2.0, description="idle power is sampled this long before each timed window")
    temp_limit_c: bounded(float, ge=0, le=150, unit="C") | None = Field(
        None, description="a zone at or above this in the window marks the cell throttled")
    required: bool = Field(False, description="fail cells instead of recording null power when no backend works")
    min_samples: bounded(int, ge=2, le=1_000_000) = Field(
        20, description="a power figure needs at least this many samples in the window")
    min_sensor_periods: bounded(float, gt=0, le=100_000) = Field(
        10.0, description="... and a window of at least this many sensor update periods")
    max_temp_slope_c_per_min: bounded(float, gt=0, le=100, unit="C/min") | None = Field(
        2.0, description="hotter or cooler than this per minute over the window marks the cell not_steady")


# The timed window of a cell: a day at most (the cycled frames are timed, not stored; min_duration_s * 1e9 stays an
# exact integer of nanoseconds), a million timed frames at most (each one is a row of the cell's frames CSV).
WindowSeconds = bounded(float, ge=0, le=DAY_S, unit="s")
MAX_TIMED_FRAMES = 1_000_000
Share = bounded(float, ge=0, le=1)


class Measure(_Strict):
    """A board's default timed window (a suite's own values win): long enough for power to mean something."""

    min_duration_s: WindowSeconds = Field(0.0, description="the timed loop cycles the decoded frames at least this long")
    min_frames: bounded(int, ge=0, le=MAX_TIMED_FRAMES) = Field(0, description="... and at least this many timed frames")
    max_other_cpu_share: Share = Field(0.10, description="a cell is contended when other processes used "
                                       "more than this share of the CPUs during its timed window")
    max_steal_share: Share = Field(0.05, description="... or CPU steal (VM neighbours) exceeded this share")
    threads: Threads = Field("auto", description="torch intra-op and ONNX Runtime threads; auto: the CPUs "
                                           "this process may use (sched_getaffinity); a suite's own value wins")


class PowerMode(_Strict):
    nvpmodel: str | None = Field(None, pattern=MODE_RE, description="mode name (15W, MAXN_SUPER, ...), never an id; "
                                 "a power-mode sweep returns the board to it at the end")
    jetson_clocks: bool = False
    allow_reboot: bool = Field(True, description="a sweep may reboot the board where nvpmodel says a mode needs it "
                               "(deploy waits for it, checks the boot id changed and resumes); false: those cells fail")


class Cooldown(_Strict):
    """Before each cell: wait ``wait_s``, then until the hottest zone is under ``max_start_temp_c`` (at most
    ``timeout_s``)."""

    max_start_temp_c: bounded(float, ge=0, le=150, unit="C") | None = None
    wait_s: bounded(float, ge=0, le=HOUR_S, unit="s") = 0.0  # a fixed pause per cell; an hour is already a lot
    timeout_s: bounded(float, ge=0, le=DAY_S, unit="s") = 300.0


class Timeouts(_Strict):
    """Time limits. A day bounds one step, a week one cell (an INT8 TensorRT build of a large model on a small board
    takes hours, not days); both are far below what timers hold (``setitimer`` / ``Event.wait`` fail near 9.2e9 s)."""

    command_s: bounded(float, gt=0, le=DAY_S, unit="s") = Field(120.0, description="one remote command")
    reboot_s: bounded(float, gt=0, le=DAY_S, unit="s") = Field(
        900.0, description="how long a board may take to come back after a power-mode reboot")
    cell_s: bounded(float, gt=0, le=7 * DAY_S, unit="s") = Field(
        3600.0, description="one cell (build + measure); past it the cell is stopped and failed")
    cell_grace_s: bounded(float, gt=0, le=DAY_S, unit="s") = Field(
        30.0, description="past cell_s, how long a cell that ignores the stop gets before the runner restarts itself "
                          "with --resume")


class Limits(_Strict):
    """What the host accepts from the device (docs/architecture.md, "The trust boundary"): a device can fail its own
    run, nothing more."""

    # Bounds: a file of 4 TiB, a run of 16 TiB (a disk's worth); JSON is read into memory whole, so 4 GiB; a day for
    # one file (256 MiB at 10 kB/s is 7 hours); a thousand restarts without progress is a loop, not a run.
    max_file_mib: bounded(float, gt=0, le=4 * TIB_IN_MIB, unit="MiB") = Field(
        256.0, description="largest single file pulled from the device")
    max_run_mib: bounded(float, gt=0, le=16 * TIB_IN_MIB, unit="MiB") = Field(
        4096.0, description="all files of one run pulled from the device")
    max_json_mib: bounded(float, gt=0, le=4 * GIB_IN_MIB, unit="MiB") = Field(
        64.0, description="largest manifest.json / records.jsonl / lock file")
    read_timeout_s: bounded(float, gt=0, le=DAY_S, unit="s") = Field(
        120.0, description="longest time one file may take to arrive")
    max_runner_restarts: bounded(int, ge=0, le=1000) = Field(
        3, description="runner restarts without a newly finished cell before the run fails")


class HostRuntime(_Strict):
    """How ``runtime: host`` runs the runner on the device."""

    python: str = Field("python3", description="interpreter on the device (its site-packages provide torch etc.)")
    workdir: str = Field("~/edge-harness", description="device directory for inputs, runs and logs")

    @field_validator("python", "workdir")
    @classmethod
    def _plain(cls, v: str) -> str:
        return _no_control_chars(v, "host_runtime paths")

    @field_validator("workdir")
    @classmethod
    def _absolute(cls, v: str) -> str:
        if not (v.startswith("/") or v == "~" or v.startswith("~/")):
            raise ValueError("must be an absolute path or start with ~/")
        return v
    venv: bool = Field(True, description="create <workdir>/venv (--system-site-packages) and install this harness into it; "
                                         "false: `python` must already import harness")


class PowerCycle(_Strict):
    off: str | None = None
    on: str | None = None


class DeviceProfile(_Strict):
    """One device kind. ``compute`` is the torch/onnxruntime device to run on."""

    name: SafeName
    kind: Literal["jetson", "desktop-gpu", "desktop-cpu", "local"]
    description: str = ""
    compute: Literal["auto", "cpu", "cuda"] = "auto"
    connection: Connection | None = None
    expect: Expect = Field(default_factory=Expect)
    runtime: Literal["docker", "podman", "host"] = "host"
    container: Container = Field(default_factory=Container)
    telemetry: Telemetry = Field(default_factory=Telemetry)
    measure: Measure = Field(default_factory=Measure)
    power_mode: PowerMode = Field(default_factory=PowerMode)
    cooldown: Cooldown = Field(default_factory=Cooldown)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    limits: Limits = Field(default_factory=Limits)
    power_cycle: PowerCycle = Field(default_factory=PowerCycle)
    host_runtime: HostRuntime = Field(default_factory=HostRuntime)
    probe_root: str = Field("/", description="where preflight reads /proc/device-tree/model and /etc/nv_tegra_release (tests use a fake tree)")
    simulated: bool = Field(False, description="a simulated board (`harness sim start`): its runs are marked simulated, "
                            "never taken for measurements")


def profiles_dir() -> Path:
    """``HARNESS_PROFILES_DIR`` or the packaged ``harness/device_profiles/`` (``device_profiles/`` links to it)."""
    env = os.environ.get("HARNESS_PROFILES_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "device_profiles"


def profile_names() -> list[str]:
    d = profiles_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def profile_path(name_or_path: str) -> Path:
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") or os.sep in name_or_path:
        return p
    candidate = profiles_dir() / f"{name_or_path}.yaml"
    if not candidate.is_file() and name_or_path.startswith(SIM_PREFIX):
        return _sim_profile_path(name_or_path)
    if not candidate.is_file():
        from harness.names import did_you_mean

        known = ", ".join(profile_names()) or "none found"
        raise ProfileError(f"unknown profile {name_or_path!r}{did_you_mean(name_or_path, profile_names())} (known: {known})",
                           "pass a profile name or a path to a YAML file")
    return candidate


def _sim_profile_path(name: str) -> Path:
    """``sim-<NAME>``: the profile ``harness sim start`` wrote for the simulated board NAME (``harness.sim``)."""
    from harness.paths import state_dir

    sim = name[len(SIM_PREFIX):]
    path = state_dir() / "sim" / sim / "profile.yaml"
    if sim.startswith(".") or not path.is_file():
        raise ProfileError(f"unknown profile {name!r}: no simulated board {sim!r} is running",
                           f"start it: harness sim start {sim} (harness sim status lists the running ones)")
    return path


def load_profile(name_or_path: str) -> DeviceProfile:
    """Load and validate a profile by name or path."""
    return load_model_yaml(profile_path(name_or_path), DeviceProfile, ProfileError, "profile", PROFILE_FIX)
