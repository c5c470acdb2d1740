"""``harness completion SHELL``: the shell's completion script on stdout (also ``--install-completion``)."""

from __future__ import annotations

import typer

from harness.cli._console import output

SHELLS = ("bash", "zsh", "fish", "powershell")


def completion_command(shell: str = typer.Argument(..., metavar="bash|zsh|fish|powershell",
                                                   help="The shell to complete in.")) -> None:
    """Print the completion script for SHELL: commands, options and their values complete on Tab.

    Save it where the shell loads completions (see the examples), or run `harness --install-completion` to let the
    harness add it to the shell's start-up file."""
    from typer._completion_shared import get_completion_script

    from harness.errors import HarnessError

    if shell not in SHELLS:
        from harness.names import did_you_mean

        raise HarnessError(f"no completion for shell {shell[:40]!r}{did_you_mean(shell, SHELLS)}",
                           f"use one of: {', '.join(SHELLS)}")
    output().text(get_completion_script(prog_name="harness", complete_var="_HARNESS_COMPLETE", shell=shell))
