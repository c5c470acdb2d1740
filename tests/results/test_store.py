import csv
import json

import pytest

from harness.errors import ResultsError
from harness.results.record import LatencyStats
from harness.results.rows import SUMMARY_COLUMNS, flatten
from harness.results.store import RunStore, atomic_write_text


def rec(cell_id, status="ok", mean=10.0):
    return {"cell_id": cell_id, "status": status, "cell": {"model": "m"}, "latency": {"total": {"mean_ms": mean}}}


def test_records_are_added_and_replaced_by_cell_id(tmp_path):
    s = RunStore(tmp_path / "run")
    s.create({"schema_version": 1, "cells": []})
    s.put_record(rec("a"))
    s.put_record(rec("b", "failed"))
    s.put_record(rec("b", "ok", 5.0))
    got = s.read_records()
    assert [(r["cell_id"], r["status"]) for r in got] == [("a", "ok"), ("b", "ok")]
    rows = list(csv.DictReader((tmp_path / "run" / "summary.csv").open()))
    assert [r["cell_id"] for r in rows] == ["a", "b"] and rows[1]["latency_mean_ms"] == "5.0"
    assert list(rows[0].keys()) == SUMMARY_COLUMNS


def test_create_refuses_an_existing_run(tmp_path):
    s = RunStore(tmp_path)
    s.create({"schema_version": 1})
    with pytest.raises(ResultsError, match="a run already exists here"):
        s.create({"schema_version": 1})


def test_atomic_write_leaves_old_content_when_interrupted(tmp_path, monkeypatch):
    p = tmp_path / "f.json"
    atomic_write_text(p, "old")

    def boom(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(p, "new")
    assert p.read_text() == "old"
    assert [f.name for f in tmp_path.iterdir()] == ["f.json"]  # no temp file left behind


def test_corrupt_records_and_manifests_are_reported(tmp_path):
    s = RunStore(tmp_path)
    with pytest.raises(ResultsError, match="not a run directory"):
        s.read_manifest()
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(ResultsError, match="corrupt JSON"):
        s.read_manifest()
    (tmp_path / "manifest.json").write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(ResultsError, match="newer than this harness"):
        s.read_manifest()
    (tmp_path / "records.jsonl").write_text('{"cell_id": "a"}\n{"cell_')
    with pytest.raises(ResultsError, match=r"records.jsonl:2: corrupt record"):
        s.read_records()


def test_latency_stats():
    st = LatencyStats.of([1.0, 2.0, 3.0, 4.0])
    assert st.mean_ms == 2.5 and st.min_ms == 1.0 and st.max_ms == 4.0 and st.p50_ms == 2.5 and st.p90_ms == 3.7
    assert LatencyStats.of([]) is None


def test_flatten_blanks_missing_values():
    row = flatten({"cell_id": "x", "status": "skipped", "reason": "no TensorRT"})
    assert row["cell_id"] == "x" and row["reason"] == "no TensorRT" and row["latency_mean_ms"] is None
    assert list(row) == SUMMARY_COLUMNS


def test_stale_temp_files_are_removed(tmp_path):
    s = RunStore(tmp_path)
    s.create({"schema_version": 1})
    (tmp_path / ".records.jsonl.abc.tmp").write_text("half")
    (tmp_path / "frames" / ".x.csv.def.tmp").write_text("half")
    assert s.remove_stale_temp_files() == 2
    assert sorted(p.name for p in tmp_path.rglob("*.tmp")) == []
    assert (tmp_path / "records.jsonl").exists()
