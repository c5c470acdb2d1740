"""``harness provision``: apply the Ansible playbook (ansible/site.yml) to a device or an inventory."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli._console import output


def provision_command(
    profile: str = typer.Option(None, "--profile", envvar="HARNESS_PROFILE",
                                help="Device profile name or YAML path; the inventory is rendered from it."),
    inventory: Path = typer.Option(None, "--inventory", "-i", help="An Ansible inventory instead of --profile "
                                   "(hosts' harness_profile supply the role variables)."),
    limit: str = typer.Option(None, "--limit", "-l", help="Host pattern within --inventory (e.g. jetsons, nano-1)."),
    check: bool = typer.Option(False, "--check", help="Dry run: report what would change, change nothing.", metavar=""),
    diff: bool = typer.Option(False, "--diff", help="Show the changes made to files.", metavar=""),
    extra_vars: list[str] = typer.Option(None, "--extra-vars", "-e", help="k=v, JSON or @file; wins over profile "
                                         "and inventory (repeatable)."),
    accept_new_host_key: bool = typer.Option(False, "--accept-new-host-key", help="Pin an unknown host key into known_hosts.", metavar=""),
    ask_become_pass: bool = typer.Option(False, "--ask-become-pass", "-K", help="Prompt for the sudo password on the device.", metavar=""),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More Ansible output (-v, -vv, -vvv)."),
) -> None:
    """Provision devices: container engine (+ NVIDIA runtime), jtop, power mode, GUI off, swap, logs, sudoers."""
    from rich.table import Table

    from harness.errors import ProvisionError
    from harness.provision import hints, provision

    if profile is None and inventory is None:
        raise ProvisionError("nothing to provision", "pass --profile NAME or --inventory FILE")
    if profile is not None and inventory is not None:
        raise ProvisionError("--profile and --inventory exclude each other",
                             "use --inventory with harness_profile host variables for several devices (unset HARNESS_PROFILE)")
    if limit and inventory is None:
        raise ProvisionError("--limit needs --inventory", "a --profile inventory has exactly one host")
    res = provision(profile, inventory, limit=limit, check=check, diff=diff, extra_vars=extra_vars or [],
                    accept_new_host_key=accept_new_host_key, ask_become_pass=ask_become_pass, verbosity=verbose)
    t = Table(title="provision" + (" (check mode: nothing changed)" if check else ""), header_style="bold")
    for col in ("host", "", "ok", "changed", "failed", "unreachable", "skipped"):
        t.add_column(col, justify="left" if col in ("host", "") else "right")
    for r in res.recap.values():
        t.add_row(r.host, "[green]ok[/]" if r.succeeded else "[red]FAIL[/]", str(r.ok), str(r.changed), str(r.failed),
                  str(r.unreachable), str(r.skipped))
    out = output()
    out.show(t)
    for fix in hints(res.output) if not res.ok else []:
        out.line(f"fix: {fix}")
    if not res.ok:
        raise typer.Exit(1)
