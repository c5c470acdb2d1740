"""How ``harness --help`` reads: conventional metavars, commands grouped by workflow, an ``Examples:`` section.

typer's own help shows a value's Python type (``--profile <str>``, ``runs... <list[Path]>``, ``{runs}...``); a
newcomer reads ``--profile NAME`` and ``RUN_DIR...``. The metavar comes from the parameter's name (``METAVARS``),
else its type; a ``metavar=`` given where the option is defined wins. Commands are listed in panels in the order
one works (``PANELS``); examples come from ``_examples.EXAMPLES``, one table for every command.
"""

from __future__ import annotations

import typer
import typer.core
from typer.models import DefaultPlaceholder

# by the parameter's Python name; ("command", "name") for one command's own meaning of a common name
METAVARS: dict = {
    "profile": "NAME", "suite": "NAME", "backend": "NAME", "device": "NAME", "model": "NAME", "name": "NAME",
    "sequence": "SEQ_DIR", "seq_dir": "SEQ_DIR", "sequences": "SEQ_DIR", "device_sequence": "PATH",
    "out": "DIR", "out_dir": "OUT_DIR", "results": "DIR", "root": "CAMPAIGN_DIR",
    "runs": "RUN_DIR", "run_dir": "RUN_DIR", "resume": "RUN_DIR", "compare_with": "RUN_DIR", "run_id": "RUN_ID",
    "baseline": "RUN", "sort": "KEY", "filter_expr": "EXPR", "variant": "TEXT", "config": "TEXT",
    "csv_path": "FILE", "parquet_path": "FILE", "csv": "FILE", "plot": "FILE", "gt": "FILE", "det": "FILE",
    "file": "FILE", "wheel": "FILE", "inventory": "FILE", "sql": "SQL", ("history", "where"): "SQL",
    "iou": "0-1", "conf": "0-1", "val_fraction": "0-1", "min_visibility": "0-1", "min_change": "PERCENT",
    "weights": "auto|pretrained|random", "mode_control": "local|host", "compute": "auto|cpu|cuda",
    ("image build", "where"): "auto|local|device", "engine": "docker|podman", "what": "WHAT",
    "limit": "PATTERN", "extra_vars": "VARS", "size": "WxH", "build_arg": "KEY=VALUE", "build_opt": "OPTION",
    "tag": "IMAGE", "platform": "OS/ARCH", "seconds": "SECONDS", "poll_s": "SECONDS",
}

# panels of `harness --help`, in the order one works; a command not listed here is shown after these
PANELS: list[tuple[str, list[str]]] = [
    ("Run here", ["run", "eval"]),
    ("Results", ["compare", "report", "history", "regressions", "results"]),
    ("Boards", ["sim", "deploy", "status", "pull", "logs", "stop", "campaign", "farm", "provision", "image"]),
    ("Set-up", ["doctor", "data", "models", "profiles", "suites", "telemetry", "completion"]),
    ("Reference", ["schema"]),
]
_PANEL_OF = {name: panel for panel, names in PANELS for name in names}
_ORDER = [name for _, names in PANELS for name in names]


def _command_path(ctx) -> str:
    """``image build`` for ``harness image build``: the words after the program's name."""
    return " ".join(ctx.command_path.split()[1:]) if ctx is not None else ""


def metavar_of(param, ctx) -> str:
    """The metavar for ``param``: its own, else by name (``METAVARS``), else by type (``N``, ``NUMBER``, ``PATH``)."""
    if param.metavar is not None:
        return param.metavar
    cmd = _command_path(ctx)
    if (cmd, param.name) in METAVARS:
        return METAVARS[(cmd, param.name)]
    if param.name in METAVARS:
        return METAVARS[param.name]
    desc = param.type_descriptor
    label = param.bare_type().removeprefix("list[").removesuffix("]")
    if desc.is_path or label == "Path":
        return "PATH"
    if label == "int":
        return "N"
    if label == "float":
        return "SECONDS" if param.name.endswith("_s") else "NUMBER"
    return param.name.upper()


def _option_type(self, ctx):
    """An option's value column: nothing for a flag (it takes no value), else its metavar."""
    if self.is_flag or getattr(self, "count", False):
        return None
    return metavar_of(self, ctx)


def _argument_usage(self) -> str:
    """``RUN_DIR...`` (required) / ``[WHAT]`` (optional) in the usage line, as every Unix tool writes it."""
    name = self.display_name_raw
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


typer.core.TyperOption.display_type_rich = _option_type
typer.core.TyperArgument.display_name_raw = property(lambda self: self.metavar or metavar_of(self, None))
typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # the name column already is the metavar
typer.core.TyperArgument._usage_display_name = _argument_usage


class WorkflowGroup(typer.core.TyperGroup):
    """The top-level group: commands listed in ``PANELS`` order, each in its panel."""

    def list_commands(self, ctx) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: _ORDER.index(n) if n in _ORDER else len(_ORDER))

    def get_command(self, ctx, name):
        cmd = super().get_command(ctx, name)
        if cmd is not None and name in _PANEL_OF and not getattr(cmd, "rich_help_panel", None):
            cmd.rich_help_panel = _PANEL_OF[name]
        return cmd


def epilog(lines: list[str]) -> str:
    """An ``Examples:`` section, one command a line (rich markup: a ``[`` in a command is escaped)."""
    from rich.markup import escape

    return "\n".join(["Examples:", *(f"  {escape(line)}" for line in lines)])


def apply_examples(app: typer.Typer, examples: dict[str, list[str]], path: tuple[str, ...] = ()) -> None:
    """Every command and group of ``app`` gets its ``examples`` entry (by command path) as its epilog."""
    for info in app.registered_commands:
        name = info.name or info.callback.__name__.replace("_", "-")
        key = " ".join((*path, name))
        if key in examples and info.epilog is None:
            info.epilog = epilog(examples[key])
    for group in app.registered_groups:
        name = group.name or group.typer_instance.info.name
        key = " ".join((*path, name))
        if key in examples and (group.epilog is None or isinstance(group.epilog, DefaultPlaceholder)):
            group.epilog = epilog(examples[key])
        apply_examples(group.typer_instance, examples, (*path, name))
