"""``harness deploy``: the suite on a device over SSH; results pulled into results/<run-id>/."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.cli import _options as opts
from harness.cli._console import console, print_comparison, print_json


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
    """Preflight, lock, ship, run detached on the device, follow progress and pull records; exit 1 when a cell failed."""
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
    seq = sequence if sequence is not None else (Path(".") if device_sequence else demo_sequence(s.frames, console(stderr=as_json).print))
    plan = DeployPlan(prof, s, Path(seq), run_id or new_run_id(prof.name, s.name), out, accept_new_host_key, poll_s,
                      device_sequence=device_sequence)
    con = console(stderr=as_json)
    progress = DeployProgress(con)
    try:
        store = deploy(plan, progress, resume=resume)
    finally:
        progress.close()
    records = store.read_records()
    counts = {k: sum(r["status"] == k for r in records) for k in ("ok", "skipped", "failed")}
    if as_json:
        from harness.results.compare import compare
        from harness.results.load import load_runs

        print_json({"run_dir": str(store.root), "counts": counts, "rows": compare(load_runs([store.root]))})
    else:
        print_comparison(store.root, [], f"{plan.run_id}: {s.name} on {prof.name}", wide)
        con.print(f"{counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed — run directory: {store.root}",
                  highlight=False)
    if counts["failed"]:
        raise typer.Exit(1)


class DeployProgress:
    """A deploy's events as lines (and transfer bars in a terminal)."""

    def __init__(self, con) -> None:
        from harness.cli._progress import Transfer

        self.con, self.last, self.transfer, self.Transfer = con, None, None, Transfer

    def _bytes(self, what: str, done: int, total: int | None) -> None:
        if self.transfer is None:
            self.transfer = self.Transfer(self.con, what, total)
        self.transfer.update(done)

    def close(self) -> None:
        if self.transfer is not None:
            self.transfer.close()
            self.transfer = None

    def __call__(self, event: str, data: dict) -> None:
        from harness.cli._progress import human_bytes

        con = self.con
        if event == "sequence_bytes":
            if data["total"]:
                self._bytes("sequence", data["bytes"], data["total"])
            return
        if event == "image_bytes":
            self._bytes("image", data["bytes"], data["total"])
            return
        self.close()
        if event == "preflight":
            con.print("preflight: " + ", ".join(f"{c.name} {c.mark}" for c in data["checks"]), highlight=False)
        elif event == "shipped":
            if data["sequence_skipped"]:
                seq = "already on the device"
            else:
                seq = f"{human_bytes(data['sequence_bytes_sent'])} sent" + (
                    f" ({data['sequence_files_kept']} files kept from an interrupted upload)" if data.get("sequence_files_kept") else "")
            image = ""
            if "image" in data:
                image = "; image " + ("already there" if data["image"]["skipped"] else
                                      f"sent ({human_bytes(data['image'].get('bytes_sent', 0))} compressed)")
            con.print(f"shipped: sequence {seq}{image}", highlight=False)
        elif event == "started":
            con.print(f"runner started on the device (pid {data['pid']}{', resuming' if data['resume'] else ''})", highlight=False)
        elif event == "poll":
            if not data["total"]:
                line = "  waiting for the runner's first manifest ..."
            else:
                line = f"  {data['done']}/{data['total']} cells done" + (f", running {data['current']}" if data["current"] else "")
            if line != self.last:  # print changes only
                con.print(line, highlight=False)
                self.last = line
        elif event in ("link_lost", "reconnecting", "reconnected", "rebooted"):
            detail = ", ".join(f"{k} {v}" for k, v in data.items())
            con.print(f"[yellow]{event}[/] {detail}", highlight=False)
        elif event == "power_mode":
            what = "back in" if data.get("restored") else "set to"
            extra = f" (id {data['id']}{', after a reboot' if data.get('rebooted') else ''})" if "id" in data else ""
            con.print(f"power mode {what} {data['mode']}{extra}", highlight=False)
        elif event == "rebooting":
            con.print(f"[yellow]rebooting[/] the board: power mode {data['mode']} needs it (nvpmodel says so)", highlight=False)
        elif event == "power_mode_not_restored":
            con.print(f"[yellow]warning[/]: the board was not returned to power mode {data['mode']}: {data['error']}",
                      highlight=False)
