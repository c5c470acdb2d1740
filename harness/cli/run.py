"""``harness run``: the suite on this machine (the embedded default)."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import output


def run_command(
    profile: str = typer.Option("local", "--profile", envvar="HARNESS_PROFILE", help="Profile name or YAML path."),
    suite: str = opts.SUITE,
    sequence: Path = typer.Option(None, "--sequence", help="MOT sequence dir (default: a cached synthetic one)."),
    frames: int = opts.FRAMES,
    imgsz: int = opts.IMGSZ,
    out: Path = opts.OUT,
    weights: str = typer.Option(None, "--weights", help="auto (pretrained, else random-init) | pretrained | random; overrides the suite."),
    repeats: int = typer.Option(None, "--repeats", help="Measure every cell this often, interleaved (the rerun interval needs >= 2); overrides the suite."),
    resume: Path = typer.Option(None, "--resume", help="Continue an interrupted run directory."),
    run_id: str = opts.RUN_ID,
    compare_with: list[Path] = typer.Option(None, "--compare-with", help="Reference run dir(s) for the closing table (repeatable); the first is the baseline."),
    wide: bool = opts.WIDE,
    as_json: bool = opts.JSON,
    mode_control: str = typer.Option("local", "--mode-control", hidden=True,
                                     help="Who switches power modes in a sweep: local (this runner) | host (deploy)."),
) -> None:
    """Run a benchmark suite on this machine and write a run directory; exit 1 when a cell failed."""
    from harness.cli._progress import RunProgress
    from harness.config.profiles import load_profile
    from harness.config.suite import load_suite, with_overrides
    from harness.measure.local_run import run_here
    from harness.measure.plan import RunPlan, new_run_id
    from harness.mot.synth import demo_sequence
    from harness.results.store import RunStore

    view = output(as_json)  # with --json, stdout carries the JSON only
    if resume is not None:
        store = RunStore(resume)
        plan = RunPlan.from_manifest(store.read_manifest())
        view.line(f"resuming {store.root}")
    else:
        s = with_overrides(load_suite(suite), frames, imgsz, weights, repeats)
        prof = load_profile(profile)
        seq = sequence if sequence is not None else demo_sequence(s.frames, view.line)
        rid = run_id or new_run_id(prof.name, s.name)
        if mode_control not in ("local", "host"):
            raise typer.BadParameter("--mode-control is local or host")
        plan = RunPlan(rid, s, prof, Path(seq), mode_control)
        store = RunStore(out / rid)
    bar = RunProgress(view.con)
    try:
        done = run_here(store, plan, bar, resume=resume is not None)
    finally:
        bar.close()
    if done.wanted_mode is not None:  # a deployed sweep: the host sets the mode and resumes
        view.line(f"awaiting power mode {done.wanted_mode}: the host switches it and resumes {store.root}")
        return
    if mode_control == "local":  # a deployed runner's run goes into the host's catalogue when it is pulled
        from harness.catalogue.store import add_finished

        problem = add_finished(store.root)[1]
        if problem:
            view.flagged("warning", "yellow", problem)
    code = view.closing(store.root, done.records, f"{plan.run_id}: {plan.suite.name} on {plan.profile.name}",
                        compare_with, wide)
    if code:
        raise typer.Exit(code)
