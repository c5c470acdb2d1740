"""``harness run``: the suite on this machine (the embedded default)."""

from __future__ import annotations

import signal
from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import console, print_comparison, print_json



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
    from harness.fsutil import DirLock
    from harness.measure.plan import RunPlan, new_run_id
    from harness.measure.runner import Runner
    from harness.mot.synth import demo_sequence
    from harness.results.store import RunStore

    con = console(stderr=as_json)  # with --json, stdout carries the JSON only
    if resume is not None:
        store = RunStore(resume)
        plan = RunPlan.from_manifest(store.read_manifest())
        con.print(f"resuming {store.root}", highlight=False)
    else:
        s = with_overrides(load_suite(suite), frames, imgsz, weights, repeats)
        prof = load_profile(profile)
        seq = sequence if sequence is not None else demo_sequence(s.frames, con.print)
        rid = run_id or new_run_id(prof.name, s.name)
        if mode_control not in ("local", "host"):
            raise typer.BadParameter("--mode-control is local or host")
        plan = RunPlan(rid, s, prof, Path(seq), mode_control)
        store = RunStore(out / rid)
    bar = RunProgress(con)
    runner = Runner(store, plan, bar)  # validates the sequence before anything is written
    old = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with DirLock(store.root, "harness run"):  # one writer per run directory: a second run/--resume is refused
            if resume is None:
                store.create(plan.manifest())
            records = runner.run()
    except KeyboardInterrupt:
        bar.close()
        _mark_interrupted(store)
        con.print(f"[yellow]interrupted[/]: finished cells are saved; continue with "
                  f"[bold]harness run --resume {store.root}[/]")
        raise typer.Exit(130) from None
    finally:
        bar.close()
        signal.signal(signal.SIGTERM, old)
    waiting = store.read_manifest()
    if waiting.get("state") == "awaiting_mode":  # a deployed sweep: the host sets the mode and resumes
        con.print(f"awaiting power mode {waiting.get('wanted_mode')}: the host switches it and resumes {store.root}",
                  highlight=False)
        return
    counts = {s: sum(r["status"] == s for r in records) for s in ("ok", "skipped", "failed")}
    if as_json:
        from harness.results.compare import compare
        from harness.results.load import load_runs

        print_json({"run_dir": str(store.root), "counts": counts, "rows": compare(load_runs([*(compare_with or []), store.root]))})
    else:
        print_comparison(store.root, compare_with or [], f"{plan.run_id}: {plan.suite.name} on {plan.profile.name}", wide)
        con.print(f"{counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed — run directory: {store.root}",
                  highlight=False)
    if counts["failed"]:
        raise typer.Exit(1)


def _mark_interrupted(store) -> None:
    """A run stopped before its runner took over (between creating the run directory and the first cell's
    bookkeeping, under load a noticeable while) is marked interrupted too, never left ``running``."""
    from harness.errors import HarnessError

    try:
        manifest = store.read_manifest()
        if manifest.get("state") == "running":
            manifest["state"] = "interrupted"
            store.write_manifest(manifest)
    except HarnessError:
        pass  # no manifest yet, or the disk is full: nothing to mark, the records are intact
