"""One module per format behind one interface: ``unsupported(cell, device) -> reason | None`` and
``load(Prepared) -> LoadedVariant``. ``for_format`` picks the module (imported only when asked for)."""

from __future__ import annotations

import importlib
from types import ModuleType

MODULES = {"pytorch": "pytorch", "onnx": "onnx", "tensorrt": "tensorrt"}


def for_format(fmt: str) -> ModuleType:
    """The backend module of a format (``pytorch``, ``onnx``, ``tensorrt``)."""
    try:
        return importlib.import_module(f"harness.models.backends.{MODULES[fmt]}")
    except KeyError:
        from harness.errors import SuiteError

        raise SuiteError(f"format {fmt!r} has no backend", f"use one of: {', '.join(MODULES)}") from None
