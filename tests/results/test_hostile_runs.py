"""A results directory is untrusted input: attacks on every read path (compare, report, the DataFrame loader).

People mail run directories, download them from CI artefacts and shared drives: each test plants one hostile
thing in an otherwise good run and asserts a one-line refusal naming the file (and field), or a literal rendering.
"""

import json
import os
import time

import pytest

from harness.config.suite import Cell
from harness.errors import ResultsError
from harness.results.compare import compare
from harness.results.frame import load_frame
from harness.results.load import load_run, load_runs
from harness.testing.fakes.runs import make_run, record

CELL = Cell("quantization", "yolov8n", "onnx", "fp32")


def good_run(tmp_path, **kw):
    recs = [record("r1", "orin-nano", CELL, p50=20.0, f1=0.6, mean_w=7.0, energy_mj=140.0, ci_pct=3, **kw),
            record("r1", "orin-nano", Cell("quantization", "yolov8n", "pytorch", "fp32"), p50=40.0, f1=0.6)]
    return make_run(tmp_path, "r1", "orin-nano", recs)


def rewrite_first(run, mutate) -> None:
    """Change the first record of ``run`` with ``mutate(dict)`` (or raw text substitution) and write it back."""
    path = run / "records.jsonl"
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    out = mutate(first)
    lines[0] = out if isinstance(out, str) else json.dumps(first)
    path.write_text("\n".join(lines) + "\n")


# --- endless and huge files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["records.jsonl", "manifest.json"])
def test_a_symlink_to_an_endless_device_is_refused_without_reading(tmp_path, name):
    run = good_run(tmp_path)
    (run / name).unlink()
    (run / name).symlink_to("/dev/zero")
    t0 = time.perf_counter()
    with pytest.raises(ResultsError, match=rf"{name}: not a regular file"):
        load_run(run)
    assert time.perf_counter() - t0 < 1.0


def test_a_fifo_is_refused_without_blocking(tmp_path):
    run = good_run(tmp_path)
    (run / "records.jsonl").unlink()
    os.mkfifo(run / "records.jsonl")  # opening a FIFO for reading blocks until a writer comes: never opened
    with pytest.raises(ResultsError, match="not a regular file"):
        load_run(run)


def test_a_records_file_over_the_limit_is_refused_naming_the_setting(tmp_path, monkeypatch):
    run = good_run(tmp_path)
    with open(run / "records.jsonl", "a") as f:
        f.write(" " * (2 << 20) + "\n")
    monkeypatch.setenv("HARNESS_MAX_RESULTS_MIB", "1")
    with pytest.raises(ResultsError, match=r"records.jsonl: .* MiB, over the 1 MiB limit") as e:
        load_run(run)
    assert "HARNESS_MAX_RESULTS_MIB" in e.value.hint


def test_a_frames_csv_that_is_a_device_is_skipped_by_the_report(tmp_path):
    from harness.results.render.plots_runs import latency_distributions

    run = good_run(tmp_path)
    frames = run / "frames"
    (frames / "quantization-yolov8n-onnx-fp32.csv").symlink_to("/dev/zero")
    rewrite_first(run, lambda r: r.update(files={"frames": "frames/quantization-yolov8n-onnx-fp32.csv"}))
    t0 = time.perf_counter()
    assert latency_distributions(load_runs([run]), tmp_path) is None  # a file outside the run, or no file: no plot
    assert time.perf_counter() - t0 < 5.0


# --- numbers ---------------------------------------------------------------------------------------

NON_FINITE = [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e400", "1e400"),
              ("1e308", "1e308"), ("huge int", "1" + "0" * 400)]
FIELDS = [("latency", "total", "p50_ms"), ("quality", "f1"), ("power", "energy_per_frame_mj"), ("model", "params"),
          ("model", "gflops"), ("fps",), ("power", "mean_w"), ("n_frames",), ("power", "peak_temp_c"),
          # untyped blocks the host reads too
          ("reference", "speedup"), ("uncertainty", "latency_p50_ms"), ("settings", "imgsz"),
          ("build", "dla", "placement", "dla_layers"), ("environment", "l4t")]


def _plant(rec: dict, path: tuple, raw: str) -> str:
    """The record as JSON text with ``raw`` (literal JSON, possibly not valid Python JSON output) at ``path``."""
    d = rec
    for key in path[:-1]:
        if not isinstance(d.get(key), dict):
            d[key] = {}
        d = d[key]
    d[path[-1]] = "__PLANT__"
    return json.dumps(rec).replace('"__PLANT__"', raw)


