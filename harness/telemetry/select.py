"""Choosing a backend: probe in the profile's order, first available wins, else none. Backends by name come from
the registry (``harness.extensions``: built-ins and plugins)."""

from __future__ import annotations

from harness.errors import TelemetryError
from harness.extensions import telemetry_backends, telemetry_names
from harness.telemetry.sampler import NullSampler
from harness.telemetry.trace import Availability

_CONTRACT = ("available", "start", "mark", "stop", "close")


def make_sampler(name: str, interval_ms: int = 50):
    """A sampler by backend name (imports only that backend; a plugin's is checked against the contract)."""
    if name == "none":
        return NullSampler("telemetry disabled (backend none)")
    ext = telemetry_backends().get(name)
    if ext is None:
        from harness.names import did_you_mean

        raise TelemetryError(f"unknown telemetry backend {name!r}{did_you_mean(name, [*telemetry_names(), 'none'])}",
                             f"use one of: {', '.join(telemetry_names())}, none (`harness telemetry probe` lists them)")
    try:
        sampler = ext.load()(interval_ms)
    except Exception as e:  # noqa: BLE001 - a plugin's import or constructor may raise anything
        if ext.builtin:
            raise
        raise TelemetryError(f"telemetry backend {name!r} ({ext.origin}, {ext.target}) failed to load: "
                             f"{type(e).__name__}: {str(e)[:200]}", "fix or reinstall the plugin") from e
    missing = [m for m in _CONTRACT if not callable(getattr(sampler, m, None))]
    if missing or getattr(sampler, "name", None) != name:
        raise TelemetryError(f"telemetry backend {name!r} ({ext.origin}) does not keep the sampler contract: "
                             + (f"no {', '.join(missing)}" if missing else f"its name is {getattr(sampler, 'name', None)!r}"),
                             "see docs/plugins.md: a sampler has name, scope, available, start, mark, stop, close")
    return sampler


def probe(names: list[str], interval_ms: int = 50) -> list[tuple[str, object, Availability]]:
    """Each backend's sampler and availability, in order (never raises: a broken plugin is unavailable)."""
    out = []
    for n in names:
        if n == "none":
            continue
        try:
            s = make_sampler(n, interval_ms)
        except TelemetryError as e:
            null = NullSampler(e.message)
            out.append((n, null, Availability(False, e.message)))
            continue
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
