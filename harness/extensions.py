"""Extension points: telemetry backends and export formats by name, built in or added by other packages through
entry points.

One registry per kind that the profile/suite validators, the selection, the CLI listings (``harness telemetry
probe``, ``harness models formats``) and the records read. A package adds one by declaring an entry point::

    [project.entry-points."edge_harness.telemetry"]
    usbmeter = "usbmeter_harness:UsbMeterSampler"

    [project.entry-points."edge_harness.formats"]
    torchscript = "torchscript_harness.format"

A telemetry target is a class (or factory) called with ``interval_ms`` that returns a sampler with the built-in
ones' contract (``telemetry.sampler.Sampler``); a format target is a module (or object) with the built-in formats'
contract (``models.backends.base``: ``unsupported(cell, device) -> reason | None`` and ``load(Prepared) ->
LoadedVariant``). ``docs/plugins.md`` has complete examples. Names are safe names (``names``); a plugin cannot
take a built-in's name (it is listed as shadowed and not used). Nothing is imported until it is asked for: a
plugin that fails to import is listed as unavailable with its error, it never breaks the harness.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

from harness.names import is_safe_name

TELEMETRY_GROUP = "edge_harness.telemetry"
FORMATS_GROUP = "edge_harness.formats"

BUILTIN_TELEMETRY = {
    "sysfs_ina3221": "harness.telemetry.backends.sysfs_ina3221:SysfsIna3221Sampler",
    "jtop": "harness.telemetry.backends.jtop:JtopSampler",
    "tegrastats": "harness.telemetry.backends.tegrastats:TegrastatsSampler",
    "nvml": "harness.telemetry.backends.nvml:NvmlSampler",
    "rapl": "harness.telemetry.backends.rapl:RaplSampler",
}

BUILTIN_FORMATS = {
    "pytorch": "harness.models.backends.pytorch",
    "onnx": "harness.models.backends.onnx",
    "tensorrt": "harness.models.backends.tensorrt",
}

_BUILTINS = {TELEMETRY_GROUP: BUILTIN_TELEMETRY, FORMATS_GROUP: BUILTIN_FORMATS}
RESERVED = {TELEMETRY_GROUP: {"none"}, FORMATS_GROUP: set()}  # names with a meaning of their own in that group


@dataclass(frozen=True)
class Extension:
    """One registered extension: its name, what to import, where it comes from."""

    name: str
    target: str  # "module" or "module:attribute"
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
def entries(group: str) -> tuple[Extension, ...]:
    """Every extension of ``group`` found, built-ins first, then plugins in name order; the shadowed and misnamed
    ones carry their ``problem`` (the CLI lists them, nothing uses them)."""
    builtins = _BUILTINS[group]
    out = [Extension(n, t, "built-in") for n, t in builtins.items()]
    seen = set(builtins)
    for ep in sorted(metadata.entry_points(group=group), key=lambda e: e.name):
        problem = None
        if ep.name in seen:
            problem = f"shadowed: {ep.name!r} is already {'a built-in' if ep.name in builtins else 'another plugin'}"
        elif not is_safe_name(ep.name) or ep.name in RESERVED[group]:
            reserved = "".join(f", not {r!r}" for r in sorted(RESERVED[group]))
            problem = f"not a usable name (letters, digits and _ . + -{reserved})"
        out.append(Extension(ep.name if is_safe_name(ep.name) else repr(ep.name)[:80], ep.value, _origin(ep), problem))
        seen.add(ep.name)
    return tuple(out)


def usable(group: str) -> dict[str, Extension]:
    """Every usable extension of ``group`` by name, in ``entries`` order."""
    return {e.name: e for e in entries(group) if e.problem is None}


def telemetry_entries() -> tuple[Extension, ...]:
    return entries(TELEMETRY_GROUP)


def telemetry_backends() -> dict[str, Extension]:
    return usable(TELEMETRY_GROUP)


def telemetry_names() -> tuple[str, ...]:
    return tuple(usable(TELEMETRY_GROUP))


def format_entries() -> tuple[Extension, ...]:
    return entries(FORMATS_GROUP)


def formats() -> dict[str, Extension]:
    return usable(FORMATS_GROUP)


def format_names() -> tuple[str, ...]:
    return tuple(usable(FORMATS_GROUP))