@pytest.mark.parametrize("path", FIELDS, ids=lambda p: ".".join(p))
@pytest.mark.parametrize("name,raw", NON_FINITE, ids=[n for n, _ in NON_FINITE])
def test_non_finite_and_huge_numbers_are_refused_naming_the_line_and_field(tmp_path, path, name, raw):
    run = good_run(tmp_path)
    rewrite_first(run, lambda r: _plant(r, path, raw))
    with pytest.raises(ResultsError) as e:
        load_run(run)
    msg = str(e.value)
    assert "records.jsonl:1" in msg and ".".join(path[:2]) in msg, msg
    assert "\n" not in msg and raw[:20] not in msg.replace("1e18", "")  # the hostile value is not echoed
    assert len(msg) < 400


@pytest.mark.parametrize("path,value", [(("model", "params"), -5), (("model", "gflops"), -1.5),
                                        (("latency", "total", "p50_ms"), -3.0), (("quality", "f1"), 1.5),
                                        (("quality", "tp"), -1), (("power", "energy_per_frame_mj"), -2.0),
                                        (("fps",), -1.0), (("n_frames",), -10)],
                         ids=lambda v: ".".join(v) if isinstance(v, tuple) else str(v))
def test_impossible_measurements_are_refused(tmp_path, path, value):
    run = good_run(tmp_path)
    rewrite_first(run, lambda r: _plant(r, path, json.dumps(value)))
    with pytest.raises(ResultsError, match=r"records.jsonl:1: not a run record \(" + path[0]):
        load_run(run)


def test_non_finite_numbers_in_a_manifest_are_refused(tmp_path):
    run = good_run(tmp_path)
    m = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps(m).replace('"complete"', '"complete", "x": {"y": NaN}'))
    with pytest.raises(ResultsError, match=r"manifest.json: not a run manifest \(x.y: "):
        load_run(run)


def test_an_int_too_long_to_parse_is_a_clean_refusal(tmp_path):
    run = good_run(tmp_path)
    rewrite_first(run, lambda r: json.dumps(r).replace('"n_frames": 190', '"n_frames": ' + "9" * 5000))
    with pytest.raises(ResultsError, match="records.jsonl:1: corrupt record"):
        load_run(run)


def test_tiny_latencies_never_make_an_infinite_ratio(tmp_path):
    """5e-324 ms is finite and positive, yet 40 / 5e-324 overflows to inf: ratios are finite or absent."""
    run = good_run(tmp_path)
    rewrite_first(run, lambda r: _plant(r, ("latency", "total", "p50_ms"), "5e-324"))
    rows = compare(load_runs([run]))
    for r in rows:
        for k, v in r.items():
            assert not (isinstance(v, float) and (v != v or abs(v) == float("inf"))), (k, v)


# --- text that reaches a plot, a table, a CSV, the HTML report --------------------------------------

HOSTILE_NAMES = [r"$\sqrt{" * 60 + "x" + "}" * 60 + "$", r"$\frac{1}{$", "<script>alert(1)</script>", "=cmd|'/c calc'!A1",
                 "a" * 300]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["nested-sqrt", "bad-mathtext", "html", "csv-formula", "long"])
def test_hostile_model_and_profile_names_are_rendered_literally(tmp_path, name):
    from harness.results.render.html import build_report

    recs = [record("r1", "orin-nano", Cell("quantization", "yolov8n", "onnx", "fp32"), p50=20.0, f1=0.6, mean_w=7.0,
                   energy_mj=140.0),
            record("r1", "orin-nano", Cell("quantization", "yolov8n", "pytorch", "fp32"), p50=40.0, f1=0.6, mean_w=7.5,
                   energy_mj=300.0)]
    for r in recs:  # the cell id stays a safe name; the model's text is free (a path, a hub name)
        r["cell"]["model"], r["device_profile"], r["environment"]["gpu_name"] = name, name, name
    run = make_run(tmp_path, "r1", "orin-nano", recs)
    m = json.loads((run / "manifest.json").read_text())
    m["profile"]["description"] = name  # (its name must be a safe name: refused at load otherwise)
    (run / "manifest.json").write_text(json.dumps(m))
    res = build_report(load_runs([run]), tmp_path / "report")
    page = res["html"].read_text()
    assert "<script>alert" not in page
    assert len(list((tmp_path / "report").glob("*.png"))) >= 2  # the plots were drawn, with the name as text


