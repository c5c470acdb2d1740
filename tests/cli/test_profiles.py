"""``harness profiles``: a host name is never cut; on a narrow terminal whole columns go, and the table says which."""

import pytest
from rich.console import Console

from harness.cli.profiles import profiles_table

HOST = "jetson-orin-nano-devkit-07.lab.example.internal"
ROWS = [
    {"name": "orin-nano-lab7", "kind": "jetson", "runtime": "docker", "compute": "cuda", "host": HOST,
     "description": "Jetson Orin Nano 8GB dev kit in rack 7, JetPack 6, docker with the nvidia runtime."},
    {"name": "local", "kind": "local", "runtime": "host", "compute": "auto", "host": "(this machine)",
     "description": "The machine harness runs on."},
]


def text(width: int) -> str:
    con = Console(width=width, record=True)
    con.print(profiles_table(ROWS, width, "device profiles"), crop=False)  # as the command prints it
    return con.export_text()


@pytest.mark.parametrize("width", [40, 60, 80, 100, 160])
def test_host_names_are_never_cut(width):
    out = text(width)
    assert HOST in out and "(this machine)" in out and "orin-nano-lab7" in out
    assert "…" not in out


def test_narrow_terminals_leave_out_named_columns():
    wide = text(160)
    assert "hidden:" not in wide and "compute" in wide and "rack 7" in wide
    narrow = " ".join(text(110).split())
    assert "hidden: compute, runtime —" in narrow and "harness profiles show NAME" in narrow
    assert "rack 7" in narrow  # the description goes after compute and runtime
    assert "hidden: compute, runtime, description —" in " ".join(text(80).split())
    tight = " ".join(text(60).split())  # name and host alone are wider: the table runs past the edge, whole
    assert "hidden: compute, runtime, description, kind" in tight


def test_the_command_lists_every_profile_whole(run_harness):
    p = run_harness("profiles", env={"COLUMNS": "80"})
    assert p.returncode == 0, p.stderr
    for host in ("orin-nano.local", "xavier-nx.local", "(this machine)"):
        assert host in p.stdout
