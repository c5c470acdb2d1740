"""``harness telemetry``: which power backends work here, parse tegrastats logs, sample live."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from harness.cli._options import between

from harness.cli._console import output

app = typer.Typer(help="Power and thermal telemetry: probe backends, parse tegrastats, sample live.", no_args_is_help=True)


@app.command("probe")
def probe_command(
    profile: str = typer.Option("local", "--profile", envvar="HARNESS_PROFILE", help="Profile whose order to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON.", metavar=""),
) -> None:
    """Which telemetry backends are available here (built in or from plugins), and why not."""
    from rich.markup import escape
    from rich.table import Table

    from harness.config.profiles import load_profile
    from harness.extensions import telemetry_entries, telemetry_names
    from harness.telemetry.select import probe, select_sampler

    prof = load_profile(profile)
    sampler, _ = select_sampler(prof.telemetry.prefer, prof.telemetry.interval_ms)
    found = {n: (a.ok, a.reason) for n, _, a in probe(list(telemetry_names()), prof.telemetry.interval_ms)}
    rows = [(e.name, e.origin, *((False, e.problem) if e.problem else found[e.name]))
            for e in telemetry_entries()]
    if as_json:
        output().json({"selected": sampler.name, "order": prof.telemetry.prefer,
                          "backends": [{"name": n, "origin": o, "available": ok, "reason": r} for n, o, ok, r in rows]})
        return
    t = Table(title=f"telemetry backends (profile {prof.name}: {' > '.join(prof.telemetry.prefer)})", header_style="bold")
    for c in ("backend", "from", "available", "details"):
        t.add_column(c)
    for n, origin, ok, reason in rows:
        t.add_row(escape(n), escape(origin), "[green]yes[/]" if ok else "[red]no[/]", escape(reason))  # a plugin's words
    out = output()
    out.show(t)
    out.show(f"selected: [bold]{escape(sampler.name)}[/]" + ("" if sampler.name != "none" else f" ({escape(sampler.reason)})"))


@app.command("parse-tegrastats")
def parse_tegrastats(
    file: Path = typer.Argument(..., help="A saved tegrastats log."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array, one object per line.", metavar=""),
) -> None:
    """Parse a tegrastats log: total power with its scope, rails (mW), temperatures (C)."""
    from harness.errors import TelemetryError
    from harness.telemetry.backends.tegrastats import parse_text

    try:
        text = file.read_text(errors="replace")
    except OSError as e:
        raise TelemetryError(f"{file}: cannot read ({e.strerror})", "pass a tegrastats log file") from e
    rows = parse_text(text)
    if not rows:
        raise TelemetryError(f"{file}: no tegrastats lines found", "capture one with `tegrastats --interval 100 --logfile FILE`")
    if as_json:
        output().json({"file": str(file), "rows": [{k: r[k] for k in ("total_mw", "rails_mw", "temps_c", "scope", "clocks_mhz",
                                                                      "gpu_util_pct")} for r in rows]})
        return
    totals = [r["total_mw"] for r in rows if r["total_mw"] is not None]
    out = output()
    out.line(f"{len(rows)} lines, scope {rows[0]['scope']}, rails {', '.join(rows[0]['rails_mw'])}")
    if totals:
        out.line(f"total power: mean {sum(totals) / len(totals) / 1000:.3f} W, min {min(totals) / 1000:.3f} W, "
                  f"max {max(totals) / 1000:.3f} W")
    peaks: dict[str, float] = {}
    for r in rows:
        for k, v in r["temps_c"].items():
            peaks[k] = max(v, peaks.get(k, v))
    if peaks:
        out.line("peak temperatures: " + ", ".join(f"{k} {v:.1f} C" for k, v in peaks.items()))


@app.command("record")
def record(
    seconds: float = typer.Option(5.0, "--seconds", callback=between(0.1, 86400, " s"), help="How long to sample."),
    backend: str = typer.Option(None, "--backend", help="A backend `harness telemetry probe` lists (default: the profile's first available)."),
    profile: str = typer.Option("local", "--profile", envvar="HARNESS_PROFILE", help="Profile for order and rate."),
    csv: Path = typer.Option(None, "--csv", help="Also write the raw samples here."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object.", metavar=""),
) -> None:
    """Sample live for --seconds and print a summary (mean/min/max power, energy, peak temperatures)."""
    from harness.errors import TelemetryError
    from harness.config.profiles import load_profile
    from harness.telemetry.energy import peak_temps_c, window_energy_mj
    from harness.telemetry.select import make_sampler, select_sampler

    prof = load_profile(profile)
    if backend:
        sampler = make_sampler(backend, prof.telemetry.interval_ms)
        avail = sampler.available()
        if not avail.ok:
            raise TelemetryError(f"{backend}: not available here: {avail.reason}", "run `harness telemetry probe`")
    else:
        sampler, _ = select_sampler(prof.telemetry.prefer, prof.telemetry.interval_ms, required=True)
    sampler.start()
    sampler.mark("start")
    time.sleep(seconds)
    sampler.mark("end")
    trace = sampler.stop()
    sampler.close()
    energy = window_energy_mj(trace, trace.marks["start"], trace.marks["end"])
    power = [s.total_mw for s in trace.samples if s.total_mw is not None]
    peaks = peak_temps_c(trace, trace.marks["start"], trace.marks["end"])
    if csv:
        from harness.results.store import atomic_write_text

        atomic_write_text(csv, trace.to_csv())
    if as_json:
        output().json({"backend": trace.backend, "scope": trace.scope, "samples": len(trace.samples), "seconds": seconds,
                          "mean_w": sum(power) / len(power) / 1000 if power else None,
                          "min_w": min(power) / 1000 if power else None, "max_w": max(power) / 1000 if power else None,
                          "energy_j": None if energy is None else energy / 1000, "peak_temps_c": peaks,
                          "csv": str(csv) if csv else None})
        return
    out = output()
    out.line(f"{trace.backend} ({trace.scope}): {len(trace.samples)} samples in {seconds:g} s")
    if power:
        out.line(f"power: mean {sum(power) / len(power) / 1000:.3f} W, min {min(power) / 1000:.3f} W, max {max(power) / 1000:.3f} W")
    if energy is not None:
        out.line(f"energy: {energy / 1000:.3f} J over the window ({energy / seconds / 1000:.3f} W average)")
    if peaks:
        out.line("peak temperatures: " + ", ".join(f"{k} {v:.1f} C" for k, v in peaks.items()))
    if csv:
        out.line(f"samples written to {csv}")
