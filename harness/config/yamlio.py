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


MAX_PROBLEMS = 8  # listed in one error; more are counted


def _parent_model(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model that holds the last key of ``loc`` (None when a free-form mapping is on the way)."""
    parent: type[BaseModel] | None = model
    for part in loc[:-1]:
        if parent is None or not isinstance(part, str):
            continue
        field = parent.model_fields.get(part)
        parent = _model_of(field.annotation) if field else None
    return parent


def _literal_choices(err: dict) -> list[str]:
    """The allowed values of a ``literal_error`` / ``enum`` error (``'fp32', 'fp16' or 'int8'``)."""
    import re

    expected = str((err.get("ctx") or {}).get("expected", ""))
    return re.findall(r"'([^']*)'", expected)


def _problem(err: dict, model: type[BaseModel]) -> tuple[str, str | None]:
    """'field.path: what is wrong' of one pydantic error, and the key an unknown key was probably meant to be."""
    from harness.names import did_you_mean

    where = _loc(err["loc"])
    if err["type"] == "extra_forbidden":
        parent = _parent_model(model, err["loc"])
        allowed = sorted(parent.model_fields) if parent is not None else []
        close = difflib.get_close_matches(str(err["loc"][-1]), allowed, n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        return f"{where}: unknown key ({guess}allowed here: {', '.join(allowed) or '?'})", (close[0] if close else None)
    msg = err["msg"]
    if err["type"] in ("literal_error", "enum") and isinstance(err.get("input"), str):
        msg += did_you_mean(err["input"], _literal_choices(err))
    return f"{where}: {msg}", None


def describe_validation_error(e: ValidationError, model: type[BaseModel]) -> str:
    """Every problem of a pydantic error as 'field.path: what is wrong', joined by '; ' (one line).

    Unknown keys come first: a typo ('modles') also makes the real key look missing, and the typo is what the
    user must fix -- so a 'Field required' for the key a typo was probably meant to be is left out. One problem
    per field (a union reports each of its branches); past ``MAX_PROBLEMS`` the rest are counted.
    """
    errors = sorted(e.errors(), key=lambda err: err["type"] != "extra_forbidden")
    meant: set[tuple] = set()
    seen: set[str] = set()
    problems: list[str] = []
    for err in errors:
        if err["type"] == "missing" and tuple(err["loc"]) in meant:
            continue
        text, guess = _problem(err, model)
        if guess is not None:
            meant.add((*tuple(err["loc"])[:-1], guess))
        where = text.split(": ", 1)[0]
        if where in seen:
            continue
        seen.add(where)
        problems.append(text)
    more = f" (+{len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
    return "; ".join(problems[:MAX_PROBLEMS]) + more


def load_model_yaml(path: Path, model: type[M], error: type[HarnessError], what: str, fix: str) -> M:
    """Load ``path`` as YAML and validate it into ``model``; ``error`` names path and field."""
    data = read_yaml(path, error, what, fix)
    if not isinstance(data, dict):
        raise error(f"{path}: a {what} must be a YAML mapping", fix)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise error(f"{path}: {describe_validation_error(e, model)}", fix) from e
