"""``harness deploy``: the suite on a device over SSH; results pulled into results/<run-id>/."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import output


def deploy_command(
    profile: str = typer.Option(..., "--profile", envvar="HARNESS_PROFILE", help="Device profile name or YAML path."),
    suite: str = opts.SUITE,
    sequence: Path = typer.Option(None, "--sequence", help="Local MOT sequence to ship (default: the cached synthetic one)."),
    device_sequence: str = typer.Option(None, "--device-sequence", help="A MOT sequence already on the device (nothing shipped)."),
    frames: int = opts.FRAMES,
    imgsz: int = opts.IMGSZ,
    out: Path = opts.OUT,
    run_id: str = opts.RUN_ID,
    resume: bool = typer.Option(False, "--resume", help="Continue run --run-id on the device (after a lost link or reboot).", metavar=""),
    accept_new_host_key: bool = typer.Option(False, "--accept-new-host-key", help="Pin an unknown host key into known_hosts.", metavar=""),
    poll_s: float = typer.Option(2.0, "--poll-s", callback=opts.between(0.1, 600, " s"), help="Seconds between progress polls."),
    wide: bool = opts.WIDE,
    as_json: bool = opts.JSON,
) -> None:
    """Preflight, lock, ship, run detached on the device, follow progress and pull records; exit 1 when a cell failed.

    A profile with connection.pool: labgrid leases any free board with its tags first (waiting in the
    coordinator's queue) and gives it back at the end (docs/farm.md)."""
    from harness.measure.plan import new_run_id
    from harness.errors import ProfileError
    from harness.config.profiles import load_profile
    from harness.cli._deploy_progress import DeployProgress
    from harness.farm.leased import deploy_leased
    from harness.remote.deploy import DeployPlan, refuse_existing_run
    from harness.remote.events import Farm
    from harness.config.suite import load_suite, with_overrides
    from harness.mot.synth import demo_sequence

    prof = load_profile(profile)
    s = with_overrides(load_suite(suite), frames, imgsz, None)
    if resume and not run_id:
        raise ProfileError("--resume needs --run-id", "pass the run id printed by the first deploy")
    rid = run_id or new_run_id(prof.name, s.name)
    if not resume:  # before any lease or connection: a reused id would ship, start, then fail on the device
        refuse_existing_run(out, rid)
    view = output(as_json)
    seq = sequence if sequence is not None else (Path(".") if device_sequence else demo_sequence(s.frames, view.line))
    plan = DeployPlan(prof, s, Path(seq), rid, out, accept_new_host_key, poll_s, device_sequence=device_sequence)
    progress = DeployProgress(view.con)
    try:
        store = deploy_leased(plan, progress, resume, lambda text: progress(Farm(text)))
    finally:
        progress.close()
    code = view.closing(store.root, store.read_records(), f"{plan.run_id}: {s.name} on {prof.name}", wide=wide)
    if code:
        raise typer.Exit(code)
