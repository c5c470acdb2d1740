"""``harness doctor``: preflight a device over SSH and print the checklist."""

from __future__ import annotations

import json

import typer

from harness.cli._console import console


def doctor_command(
    profile: str = typer.Option(..., "--profile", envvar="HARNESS_PROFILE", help="Device profile name or YAML path."),
    accept_new_host_key: bool = typer.Option(False, "--accept-new-host-key", help="Pin an unknown host key into the profile's known_hosts.", metavar=""),
    as_json: bool = typer.Option(False, "--json", help="Print facts and checks as JSON.", metavar=""),
) -> None:
    """Reach the device and check it against its profile (board, L4T, disk, engine, runtimes, power mode)."""
    from rich.table import Table
    from rich.text import Text

    from harness.errors import ProfileError, RemoteError
    from harness.config.profiles import load_profile
    from harness.remote.connection import DeviceConnection
    from harness.remote.preflight import run_preflight

    prof = load_profile(profile)
    if prof.connection is None:
        raise ProfileError(f"profile {prof.name!r} has no connection block", "doctor checks remote devices; add connection: {host: ...}")
    try:
        with DeviceConnection(prof.connection, accept_new_host_key, prof.timeouts.command_s) as conn:
            facts, checks = run_preflight(conn, prof)
    except RemoteError as e:
        if not as_json:
            raise
        print(json.dumps({"device": f"{prof.connection.user}@{prof.connection.host}:{prof.connection.port}", "ok": False,
                          "error": e.message, "fix": e.hint}))
        raise typer.Exit(2) from None
    failed = [c for c in checks if not c.ok]
    if as_json:
        print(json.dumps({"device": conn.where, "facts": facts, "ok": not failed,
                          "checks": [{"name": c.name, "ok": c.ok, "info": c.info, "detail": c.detail} for c in checks]}))
    else:
        t = Table(title=f"{prof.name} ({conn.where})", header_style="bold")
        for col in ("check", "", "detail"):
            t.add_column(col)
        for c in checks:
            style = "dim" if c.info else ("green" if c.ok else "red")
            t.add_row(c.name, Text(c.mark, style=style), Text(c.detail))  # the device's words, no markup
        console().print(t)
    if failed:
        raise typer.Exit(1)
