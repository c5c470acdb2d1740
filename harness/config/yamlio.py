"""YAML loading with pydantic validation and errors that name the YAML path.

Every YAML file the harness reads (profiles, suites, campaigns, inventories) goes
through ``read_yaml``: a regular file, at most ``MAX_YAML_BYTES``, UTF-8 text, and a
document that expands to at most ``MAX_YAML_NODES`` values (anchors and aliases are
fine; an alias bomb -- a few lines that expand to billions -- is refused before
anything walks, dumps or validates it).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import HarnessError
from harness.fsutil import read_bounded_text

M = TypeVar("M", bound=BaseModel)

MAX_YAML_BYTES = 4 << 20
MAX_YAML_NODES = 200_000


def expands_beyond(data, limit: int = MAX_YAML_NODES) -> bool:
    """True when walking ``data`` (aliases followed, as every consumer will) visits more than ``limit`` values."""
    stack, seen = [data], 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > limit:
            return True
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return False


def read_yaml(path: Path, error: type[HarnessError], what: str, fix: str):
    """Parse the YAML file ``path`` within the limits above; ``error`` names the file and what is wrong."""
    text = read_bounded_text(path, MAX_YAML_BYTES, error, what, fix, f"a {what} file is at most {MAX_YAML_BYTES >> 20} MiB")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise error(f"{path}{line}: not valid YAML ({getattr(e, 'problem', e)})", fix) from e
    except RecursionError:
        raise error(f"{path}: nested too deeply", fix) from None
    except (ValueError, OverflowError) as e:  # a scalar YAML cannot build: a 5000-digit integer, 2024-02-30
        raise error(f"{path}: a value cannot be read ({str(e)[:120]})", fix) from None
    if expands_beyond(data):
        raise error(f"{path}: expands to more than {MAX_YAML_NODES} values through its aliases (an alias bomb?)", fix)
    return data


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
    data = read_yaml(path, error, what, fix)
    if not isinstance(data, dict):
        raise error(f"{path}: a {what} must be a YAML mapping", fix)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise error(f"{path}: {describe_validation_error(e, model)}", fix) from e
