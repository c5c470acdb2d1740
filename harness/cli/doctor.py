"""``harness doctor``: preflight a device over SSH and print the checklist."""

from __future__ import annotations


import typer

from harness.cli._console import output


def doctor_command(
    profile: str = typer.Option("local", "--profile", envvar="HARNESS_PROFILE", help="Device profile name or YAML path (default local: this machine)."),
    accept_new_host_key: bool = typer.Option(False, "--accept-new-host-key", help="Pin an unknown host key into the profile's known_hosts.", metavar=""),
    as_json: bool = typer.Option(False, "--json", help="Print facts and checks as JSON.", metavar=""),
) -> None:
    """Reach the device and check it against its profile (board, L4T, disk, engine, runtimes, power mode, is it quiet);
    with a profile without a connection (local), check this machine: is it quiet enough to measure, threads."""
    from rich.table import Table
    from rich.text import Text

    from harness.errors import RemoteError
    from harness.config.profiles import load_profile
    from harness.remote.connection import DeviceConnection
    from harness.remote.preflight import run_preflight

    prof = load_profile(profile)
    if prof.connection is None:
        _local(prof, as_json)
        return
    try:
        with DeviceConnection(prof.connection, accept_new_host_key, prof.timeouts.command_s) as conn:
            facts, checks = run_preflight(conn, prof)
    except RemoteError as e:
        if not as_json:
            raise
        output().json({"device": f"{prof.connection.user}@{prof.connection.host}:{prof.connection.port}", "ok": False,
                       "error": e.message, "fix": e.hint})
        raise typer.Exit(2) from None
    failed = [c for c in checks if not c.ok]
    if as_json:
        output().json({"device": conn.where, "facts": facts, "ok": not failed,
                       "checks": [{"name": c.name, "ok": c.ok, "info": c.info, "detail": c.detail} for c in checks]})
    else:
        t = Table(title=f"{prof.name} ({conn.where})", header_style="bold")
        for col in ("check", "", "detail"):
            t.add_column(col)
        for c in checks:
            style = "dim" if c.info else ("green" if c.ok else "red")
            t.add_row(c.name, Text(c.mark, style=style), Text(c.detail))  # the device's words, no markup
        output().show(t)
    if failed:
        raise typer.Exit(1)


def _local(prof, as_json: bool) -> None:
    """This machine before a run: a second of what other processes do, the threads a run would use."""
    from rich.table import Table

    from harness.measure.host import Thresholds, quiet_check, quiet_verdict
    from harness.measure.threads import choose_threads, over_idle

    m = prof.measure
    limits = Thresholds(m.max_other_cpu_share, m.max_steal_share)
    state = quiet_check(1.0, limits)
    quiet, line = quiet_verdict(state.get("other_cpu_share"), state.get("steal_share"), state.get("load_1m_max"),
                                state["cpus"], limits)
    threads = choose_threads(m.threads)
    warn = over_idle(threads, state)
    checks = [("quiet", quiet is not False, line),
              ("threads", warn is None, warn or f"{threads} inference threads on {state.get('free_cores', state['cpus']):.1f} "
               f"free of {state['cpus']} CPUs (measure.threads: {m.threads})")]
    if state.get("cpu_freq_min_ratio") is not None:
        checks.append(("clocks", True, f"CPU clocks at {state['cpu_freq_min_ratio']:.0%} of their maximum"))
    if state.get("mem_pressure_max"):
        checks.append(("memory", state["mem_pressure_max"] < 10, f"memory pressure {state['mem_pressure_max']:.1f} % "
                       f"(some avg10), {state.get('mem_available_min_mb') or 0:.0f} MB available"))
    if as_json:
        output().json({"device": "local", "ok": all(ok for _, ok, _ in checks), "host_state": state,
                       "checks": [{"name": n, "ok": ok, "detail": d} for n, ok, d in checks]})
    else:
        t = Table(title=f"{prof.name} (this machine)", header_style="bold")
        for col in ("check", "", "detail"):
            t.add_column(col)
        for name, ok, detail in checks:
            t.add_row(name, "[green]ok[/]" if ok else "[yellow]BUSY[/]", detail)
        output().show(t)
    if not all(ok for _, ok, _ in checks):
        raise typer.Exit(1)
