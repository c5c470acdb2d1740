"""YAML loading with pydantic validation and errors that name the YAML path."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import HarnessError

M = TypeVar("M", bound=BaseModel)


def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _model_of(annotation) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``Foo``, ``Foo | None``, ``list[Foo]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def describe_validation_error(e: ValidationError, model: type[BaseModel]) -> str:
    """The most telling problem of a pydantic error as 'field.path: what is wrong'.

    Unknown keys come first: a typo ('modles') also makes the real key look
    missing, and the typo is what the user must fix.
    """
    errors = sorted(e.errors(), key=lambda err: err["type"] != "extra_forbidden")
    err = errors[0]
    where = _loc(err["loc"])
    if err["type"] == "extra_forbidden":
        parent: type[BaseModel] | None = model
        for part in err["loc"][:-1]:
            if parent is None or not isinstance(part, str):
                continue
            field = parent.model_fields.get(part)
            parent = _model_of(field.annotation) if field else None
        allowed = sorted(parent.model_fields) if parent is not None else []
        close = difflib.get_close_matches(str(err["loc"][-1]), allowed, n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        return f"{where}: unknown key ({guess}allowed here: {', '.join(allowed) or '?'})"
    msg = err["msg"]
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {msg}{more}"


def load_model_yaml(path: Path, model: type[M], error: type[HarnessError], what: str, fix: str) -> M:
    """Load ``path`` as YAML and validate it into ``model``; ``error`` names path and field."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise error(f"{path}: {what} file not found", fix) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise error(f"{path}{line}: not valid YAML ({getattr(e, 'problem', e)})", fix) from e
    if not isinstance(data, dict):
        raise error(f"{path}: a {what} must be a YAML mapping", fix)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise error(f"{path}: {describe_validation_error(e, model)}", fix) from e
