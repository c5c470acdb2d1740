"""``harness deploy``: the suite on a device over SSH; results pulled into results/<run-id>/."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import console, print_comparison


def deploy_command(
    profile: str = typer.Option(..., "--profile", envvar="HARNESS_PROFILE", help="Device profile name or YAML path."),
    suite: str = opts.SUITE,
    sequence: Path = typer.Option(None, "--sequence", help="Local MOT sequence to ship (default: the cached synthetic one)."),
    device_sequence: str = typer.Option(None, "--device-sequence", help="A MOT sequence already on the device (nothing shipped)."),
    frames: int = opts.FRAMES,
    imgsz: int = opts.IMGSZ,
    out: Path = opts.OUT,
    run_id: str = opts.RUN_ID,
    resume: bool = typer.Option(False, "--resume", help="Continue run --run-id on the device (after a lost link or reboot)."),
    accept_new_host_key: bool = typer.Option(False, "--accept-new-host-key", help="Pin an unknown host key into known_hosts."),
    poll_s: float = typer.Option(2.0, "--poll-s", help="Seconds between progress polls."),
) -> None:
    """Preflight, lock, ship, run detached on the device, follow progress and pull records as they finish."""
    from harness.measure.plan import new_run_id
    from harness.errors import ProfileError
    from harness.config.profiles import load_profile
    from harness.remote.deploy import DeployPlan, deploy
    from harness.config.suite import load_suite, with_overrides
    from harness.mot.synth import demo_sequence

    prof = load_profile(profile)
    s = with_overrides(load_suite(suite), frames, imgsz, None)
    if resume and not run_id:
        raise ProfileError("--resume needs --run-id", "pass the run id printed by the first deploy")
    seq = sequence if sequence is not None else (Path(".") if device_sequence else demo_sequence(s.frames, console().print))
    plan = DeployPlan(prof, s, Path(seq), run_id or new_run_id(prof.name, s.name), out, accept_new_host_key, poll_s,
                      device_sequence=device_sequence)
    con = console()
    last: list = [None]
    last_image = [0.0]

    def progress(event: str, data: dict) -> None:
        if event == "preflight":
            con.print("preflight: " + ", ".join(f"{c.name} {c.mark}" for c in data["checks"]))
        elif event == "shipped":
            con.print(f"shipped: sequence {'already on the device' if data['sequence_skipped'] else str(data['sequence_bytes_sent']) + ' bytes'}"
                      + (f"; image {'already there' if data['image']['skipped'] else 'sent'}" if "image" in data else ""))
        elif event == "image_bytes":
            if data["seconds"] - last_image[0] >= 1.0:  # at most once a second
                last_image[0] = data["seconds"]
                con.print(f"  image: {data['bytes'] / 1e6:.1f} MB sent, {data['bytes'] / 1e6 / max(data['seconds'], 1e-9):.1f} MB/s")
        elif event == "started":
            con.print(f"runner started on the device (pid {data['pid']}{', resuming' if data['resume'] else ''})")
        elif event == "poll":
            line = f"  {data['done']}/{data['total']} cells done" + (f", running {data['current']}" if data["current"] else "")
            if line != last[0]:  # print changes only
                con.print(line)
                last[0] = line
        elif event in ("reconnecting", "reconnected", "rebooted"):
            con.print(f"[yellow]{event}[/] {data}")

    store = deploy(plan, progress, resume=resume)
    print_comparison(store.root, [])
    con.print(f"run directory: {store.root}")
