"""Extension points: telemetry backends by name, built in or added by other packages through entry points.

One registry that the profile validator, the backend selection, ``harness telemetry probe`` and the records read.
A package adds a backend by declaring an entry point in the group ``edge_harness.telemetry``::

    [project.entry-points."edge_harness.telemetry"]
    usbmeter = "usbmeter_harness:UsbMeterSampler"

whose target is a class (or factory) called with ``interval_ms`` that returns a sampler with the built-in ones'
contract (``telemetry.sampler.Sampler``: ``name``, ``scope``, ``available()``, ``start()``, ``mark()``, ``stop()``,
``close()``); ``docs/plugins.md`` has a complete example. Names are safe names (``names``); a plugin cannot take
a built-in's name (it is listed as shadowed and not used). Nothing is imported until a backend is asked for: a
plugin that fails to import is listed as unavailable with its error, it never breaks the harness.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

from harness.names import is_safe_name

TELEMETRY_GROUP = "edge_harness.telemetry"

BUILTIN_TELEMETRY = {
    "sysfs_ina3221": "harness.telemetry.backends.sysfs_ina3221:SysfsIna3221Sampler",
    "jtop": "harness.telemetry.backends.jtop:JtopSampler",
    "tegrastats": "harness.telemetry.backends.tegrastats:TegrastatsSampler",
    "nvml": "harness.telemetry.backends.nvml:NvmlSampler",
    "rapl": "harness.telemetry.backends.rapl:RaplSampler",
}


@dataclass(frozen=True)
class Extension:
    """One registered backend: its name, what to import, where it comes from."""

    name: str
    target: str  # "module:attribute"
    origin: str  # "built-in", or "plugin <distribution> <version>"
    problem: str | None = None  # why it is not usable (a shadowing or unsafe name), None when it is

    @property
    def builtin(self) -> bool:
        return self.origin == "built-in"

    def load(self):
        """The object the target names (ImportError / AttributeError when the package is broken)."""
        import importlib

        module, _, attr = self.target.partition(":")
        obj = importlib.import_module(module)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
        return obj


def _origin(ep) -> str:
    dist = getattr(ep, "dist", None)
    return f"plugin {dist.name} {dist.version}" if dist is not None else "plugin"


@lru_cache(maxsize=None)
def telemetry_entries() -> tuple[Extension, ...]:
    """Every telemetry backend found, built-ins first, then plugins in name order; the shadowed and misnamed ones
    carry their ``problem`` (``harness telemetry probe`` lists them, nothing uses them)."""
    out = [Extension(n, t, "built-in") for n, t in BUILTIN_TELEMETRY.items()]
    seen = set(BUILTIN_TELEMETRY)
    for ep in sorted(metadata.entry_points(group=TELEMETRY_GROUP), key=lambda e: e.name):
        problem = None
        if ep.name in seen:
            problem = (f"shadowed: {ep.name!r} is already "
                       f"{'a built-in' if ep.name in BUILTIN_TELEMETRY else 'another plugin'}")
        elif not is_safe_name(ep.name) or ep.name == "none":
            problem = "not a usable name (letters, digits and _ . + -, not 'none')"
        out.append(Extension(ep.name if is_safe_name(ep.name) else repr(ep.name)[:80], ep.value, _origin(ep), problem))
        seen.add(ep.name)
    return tuple(out)


def telemetry_backends() -> dict[str, Extension]:
    """Every usable telemetry backend by name, in ``telemetry_entries`` order."""
    return {e.name: e for e in telemetry_entries() if e.problem is None}


def telemetry_names() -> tuple[str, ...]:
    return tuple(telemetry_backends())