def test_csv_exports_do_not_start_a_formula(tmp_path):
    from harness.results.rows import csv_value

    assert csv_value("=cmd|'/c calc'!A1").startswith("'")
    assert csv_value("+1+1") == "'+1+1" and csv_value("@SUM(A1)") == "'@SUM(A1)"
    assert csv_value(-3.5) == "-3.5" and csv_value("-3.5") == "-3.5"  # numbers stay numbers
    assert csv_value("yolov8n") == "yolov8n"


def test_the_dataframe_loader_refuses_the_same_hostile_run(tmp_path):
    run = good_run(tmp_path)
    rewrite_first(run, lambda r: _plant(r, ("quality", "f1"), "NaN"))
    with pytest.raises(ResultsError, match="quality.f1"):
        load_frame([run])


def _numeric_record_fields():
    from harness.results.record import Record
    from tests.config.numbers import numeric_fields

    return [p for p, _ in numeric_fields(Record)]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e300, -1e300, 10**400], ids=["nan", "inf", "1e300",
                                                                                             "-1e300", "400-digits"])
@pytest.mark.parametrize("path", _numeric_record_fields(), ids=lambda p: ".".join(map(str, p)))
def test_every_numeric_field_of_a_record_refuses_non_finite_and_huge_numbers(path, value):
    """Found from the record's schema: a new numeric field cannot escape (the schema is docs/record.schema.json)."""
    from harness.results.record import check_record

    rec = record("r1", "orin-nano", CELL, p50=20.0, f1=0.6, mean_w=7.0, energy_mj=140.0, ci_pct=3)
    node = rec
    for part, nxt in zip(path, path[1:]):
        if isinstance(node, list):
            node = node[part]
        else:
            if not isinstance(node.get(part), (dict, list)) or (isinstance(nxt, int) and not node.get(part)):
                node[part] = [0.0] if isinstance(nxt, int) else {}
            node = node[part]
    node[path[-1]] = value
    with pytest.raises(ValueError) as e:
        check_record(rec)
    assert str(e.value).startswith(str(path[0])), str(e.value)


@pytest.mark.parametrize("path,value", [
    (("uncertainty",), {"kind": "rerun", "latency_p50_ms": ["a", 1]}),
    (("uncertainty",), {"kind": "window", "within_window": {"latency_p50_ms": {"a": 1}}}),
    (("settings", "imgsz"), "big"), (("settings", "imgsz"), [1, 2]),
    (("build",), {"dla": {"placement": {"dla_layers": "many"}}}),
    (("model", "pruning"), {"method": ["x"], "channel_ratio": "lots"}),
    (("reference", "speedup"), "fast"), (("reference", "below_floor"), "yes"),
    (("quality", "f1"), "0.5"), (("timed_out",), 1), (("n_frames",), 190.0),
], ids=lambda v: ".".join(v) if isinstance(v, tuple) else None)
def test_a_wrong_type_in_any_block_the_host_reads_is_refused_naming_it(tmp_path, path, value):
    """Strict: "0.5" is not a number and "yes" not a flag (lax validation passed them on, unconverted, to a table
    that then crashed formatting them); the free-form blocks the host reads from are typed."""
    run = good_run(tmp_path)
    rewrite_first(run, lambda r: _plant(r, path, json.dumps(value)))
    with pytest.raises(ResultsError, match=r"records.jsonl:1: not a run record \(" + path[0]):
        load_run(run)


# --- found by an attack pass on the whole read path ----------------------------------------------------


def test_csv_export_guards_text_of_every_dtype(tmp_path):
    """pandas 3 types text columns as str, not object: the formula guard covers every non-numeric column."""
    import pandas as pd

    from harness.results.rows import csv_text

    text = csv_text(pd.DataFrame({"a": ["=1+1", None], "b": [1.5, 2.0], "c": ["@SUM(1)", "ok"]}))
    assert "'=1+1" in text and "'@SUM(1)" in text and ",=" not in text and "1.5" in text


