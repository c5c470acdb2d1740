"""Choosing a backend: probe in the profile's order, first available wins, else none."""

from __future__ import annotations

from harness.errors import TelemetryError
from harness.telemetry.sampler import NullSampler
from harness.telemetry.trace import Availability

BACKEND_NAMES = ("sysfs_ina3221", "jtop", "tegrastats", "nvml", "rapl")


def make_sampler(name: str, interval_ms: int = 50):
    """A sampler by backend name (imports only that backend)."""
    if name == "sysfs_ina3221":
        from harness.telemetry.backends.sysfs_ina3221 import SysfsIna3221Sampler

        return SysfsIna3221Sampler(interval_ms)
    if name == "jtop":
        from harness.telemetry.backends.jtop import JtopSampler

        return JtopSampler(interval_ms)
    if name == "tegrastats":
        from harness.telemetry.backends.tegrastats import TegrastatsSampler

        return TegrastatsSampler(interval_ms)
    if name == "nvml":
        from harness.telemetry.backends.nvml import NvmlSampler

        return NvmlSampler(interval_ms)
    if name == "rapl":
        from harness.telemetry.backends.rapl import RaplSampler

        return RaplSampler(interval_ms)
    if name == "none":
        return NullSampler("telemetry disabled (backend none)")
    raise TelemetryError(f"unknown telemetry backend {name!r}", f"use one of: {', '.join(BACKEND_NAMES)}, none")


def probe(names: list[str], interval_ms: int = 50) -> list[tuple[str, object, Availability]]:
    """Each backend's sampler and availability, in order (never raises)."""
    out = []
    for n in names:
        if n == "none":
            continue
        s = make_sampler(n, interval_ms)
        out.append((n, s, s.available()))
    return out


def select_sampler(prefer: list[str], interval_ms: int = 50, required: bool = False):
    """(sampler, probes): the first available backend of ``prefer`` (up to 'none')."""
    order = prefer[: prefer.index("none")] if "none" in prefer else list(prefer)
    probes = probe(order, interval_ms)
    for _, sampler, avail in probes:
        if avail.ok:
            return sampler, probes
    why = "; ".join(f"{n}: {a.reason}" for n, _, a in probes) or "no backend in the profile's telemetry.prefer"
    if required:
        raise TelemetryError(f"no telemetry backend available ({why})", "fix the backend or set telemetry.required: false")
    return NullSampler(f"no telemetry backend available here ({why})"), probes
