"""The catalogue's files: added when asked, idempotent, atomic, rebuilt from the run directories."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from harness.catalogue.store import Catalogue, add_finished, catalogue_for, partition_name
from harness.catalogue.table import SCHEMA, config_label
from harness.results.columns import COLUMNS
from harness.results.frame import COLUMNS as FRAME_COLUMNS
from tests.catalogue.conftest import night


def _count(cat: Catalogue, where: str = "true") -> int:
    return cat.connect().execute(f"SELECT count(*) FROM cells WHERE {where}").fetchone()[0]


def test_a_run_is_added_once_whatever_how_often(tmp_path):
    cat = Catalogue(tmp_path)
    run = night(tmp_path, 1)
    assert cat.add(run) == 4 and cat.add(run) == 4 and cat.add(run) == 4
    assert _count(cat) == 4  # re-adding (a re-pull, a resume) replaces, never duplicates
    cat.add(night(tmp_path, 2))
    assert _count(cat) == 8
    assert [p.relative_to(cat.root).as_posix() for p in cat.files()] == ["device=orin-nano/year=2026/runs.parquet"]


def test_rows_have_the_dataframe_columns_with_their_types(tmp_path):
    cat = Catalogue(tmp_path)
    cat.add(night(tmp_path, 1))
    df = cat.connect().execute("SELECT * FROM cells").df()
    assert set(FRAME_COLUMNS) | {"run_created_at", "config"} == set(df.columns)
    kinds = {c.name: c.dtype for c in COLUMNS}
    file_types = {f.name: str(f.type) for f in pq.read_schema(cat.files()[0])}
    assert file_types == {f.name: str(f.type) for f in SCHEMA}
    assert {n: file_types[n] for n in ("latency_p50_ms", "imgsz", "finetuned", "model")} == \
        {"latency_p50_ms": "double", "imgsz": "int64", "finetuned": "bool", "model": "string"}
    assert kinds["latency_p50_ms"] == "float"
    assert str(df.run_created_at.iloc[0]).startswith("2026-11-01 02:00:00")
    assert config_label(df.config.iloc[0]).endswith("640px on orin-nano")


def test_a_run_grows_when_resumed_and_its_rows_are_replaced(tmp_path):
    from harness.results.store import RunStore

    cat = Catalogue(tmp_path)
    run = night(tmp_path, 1)
    store = RunStore(run)
    recs = store.read_records()
    store.records_path.write_text("")  # the run had only its first cell when it was first added
    store.put_record(recs[0])
    assert cat.add(run) == 1
    store.put_records(recs[1:])
    assert cat.add(run) == 4 and _count(cat) == 4


def test_runs_are_found_beside_and_inside_campaigns(tmp_path):
    camp = tmp_path / "night-camp"
    (camp / "runs").mkdir(parents=True)
    (camp / "campaign.yaml").write_text("name: night-camp\n")
    run = night(camp / "runs", 3)
    assert catalogue_for(run).root == tmp_path / "catalogue"
    assert catalogue_for(night(tmp_path, 1)).root == tmp_path / "catalogue"
    assert add_finished(run) == (4, None)
    assert Catalogue(tmp_path).index().runs == 2


def test_an_unsafe_device_name_gets_a_hashed_partition_and_keeps_its_name(tmp_path):
    assert partition_name("orin-nano-2") == "device=orin-nano-2"
    for bad in ("../../etc", "a/b", "", "..", "x" * 80, "dev ice"):
        name = partition_name(bad)
        assert name.startswith("device=_") and "/" not in name and len(name) == 24
    cat = Catalogue(tmp_path)
    name = "lab+board-" + "1" * 90  # a name a manifest may hold (records are validated) that is no directory name here
    cat.add(night(tmp_path, 1, device=name))
    assert cat.connect().execute("SELECT DISTINCT device FROM cells").fetchall() == [(name,)]
    assert cat.files()[0].parent.parent.name == partition_name(name)
    assert all(p.is_relative_to(cat.root) for p in cat.files())


def test_an_empty_catalogue_answers_with_no_rows(tmp_path):
    assert _count(Catalogue(tmp_path)) == 0


KILL_BEFORE_RENAME = """
import os, signal, sys
from pathlib import Path
import harness.fsutil as F
real = os.replace
def replace(a, b):
    if str(b).endswith("runs.parquet"):
        os.kill(os.getpid(), signal.SIGKILL)  # killed with the new file written, before the rename
    return real(a, b)
os.replace = replace
from harness.catalogue.store import Catalogue
Catalogue(Path(sys.argv[1])).add(Path(sys.argv[2]))
"""


def test_a_killed_write_leaves_a_readable_catalogue_that_index_repairs(tmp_path):
    cat = Catalogue(tmp_path)
    cat.add(night(tmp_path, 1))
    second = night(tmp_path, 2)
    p = subprocess.run([sys.executable, "-c", KILL_BEFORE_RENAME, str(tmp_path), str(second)], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert p.returncode == -signal.SIGKILL, p.stderr
    temps = [f for f in cat.root.rglob("*") if f.is_file() and f.name.startswith(".runs")]
    assert temps  # the killed writer's complete-but-unrenamed file
    assert _count(cat) == 4  # readable: the old partition, the temp never read
    from harness.fsutil import temp_name

    torn = temp_name(temps[0].parent / "runs.parquet")  # and a torn one, of a writer that is gone (no pid above pid_max)
    torn.with_name(torn.name.replace(f"-{os.getpid()}-", f"-{2**22 + 1}-")).write_bytes(b"PAR1 torn")
    done = cat.index()
    assert (done.runs, done.rows) == (2, 8) and done.temps_removed >= 1
    assert _count(cat) == 8 and not [f for f in cat.root.rglob(".runs*")]


def test_index_drops_runs_whose_directory_is_gone_and_reports_unreadable_ones(tmp_path):
    import shutil

    cat = Catalogue(tmp_path)
    for n in (1, 2):
        cat.add(night(tmp_path, n))
    shutil.rmtree(tmp_path / "night2")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{not json")
    done = cat.index()
    assert done.runs == 1 and _count(cat) == 4
    assert len(done.skipped) == 1 and done.skipped[0].startswith(str(tmp_path / "broken"))


def test_a_catalogue_that_cannot_be_written_never_fails_the_run(tmp_path):
    run = night(tmp_path, 1)
    (tmp_path / "catalogue").write_text("a file where the catalogue directory goes")
    rows, why = add_finished(run)
    assert rows == 0 and "harness results index" in why


@pytest.mark.parametrize("created", ["not a time", "2026-13-45T99:00:00", "x" * 500])
def test_a_run_with_a_nonsense_date_is_dated_by_its_manifest_file(tmp_path, created):
    from harness.catalogue.table import run_time
    from harness.results.load import load_run
    from harness.testing.fakes.runs import make_run

    run = make_run(tmp_path, "odd", "orin-nano", [], created_at=created)
    assert run_time(load_run(run)).year >= 2026


def test_a_moved_results_directory_keeps_its_catalogue(tmp_path):
    import shutil

    old = tmp_path / "old" / "results"
    cat = Catalogue(old)
    cat.add(night(old, 1))
    new = tmp_path / "moved"
    shutil.move(str(old), str(new))
    moved = Catalogue(new)
    assert moved.add(new / "night1") == 4 and _count(moved) == 4  # the same run: replaced, not doubled
    assert moved.connect().execute("SELECT DISTINCT run_dir FROM cells").fetchall() == [("night1",)]
