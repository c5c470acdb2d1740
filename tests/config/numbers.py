"""Every numeric setting of a config model, found from its JSON schema, and the attack values each one must refuse.

A new numeric field is found here without anyone listing it, so it cannot escape the out-of-range tests.
"""

from __future__ import annotations

import copy

import yaml

# nan and inf as YAML writes them (.nan, .inf), 1e300 as a float and as YAML reads an unquoted `1e300` (a string),
# negative, a 400-digit integer, a word, and a YAML boolean
ATTACKS = [float("nan"), float("inf"), float("-inf"), 1e300, "1e300", -1, -1e300, 10**400, "abc", True]
ATTACK_IDS = ["nan", "inf", "-inf", "1e300", "str-1e300", "-1", "-1e300", "400-digits", "abc", "true"]


def _walk(node: dict, defs: dict, path: tuple):
    if "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    if node.get("type") == "object" and "properties" in node:
        for name, prop in node["properties"].items():
            yield from _walk(prop, defs, (*path, name))
    elif node.get("type") == "array" and isinstance(node.get("items"), dict):
        yield from _walk(node["items"], defs, (*path, 0))
    elif "anyOf" in node:
        found = {}
        for option in node["anyOf"]:
            for p, leaf in _walk(option, defs, path):
                found.setdefault(p, leaf)
        yield from found.items()
    elif node.get("type") in ("integer", "number"):
        yield path, node


def numeric_fields(model) -> list[tuple]:
    """(path, JSON-schema node) of every int / float setting of ``model`` and the models inside it."""
    schema = model.model_json_schema()
    return list(_walk(schema, schema.get("$defs", {}), ()))


def dotted(path: tuple) -> str:
    """A field path as the loader's errors write it: ``experiments[0].variants[0].prune_ratio``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def with_value(base: dict, path: tuple, value) -> dict:
    """``base`` with ``value`` at ``path`` (missing mappings and one-item lists made on the way)."""
    doc = copy.deepcopy(base)
    node = doc
    for part, nxt in zip(path, path[1:]):
        if isinstance(part, int):
            while len(node) <= part:
                node.append({})
            node = node[part]
        else:
            if node.get(part) is None:
                node[part] = [] if isinstance(nxt, int) else {}
            node = node[part]
    node[path[-1]] = value
    return doc


def write(tmp_path, doc: dict):
    f = tmp_path / "attack.yaml"
    f.write_text(yaml.safe_dump(doc, sort_keys=False))
    return f


def assert_refused_in_one_line(load, error: type, base: dict, path: tuple, value, tmp_path) -> None:
    """``value`` at ``path`` of ``base`` written to a file and loaded: ``error`` with one line naming the file, the
    field and the range to use (never a traceback, never a multi-line dump)."""
    import pytest

    f = write(tmp_path, with_value(base, path, value))
    with pytest.raises(error) as e:
        load(str(f))
    msg = e.value.message
    assert msg.startswith(f"{f}: {dotted(path)}: ") and " is not allowed: use " in msg, msg
    assert "\n" not in str(e.value) and len(msg) < 300, msg
