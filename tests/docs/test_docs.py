"""The docs cannot rot: README stays two screens, the site builds strictly, and every shell command README.md and
docs/ show either runs here, or (where it needs a real board, a coordinator, MOT17 or minutes of work) parses
against the real CLI, or is listed below with the reason it is not run -- and that list is proved complete."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from harness.cli import app
from tests.docs.commands import commands, expand_synopsis

try:  # typer >= 0.29 carries its own click
    from typer._click.exceptions import BadParameter, UsageError
except ImportError:  # pragma: no cover - an older typer on PyPI's click
    from click import BadParameter, UsageError

ROOT = Path(__file__).resolve().parents[2]
DOCS = commands(ROOT)
HARNESS = [c for c in DOCS if c.text.startswith("harness")]

# Commands that are not harness commands, by their start, and why a test does not run them here.
NOT_RUN = {
    "make demo": "the quick start itself; CI runs make test, which builds the same .venv",
    "make test": "CI runs it (.ci/run)",
    "make bench": "minutes of benchmarks; their scripts are in benchmarks/",
    "pip install": "installs into the user's environment; make test performs the same installs",
    ".venv/bin/pip install ./examples/plugins/": "tests/test_extensions.py installs and runs both example plugins",
    "mkdir -p /var/lib/labgrid": "a lab server's set-up (root); tests/farm starts a coordinator the same way",
    "labgrid-coordinator": "tests/farm/test_farm.py starts a real coordinator",
    "labgrid-exporter": "tests/farm/test_farm.py starts a real exporter",
    "export LG_COORDINATOR": "environment for the labgrid-client lines below",
    "labgrid-client": "tests/farm/test_farm.py creates, matches and tags places with labgrid-client",
    "cd ansible && ansible-playbook": "tests/provision applies site.yml with ansible-playbook",
}

# Harness commands that need what a test here does not have, by their start (after the synopsis is expanded), and
# where the same code runs instead. They parse against the real CLI (above); the rest run (below).
PARSE_ONLY = {
    "harness run": "the quick suite takes minutes (make demo runs it); tests/measure and tests/cli run small suites",
    "harness models reference": "a few minutes; tests/models/test_reference.py builds it",
    "harness provision": "a real board and a sudo password (-K); tests/provision applies the playbook to a loopback host",
    "harness doctor --profile": "a real board (orin-nano, my-nano.yaml, ...); tests/remote and tests/sim run doctor on loopback boards",
    "harness deploy --profile": "a real board; tests/remote and the simulated-board walkthrough deploy to loopback boards",
    "harness status results/r1": "a deployed run; the walkthrough runs status/logs/pull on one",
    "harness logs results/r1": "a deployed run; the walkthrough runs it",
    "harness pull results/r1": "a deployed run; the walkthrough runs it",
    "harness stop results/r1": "a deployed run; tests/remote stop one",
    "harness campaign": "boards overnight; tests/campaign run campaigns over loopback devices",
    "harness image build": "minutes of podman builds; tests/image builds the CPU and L4T images",
    "harness image lock": "rewrites docker/requirements/cpu.lock; tests/image checks the lock",
    "harness farm": "a labgrid coordinator; tests/farm/test_farm.py runs farm status and release against one",
}

# Placeholders a reader replaces, and what the tests put there.
PLACEHOLDERS = {
    "<run-id>": "r1", "<board-run>": "r1", "<desktop-run>": "r2", "<orin-run>": "r1", "<gpu-run>": "r2",
    "<cpu-run>": "r3", "<run-a>": "r1", "<run-b>": "r2", "RUN_DIR": "results/r1", "OUT_DIR": "seq",
    "DIR": "seq", "SEQ...": "seq", "FILE": "out.csv", " N ": " 2 ", "--backend B": "--backend none",
    "--profile P": "--profile local", "TORCH_WHL=...": "TORCH_WHL=t.whl", "TORCHVISION_WHL=...": "TORCHVISION_WHL=v.whl",
    "--baseline ...": "--baseline r1",
}


def fill(text: str) -> list[str]:
    text = expand_synopsis(text) + " "
    for k, v in PLACEHOLDERS.items():
        text = text.replace(k, v)
    return shlex.split(text)


def test_readme_is_two_screens_and_its_links_resolve():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"


def test_the_site_builds_strictly(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    p = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(ROOT / "mkdocs.yml"),
                        "-d", str(tmp_path / "site")], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "site" / "index.html").is_file() and (tmp_path / "site" / "sim" / "index.html").is_file()


def test_every_page_is_in_the_site_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in (ROOT / "docs").glob("*.md"):
        assert f" {page.name}" in nav, f"docs/{page.name} is not in mkdocs.yml's nav"


def _context(cmd, name: str, args: list[str], parent=None):
    """``cmd``'s parsed context: unknown options, missing option values and extra arguments raise; a value that
    does not convert (a placeholder path that does not exist here) or a missing one does not."""
    try:
        return cmd.make_context(name, args, parent=parent)
    except BadParameter:  # includes MissingParameter: the value, not the command line
        return cmd.make_context(name, args, parent=parent, resilient_parsing=True)
    except typer.Exit:  # an eager option such as --version ran
        return None


def _parse(args: list[str]):
    """Resolve ``args`` against the real CLI as click would, without running the command."""
    cmd = typer.main.get_command(app)
    ctx = _context(cmd, "harness", args)
    while ctx is not None and hasattr(cmd, "resolve_command"):  # a group
        rest = [*ctx._protected_args, *ctx.args]
        if not rest:
            break
        name, sub, rest = cmd.resolve_command(ctx, rest)
        assert sub is not None, f"no command {name!r}"
        cmd, ctx = sub, _context(sub, name, rest, parent=ctx)
    return cmd


@pytest.mark.parametrize("doc", HARNESS, ids=[f"{c.file}:{c.line}" for c in HARNESS])
def test_every_harness_command_in_the_docs_parses(doc):
    args = fill(doc.text)[1:]
    try:
        _parse(args)
    except UsageError as e:
        pytest.fail(f"{doc.file}:{doc.line}: `{doc.text}` does not parse: {e.format_message()}")


def test_every_harness_command_runs_here_in_the_walkthrough_or_says_why_not():
    walkthrough = {c.text for c in DOCS if c.file == "docs/sim.md"}
    for c in HARNESS:
        text = " ".join(fill(c.text))
        runs = _runs_here(c) or c.text in walkthrough
        parse_only = [k for k in PARSE_ONLY if text.startswith(k)]
        assert runs or parse_only, f"{c.file}:{c.line}: `{c.text}` is neither run nor listed in PARSE_ONLY"
    for k in PARSE_ONLY:
        assert any(" ".join(fill(c.text)).startswith(k) for c in HARNESS), f"PARSE_ONLY lists {k!r}, which no doc shows"


def test_every_other_command_is_run_elsewhere_or_says_why_not():
    others = [c for c in DOCS if not c.text.startswith("harness") and not c.text.startswith("source .venv")]
    for c in others:
        assert any(c.text.startswith(k) for k in NOT_RUN), f"{c.file}:{c.line}: `{c.text}` is neither run nor listed"
    for k in NOT_RUN:  # and the list holds nothing the docs no longer show
        assert any(c.text.startswith(k) for c in others), f"NOT_RUN lists {k!r}, which no doc shows"


# Commands run for real here (in a temp dir with runs, a sequence and a catalogue made for them). The rest of the
# harness commands need a board, MOT17 or minutes of work: the simulated-board walkthrough runs in tests/sim, the
# others parse above.
RUN_HERE = ("harness --version", "harness profiles", "harness models formats", "harness telemetry probe",
            "harness telemetry parse-tegrastats", "harness data synth", "harness data check", "harness data to-yolo",
            "harness eval", "harness compare", "harness report", "harness regressions", "harness history",
            "harness results query", "harness image key", "harness telemetry record")
RUN_HERE_EXACT = ("harness doctor",)  # this machine; doctor on a board needs the board


def _runs_here(doc) -> bool:
    """Run by the test below (the simulated board's commands run in tests/sim/test_walkthrough.py)."""
    return (doc.text.startswith(RUN_HERE) or doc.text in RUN_HERE_EXACT) and "sim" not in doc.text


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from harness.catalogue.store import add_finished
    from harness.testing.fakes.runs import fleet

    w = tmp_path_factory.mktemp("docs-world")
    runs = fleet(w / "results")
    for src, name in zip(runs, ("r1", "r2", "r3")):
        src.rename(w / "results" / name)
    for name in ("r1", "r2", "r3"):
        add_finished(w / "results" / name)
    tegra = sorted((ROOT / "tests" / "boards" / "files" / "tegrastats").glob("*.txt"))[0]
    (w / "tegrastats.log").write_bytes(tegra.read_bytes())
    return w


@pytest.mark.slow
def test_the_commands_that_run_here_run(world):
    env = {**os.environ, "COLUMNS": "120", "HARNESS_OFFLINE": "1"}
    harness = str(Path(sys.executable).with_name("harness"))
    ran = []
    order = sorted((c for c in HARNESS if _runs_here(c)),
                   key=lambda c: not c.text.startswith("harness data synth"))  # the sequence first
    for doc in order:
        args = fill(doc.text)
        if args[1:3] == ["data", "to-yolo"]:
            args[args.index("--out") + 1] = "yolo"
        if args[1:3] == ["telemetry", "parse-tegrastats"]:
            args[3] = "tegrastats.log"  # FILE is an input here, an output elsewhere
        if args[1] == "eval":
            args = [a.replace("MOT17-02-SDP", "seq") for a in args]
        p = subprocess.run([harness, *args[1:]], cwd=world, env=env, capture_output=True, text=True, timeout=600)
        # doctor exits 1 on a busy host (this one may be); everything else must succeed
        ok = p.returncode == 0 or (args[1] == "doctor" and p.returncode == 1)
        assert ok, f"{doc.file}:{doc.line}: `{' '.join(args)}` exited {p.returncode}: {p.stderr[-2000:]}"
        ran.append(doc.text)
    assert len(ran) >= 20, ran
    assert (world / "results" / "r1" / "report" / "report.html").is_file()


def test_activating_the_venv_puts_harness_on_the_path():
    venv = Path(sys.executable).parent.parent
    p = subprocess.run(["bash", "-c", f"source {shlex.quote(str(venv / 'bin' / 'activate'))} && harness --version"],
                       capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")})
    assert p.returncode == 0 and p.stdout.startswith("edge-harness "), p.stdout + p.stderr
