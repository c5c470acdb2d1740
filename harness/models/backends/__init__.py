"""One module per format behind one interface: ``unsupported(cell, device) -> reason | None`` and
``load(Prepared) -> LoadedVariant``. The formats are the ``extensions`` registry's (built-ins and plugins of the
``edge_harness.formats`` group); ``for_format`` imports only the one asked for and checks a plugin's contract.
The helpers the built-in formats share (INT8 quantization, the DLA, the engine cache) live in ``support/``."""

from __future__ import annotations

from harness.errors import SuiteError
from harness.extensions import formats

CONTRACT = ("unsupported", "load")


def for_format(fmt: str):
    """The backend of a format (a module for the built-ins; whatever the entry point names for a plugin)."""
    ext = formats().get(fmt)
    if ext is None:
        raise SuiteError(f"format {fmt!r} has no backend here",
                         f"use one of: {', '.join(formats())} (`harness models formats` lists them)")
    try:
        backend = ext.load()
    except Exception as e:  # noqa: BLE001 - a plugin's import may raise anything
        if ext.builtin:
            raise
        raise SuiteError(f"format {fmt!r} ({ext.origin}, {ext.target}) failed to load: {type(e).__name__}: {e}",
                         "reinstall or remove the plugin (`harness models formats` lists it)") from e
    missing = [a for a in CONTRACT if not callable(getattr(backend, a, None))]
    if missing:
        raise SuiteError(f"format {fmt!r} ({ext.origin}) does not keep the format contract: no {', '.join(missing)}",
                         "see docs/plugins.md: a format has unsupported(cell, device) and load(prepared)")
    return backend


def origin(fmt: str) -> str | None:
    """Where a format comes from (``built-in`` or the plugin's distribution), None for an unknown one."""
    ext = formats().get(fmt)
    return ext.origin if ext else None
