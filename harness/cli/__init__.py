"""The ``harness`` command. Thin: parse, call the library, show through ``_console.Output``. Heavy imports are lazy."""

from __future__ import annotations

import sys

import typer

from harness.cli import _help  # conventional metavars (NAME, RUN_DIR..., N), no value column for a flag
from harness.cli._console import output
from harness.cli._examples import EXAMPLES
from harness.errors import HarnessError


def _version(value: bool) -> None:
    if value:
        import harness

        output().text(f"edge-harness {harness.__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="harness",
    help="Benchmark compressed YOLO person detectors on Jetson boards and desktops: "
    "latency per stage, F1/AP50 on MOT sequences, power and energy per frame, model facts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion; `harness completion SHELL` prints the script
    cls=_help.WorkflowGroup,  # commands in panels, in the order one works (_help.PANELS)
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Benchmark compressed YOLO person detectors on Jetson boards and desktops: latency per stage, F1/AP50 on MOT
    sequences, power and energy per frame, model facts."""

from harness.cli import campaign, compare, completion, data, deploy, doctor, eval as eval_cmd, farm, history, image, models, profiles, provision, remote_run, report, run, schema, suites, telemetry  # noqa: E402
from harness.cli import sim  # noqa: E402

app.add_typer(data.app, name="data")
app.add_typer(profiles.app, name="profiles")
app.add_typer(suites.app, name="suites")
app.add_typer(models.app, name="models")
app.command("schema")(schema.schema_command)
app.add_typer(telemetry.app, name="telemetry")
app.command("eval")(eval_cmd.eval_command)
app.command("run")(run.run_command)
app.command("compare")(compare.compare_command)
app.command("report")(report.report_command)
app.command("history")(history.history_command)
app.command("regressions")(history.regressions_command)
app.add_typer(history.app, name="results")
app.command("doctor")(doctor.doctor_command)
app.command("deploy")(deploy.deploy_command)
app.command("provision")(provision.provision_command)
remote_run.register(app)
app.add_typer(campaign.app, name="campaign")
app.add_typer(farm.app, name="farm")
app.add_typer(image.app, name="image")
app.add_typer(sim.app, name="sim")
app.command("completion")(completion.completion_command)

_help.apply_examples(app, EXAMPLES)  # last: after every registration above


def _fail(e: HarnessError) -> None:
    out = output()
    out.text(f"error: {e.message}", stderr=True)
    if e.hint:
        out.text(f"  fix: {e.hint}", stderr=True)
    sys.exit(e.exit_code)


def main() -> None:
    """Entry point: user errors are one line on stderr and exit code 2, never a traceback."""
    try:
        app()
    except OSError as e:  # disk full, permissions, a directory where a file was expected: a line, not a traceback
        from harness.fsutil import storage_error

        _fail(storage_error(e))
    except HarnessError as e:
        _fail(e)
    except KeyboardInterrupt:
        output().text("interrupted", stderr=True)
        sys.exit(130)
