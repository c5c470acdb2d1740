"""The help a newcomer reads: conventional metavars, an Examples section whose commands parse against the real
flags, the commands grouped by workflow, shell completion."""

import shlex

import pytest
import typer
from typer.testing import CliRunner

from harness.cli import app
from harness.cli._examples import EXAMPLES
from harness.cli._help import PANELS

ROOT = typer.main.get_command(app)
TOP = list(ROOT.commands)


def help_of(*words: str) -> str:
    r = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    return r.output


@pytest.mark.parametrize("name", TOP)
def test_every_top_level_command_has_examples_and_readable_metavars(name):
    text = help_of(name)
    if name in EXAMPLES:
        assert "Examples:" in text and f"harness {name}" in text.split("Examples:", 1)[1]
    else:  # a command added since: its examples belong in harness/cli/_examples.py
        pytest.skip(f"{name}: no examples yet")
    for typer_ish in ("<str>", "<list[", "<int>", "<float>", "<path>", "{"):
        assert typer_ish not in text, (name, typer_ish)


def test_metavars_are_conventional():
    text = help_of("compare")
    assert "Usage: harness compare [OPTIONS] RUN_DIR..." in text
    assert "--baseline" in text and " RUN " in text and " EXPR " in text and " FILE " in text
    deploy = help_of("deploy")
    assert "--profile" in deploy and " NAME " in deploy and " SECONDS " in deploy and " RUN_ID " in deploy
    assert "Usage: harness schema [OPTIONS] [WHAT]" in help_of("schema")


def _command_and_args(line: str):
    words = shlex.split(line)
    if ">" in words:
        words = words[:words.index(">")]
    assert words[0] == "harness", line
    cmd, args, path = ROOT, words[1:], []
    while hasattr(cmd, "commands") and args and not args[0].startswith("-"):
        path.append(args[0])
        cmd = cmd.commands.get(args[0])
        assert cmd is not None, f"{line}: no command {' '.join(path)}"
        args = args[1:]
    return cmd, args, " ".join(path)


@pytest.mark.parametrize("key, line", [(k, line) for k, lines in EXAMPLES.items() for line in lines])
def test_every_example_is_a_real_command_with_real_flags(key, line, monkeypatch):
    if key.split()[0] not in ROOT.commands:
        pytest.skip(f"no command {key.split()[0]} in this checkout")
    for var in ("HARNESS_PROFILE", "HARNESS_SUITE", "HARNESS_RESULTS_DIR"):
        monkeypatch.delenv(var, raising=False)
    cmd, args, path = _command_and_args(line)
    assert path == key or path.startswith(f"{key} "), (key, line)
    with cmd.make_context(path, list(args)):  # unknown option, missing value or argument: a UsageError here
        pass


def test_examples_cover_every_command():
    def walk(group, path=()):
        for name, cmd in group.commands.items():
            yield " ".join((*path, name))
            if hasattr(cmd, "commands"):
                yield from walk(cmd, (*path, name))

    missing = [c for c in walk(ROOT) if c not in EXAMPLES and c.split()[0] in {n for _, ns in PANELS for n in ns}]
    assert missing == []


def test_top_level_help_groups_commands_by_workflow():
    text = help_of()
    at = [text.index(f"─ {panel} ") for panel, _ in PANELS]
    assert at == sorted(at), [p for p, _ in PANELS]
    assert "─ Commands " not in text  # every command is in a panel
    assert text.index(" run ") < text.index(" compare ") < text.index(" deploy ") < text.index(" schema ")


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o default -F _harness_completion harness"),
                                           ("zsh", "compdef _harness_completion harness"),
                                           ("fish", "complete --command harness")])
def test_completion_script_is_printed(shell, marker):
    r = CliRunner().invoke(app, ["completion", shell])
    assert r.exit_code == 0 and marker in r.output and "_HARNESS_COMPLETE=complete_" in r.output, r.output


def test_completion_of_an_unknown_shell_names_the_closest(run_harness):
    from tests.cli.conftest import assert_user_error

    assert_user_error(run_harness("completion", "bsh"), "no completion for shell 'bsh' (did you mean 'bash'?)")


def test_completion_completes_commands_and_flags(run_harness):
    r = run_harness(env={"_HARNESS_COMPLETE": "complete_bash", "COMP_WORDS": "harness compare --fi", "COMP_CWORD": "2"})
    assert r.returncode == 0 and r.stdout.split() == ["--filter"], r.stdout + r.stderr


def test_report_writes_beside_the_first_run_by_default():
    assert "(default: <first run>/report)" in help_of("report")