@pytest.mark.parametrize("name", ["x/../../escaped", ["x"], 5, "[/]x", "a" * 300])
def test_a_profile_name_that_is_not_a_safe_name_is_refused(tmp_path, name):
    """It labels rows and names report files (modes_<device>.png): a path, a list, markup or a huge name there is
    refused at load, naming the field."""
    run = good_run(tmp_path)
    m = json.loads((run / "manifest.json").read_text())
    m["profile"]["name"] = name
    (run / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ResultsError, match=r"manifest.json: not a run manifest \(profile.name"):
        load_run(run)


def test_two_runs_with_one_run_id_are_refused(tmp_path):
    a = good_run(tmp_path / "a")
    b = good_run(tmp_path / "b")
    with pytest.raises(ResultsError, match="have the same run id 'r1'"):
        load_runs([a, b])


def test_terminal_escapes_and_markup_in_record_text_reach_the_table_literally(tmp_path):
    from rich.console import Console

    from harness.results.render.table import results_table
    from harness.results.render.winners import best_table

    run = good_run(tmp_path)
    rewrite_first(run, lambda r: (r["cell"].update(model="yolo\x1b]0;PWNED\x07\x1b[31mRED"),
                                  r.update(runtime="[link=https://evil.example/]CUDA[/link] [/]x", status="failed",
                                           reason="boom \x1b[2J")))
    rows = compare(load_runs([run]))
    con = Console(width=200, record=True, force_terminal=True)
    con.print(results_table(rows, 200, wide=True), crop=False)  # --wide runs past the edge (as _console prints it)
    con.print(best_table(rows, 200))
    out = con.export_text(styles=False)
    assert "\x1b]" not in out and "\x1b[2J" not in out and "\x1b[31m" not in out
    assert "[link=https://evil.example/]" in out  # shown as text, not made a link


def test_upper_case_experiments_and_extreme_repeats_do_not_crash_compare(tmp_path):
    """A record's experiment may be upper case (a safe name) while a suite's may not; repeats 1e-20 and 1e18 ms
    apart have no finite interval: both compare, without an interval where none exists."""
    recs = [record("r1", "orin-nano", Cell("Quant", "yolov8n", "onnx", "fp32"), p50=20.0, f1=0.6)]
    second = dict(recs[0], repeat=2, latency={"total": {"p50_ms": 1e18}})
    recs[0]["latency"]["total"]["p50_ms"] = 1e-20
    run = make_run(tmp_path, "r1", "orin-nano", recs + [second])
    rows = compare(load_runs([run]))
    assert rows[0]["latency_p50_ci_lo_ms"] is None


def test_an_old_record_with_a_scalar_latency_is_refused_cleanly(tmp_path):
    run = good_run(tmp_path)
    rewrite_first(run, lambda r: r.update(schema_version=0, latency=5))
    with pytest.raises(ResultsError, match="schema v0"):
        load_run(run)


def test_the_report_skips_a_sequence_frame_that_is_a_fifo_or_a_pixel_bomb(tmp_path):
    """The manifest names the sequence the sample frames come from: a FIFO there would block the decoder, an
    8000x8000 PNG of 200 KB would take gigabytes."""
    from PIL import Image

    from harness.results.render.plots_runs import sample_frames

    run = good_run(tmp_path)
    seq = tmp_path / "seq"
    (seq / "img1").mkdir(parents=True)
    (run / "detections").mkdir(exist_ok=True)
    (run / "detections" / "d.txt").write_text("1,-1,inf,10,20,20,0.9\n1,-1,1e12,10,20,20,0.9\n")
    rewrite_first(run, lambda r: r.update(files={"detections": "detections/d.txt"},
                                          settings={**r["settings"], "timed_first": 1, "frame_last": 1}))
    m = json.loads((run / "manifest.json").read_text())
    m["sequence"] = str(seq)
    (run / "manifest.json").write_text(json.dumps(m))
    os.mkfifo(seq / "img1" / "000001.jpg")
    t0 = time.perf_counter()
    assert sample_frames(load_run(run), tmp_path) is None
    (seq / "img1" / "000001.jpg").unlink()
    Image.new("L", (8000, 8000)).save(seq / "img1" / "000001.png")
    assert sample_frames(load_run(run), tmp_path) is None
    assert time.perf_counter() - t0 < 10
    (seq / "img1" / "000001.png").unlink()
    Image.new("RGB", (64, 48)).save(seq / "img1" / "000001.png")
    assert sample_frames(load_run(run), tmp_path) is not None  # a real frame: drawn, the bad boxes skipped
