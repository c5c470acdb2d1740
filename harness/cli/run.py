"""``harness run``: the suite on this machine (the embedded default)."""

from __future__ import annotations

import signal
from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import console, print_comparison



def _raise_interrupt(signum, frame):  # noqa: ARG001
    raise KeyboardInterrupt


def run_command(
    profile: str = typer.Option("local", "--profile", envvar="HARNESS_PROFILE", help="Profile name or YAML path."),
    suite: str = opts.SUITE,
    sequence: Path = typer.Option(None, "--sequence", help="MOT sequence dir (default: a cached synthetic one)."),
    frames: int = opts.FRAMES,
    imgsz: int = opts.IMGSZ,
    out: Path = opts.OUT,
    weights: str = typer.Option(None, "--weights", help="auto (pretrained, else random-init) | pretrained | random; overrides the suite."),
    resume: Path = typer.Option(None, "--resume", help="Continue an interrupted run directory."),
    run_id: str = opts.RUN_ID,
    compare_with: list[Path] = typer.Option(None, "--compare-with", help="Reference run dir(s) for the closing comparison (repeatable); the first is the baseline."),
) -> None:
    """Run a benchmark suite on this machine and write a run directory."""
    from harness.measure.plan import RunPlan, new_run_id
    from harness.measure.runner import Runner
    from harness.fsutil import DirLock
    from harness.config.profiles import load_profile
    from harness.results.store import RunStore
    from harness.results.render.table import records_table
    from harness.config.suite import load_suite, with_overrides
    from harness.mot.synth import demo_sequence

    con = console()
    if resume is not None:
        store = RunStore(resume)
        plan = RunPlan.from_manifest(store.read_manifest())
        con.print(f"resuming {store.root}")
    else:
        s = with_overrides(load_suite(suite), frames, imgsz, weights)
        prof = load_profile(profile)
        seq = sequence if sequence is not None else demo_sequence(s.frames, con.print)
        rid = run_id or new_run_id(prof.name, s.name)
        plan = RunPlan(rid, s, prof, Path(seq))
        store = RunStore(out / rid)
    runner = Runner(store, plan, _printer(con))  # validates the sequence before anything is written
    old = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with DirLock(store.root, "harness run"):  # one writer per run directory: a second run/--resume is refused
            if resume is None:
                store.create(plan.manifest())
            records = runner.run()
    except KeyboardInterrupt:
        con.print(f"[yellow]interrupted[/]: finished cells are saved; continue with "
                  f"[bold]harness run --resume {store.root}[/]")
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGTERM, old)
    con.print(records_table(records, title=f"{plan.run_id} — {plan.suite.name} on {plan.profile.name}"))
    print_comparison(store.root, compare_with or [])
    counts = {s: sum(r["status"] == s for r in records) for s in ("ok", "skipped", "failed")}
    con.print(f"{counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed — run directory: {store.root}")


def _printer(con):
    from harness.results.rows import at

    def progress(event: str, data: dict) -> None:
        if event == "start":
            con.print(f"{data['todo']} of {data['total']} cells to run -> {data['run_dir']}")
        elif event == "cell_start":
            con.print(f"[{data['index']}/{data['total']}] {data['cell'].cell_id} ...", end=" ")
        elif event == "cell_done":
            r = data["record"]
            if r["status"] == "ok":
                f1 = at(r, "quality", "f1")
                con.print(f"[green]ok[/] {r['latency']['total']['mean_ms']:.1f} ms/frame"
                          + (f", F1 {f1:.3f}" if f1 is not None else "") + f" ({r['duration_s']:.0f} s)")
            else:
                style = "yellow" if r["status"] == "skipped" else "red"
                con.print(f"[{style}]{r['status']}[/]: {r['reason']}")
    return progress
