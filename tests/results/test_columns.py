"""The column registry: every registered column reaches summary.csv, the flat row, the DataFrame (its repeats
combined as declared) and the published column list; the lists that were kept by hand are derived from it."""

import csv
import json
import math
from pathlib import Path

import pytest

from harness.config.suite import Cell
from harness.results import columns as C
from harness.results.frame import fold_repeats, load_frame
from harness.results.rows import SUMMARY_COLUMNS, flatten
from harness.testing.fakes.runs import make_run, record


def test_the_published_column_list_is_the_registry():
    """docs/columns.json is regenerated whenever a column is added (`harness schema columns`)."""
    published = json.loads((Path(__file__).parents[2] / "docs" / "columns.json").read_text())
    assert published == C.describe(), "regenerate: harness schema columns > docs/columns.json"
    assert [c["name"] for c in published] == SUMMARY_COLUMNS == C.NAMES


def test_names_are_unique_and_units_agree_with_their_suffix():
    assert len(set(C.NAMES)) == len(C.NAMES)
    suffix_units = {"_ms": "ms", "_mj": "mj", "_w": "w", "_c": "c", "_khz": "khz", "_hz": "hz", "_s": "s"}
    for c in C.COLUMNS:
        for suffix, unit in suffix_units.items():
            if c.name.endswith(suffix) and not c.name.endswith("_per_w"):
                assert c.unit == unit, f"{c.name}: unit {c.unit!r}, name says {unit}"
                break
    for c in C.COLUMNS:
        if c.repeats == "interval":
            assert len(c.bounds) == 4 and all(b in C.NAMES for b in c.bounds)


def test_every_column_reaches_the_summary_the_flat_row_and_the_dataframe(tmp_path):
    cell = Cell("e", "yolov8n", "onnx", "fp16")
    recs = [record("r", "orin", cell, p50=10.0 + i, f1=0.5, mean_w=7.0, energy_mj=70.0, idle_w=3.0, ci_pct=5)
            for i in range(2)]
    recs[1]["repeat"] = 2
    run = make_run(tmp_path, "r", "orin", recs)
    with (run / "summary.csv").open() as f:
        assert next(csv.reader(f)) == C.NAMES
    assert list(flatten(recs[0])) == C.NAMES
    df = load_frame([run])
    assert {c.frame_name or c.name for c in C.COLUMNS} <= set(df.columns)  # the DataFrame's clearer names
    assert df.latency_p50_ms.tolist() == [10.0, 11.0] and df.repeat.tolist() == [1, 2]


def _rows(cols) -> list[dict]:
    """Two ok repeats of one cell, every registered column set: numbers 1 and 3, flags False and True."""
    rows = []
    for i, (num, flag) in enumerate(((1.0, False), (3.0, True))):
        r = {}
        for c in cols:
            r[c.name] = flag if c.repeats == "any" else num
        r.update(run_id="r", cell_id="e.m.v", status="ok", repeat=i + 1, contended_reason=None)
        rows.append(r)
    return rows


def test_repeats_combine_as_each_column_declares():
    first, second = _rows(C.COLUMNS)
    (folded,) = fold_repeats([first, second])
    for c in C.COLUMNS:
        got = folded[c.name]
        if c.repeats == "mean":
            assert got == pytest.approx(2.0), c.name
        elif c.repeats == "any":
            assert got is True, c.name
        elif c.repeats == "interval":
            assert got == pytest.approx(math.sqrt(3.0)), c.name  # the geometric mean of the repeats
            lo, hi, wlo, whi = (folded[b] for b in c.bounds)
            assert lo is not None and lo <= got <= hi and wlo is None and whi is None, c.name
        elif c.repeats == "first" and c.name not in ("run_id", "cell_id", "status"):
            assert got == 1.0, c.name
    assert folded["repeats"] == 2 and folded["repeat"] is None and folded["ci_kind"] == "rerun"


def test_every_shown_column_reaches_the_table_in_its_place():
    """A registry column with ``show`` is a table column (placed by its priority), rendered from the row."""
    from harness.results.render.table import COLUMNS as TABLE

    shown = [c for c in C.COLUMNS if c.show]
    headers = [c.name for c in TABLE]
    assert {c.show.header for c in shown} <= set(headers)
    places = [c.place for c in TABLE]
    assert places == sorted(places)
    for c in shown:
        assert next(t for t in TABLE if t.name == c.show.header).priority == int(c.show.place)
    assert [c["table"]["header"] for c in C.describe() if "table" in c] == [c.show.header for c in shown]


def test_a_shown_column_prints_its_value_in_the_wide_table(tmp_path):
    from rich.console import Console

    from harness.results.compare import compare
    from harness.results.load import load_runs
    from harness.results.render.table import results_table

    cell = Cell("e", "yolov8n", "onnx", "fp16")
    run = make_run(tmp_path, "r", "orin", [record("r", "orin", cell, p50=12.34, f1=0.567, mean_w=7.25, energy_mj=70.0,
                                                   idle_w=3.0, ci_pct=5, peak_c=61.4)])
    con = Console(width=400, record=True)
    con.print(results_table(compare(load_runs([run])), 400, wide=True))
    text = con.export_text()
    header = next(line for line in text.splitlines() if "p50 ms" in line)
    for c in C.COLUMNS:
        if c.show:
            assert c.show.header in header, c.name
    for shown in ("12.3", "0.567", "7.25", "61", "70.0"):
        assert shown in text


def test_every_value_has_its_column_type(tmp_path):
    """The declared ``kind`` is what a record gives (the catalogue's Parquet and pandas' dtypes rely on it)."""
    from harness.results.load import load_run
    from harness.testing.fakes.runs import fleet

    rows = [flatten(r) for run in fleet(tmp_path) for r in load_run(run).records]
    bad = {(c.name, type(r[c.name]).__name__) for r in rows for c in C.COLUMNS if not C.fits(r[c.name], c.dtype)}
    assert not bad
    assert C.fits(3, "float") and not C.fits(True, "int") and not C.fits(1, "bool") and not C.fits(2.5, "int")
    assert {c.name: c.dtype for c in C.COLUMNS}["threads_over_idle"] == "bool"


def test_the_loader_takes_a_path_a_str_a_glob_or_a_results_directory(tmp_path):
    from harness.testing.fakes.runs import fleet

    runs = fleet(tmp_path)
    one = load_frame(str(runs[0]))  # a str is one run, not its characters
    assert set(one.run_id) == {"nano"}
    assert len(load_frame(runs[0])) == len(one)
    assert set(load_frame(str(tmp_path / "*")).run_id) == set(load_frame(tmp_path).run_id) == {"nano", "gpu", "cpu"}
    assert set(load_frame([runs[1], str(runs[2])]).run_id) == {"gpu", "cpu"}
