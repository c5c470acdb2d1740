"""``harness history``, ``regressions`` and ``results index|query`` as a person runs them (80 and 120 columns)."""

from __future__ import annotations

import json

import pytest

from tests.catalogue.conftest import night
from tests.cli.conftest import assert_user_error, harness


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab") / "results"
    for n in range(1, 6):
        night(root, n)
    night(root, 6, scale={"onnx": 1.15, "trt16": 1.02}, f1={"int8": 0.55}, failed=("fp32",),
          env={"tensorrt": "10.7.0"})
    p = harness("results", "index", root)
    assert p.returncode == 0 and "6 run(s), 24 row(s)" in p.stdout, p.stdout + p.stderr
    return root


@pytest.mark.parametrize("cols", [80, 120])
def test_regressions_fit_the_terminal_and_name_the_changes(results, cols):
    p = harness("regressions", "--results", results, env={"COLUMNS": str(cols)})
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert max(len(line) for line in lines) <= cols
    for text in ("slower", "+15.0%", "F1 down", "-0.066", "now failed", "engine build ran",
                 "TensorRT 10.3.0 -> 10.7.0", "3 worse, 0 better, outside the noise"):
        assert text in p.stdout, (text, p.stdout)
    assert "tensorrt fp16" not in p.stdout  # its +2 % is noise
    strict = harness("regressions", "--results", results, "--fail")
    assert strict.returncode == 1


def test_regressions_json_for_a_ci_job(results):
    p = harness("regressions", "--results", results, "--json")
    doc = json.loads(p.stdout)
    assert doc["worse"] == 3 and doc["better"] == 0
    assert {c["what"] for c in doc["changes"]} == {"slower", "F1 down", "now failed"}
    assert all(c["run_id"] == "night6" for c in doc["changes"])


@pytest.mark.parametrize("cols", [80, 120])
def test_history_shows_the_runs_and_what_changed(results, cols, tmp_path):
    png = tmp_path / "h.png"
    p = harness("history", "--results", results, "--variant", "onnx", "--plot", png, env={"COLUMNS": str(cols)})
    assert p.returncode == 0, p.stderr
    assert max(len(line) for line in p.stdout.splitlines() if str(png) not in line) <= cols  # a path may be longer
    assert "yolov8n onnx fp16 640px on orin-nano" in p.stdout and "night6" in p.stdout
    assert "23.00 ±0.69" in p.stdout and "TensorRT 10.3.0 -> 10.7.0" in p.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = json.loads(harness("history", "--results", results, "--model", "yolov8n", "--last", "2", "--json").stdout)["rows"]
    assert len(doc) == 8 and {d["run_id"] for d in doc} == {"night5", "night6"}


def test_query_answers_sql_and_writes_files(results, tmp_path):
    sql = "SELECT variant, count(*) AS n, round(avg(latency_p50_ms), 2) AS p50 FROM cells GROUP BY variant ORDER BY 1"
    p = harness("results", "query", sql, "--results", results, "--csv", tmp_path / "q.csv")
    assert p.returncode == 0 and "onnx fp16" in p.stdout and "4 row(s)" in p.stdout, p.stderr
    assert (tmp_path / "q.csv").read_text().splitlines()[0] == "variant,n,p50"
    doc = json.loads(harness("results", "query", sql, "--results", results, "--json").stdout)["rows"]
    assert doc[0] == {"variant": "onnx fp16", "n": 6, "p50": pytest.approx(20.5, abs=0.01)}


def test_catalogue_errors_are_one_line(results, tmp_path):
    assert_user_error(harness("results", "query", "SELEC nonsense", "--results", results), "the query failed")
    assert_user_error(harness("regressions", "--results", tmp_path), "no catalogue yet")
    assert_user_error(harness("history", "--results", tmp_path), "no catalogue yet")


def test_the_report_starts_with_what_changed_since_last_time(results, tmp_path):
    p = harness("report", results / "night6", "--out", tmp_path / "rep")
    assert p.returncode == 0, p.stderr
    page = (tmp_path / "rep" / "report.html").read_text()
    since = page.index("<h2>Since last time</h2>")
    assert since < page.index("<h2>Which variant wins</h2>")
    section = page[since:page.index("</table>", since)]
    assert "3 worse, 0 better, outside the noise in 4 configuration(s)" in section
    for text in ("slower", "+15.0%", "F1 down", "now failed", "TensorRT 10.3.0 -&gt; 10.7.0"):
        assert text in section, text
    older = harness("report", results / "night3", "--out", tmp_path / "old")
    assert older.returncode == 0, older.stderr
    assert "no change outside the noise in 4 configuration(s)" in (tmp_path / "old" / "report.html").read_text()


def test_a_campaign_ends_with_the_summary(results):
    from rich.console import Console

    from harness.cli._console import Output
    from harness.cli.campaign import _since

    view = Output()
    view.con = Console(record=True, width=100, file=open("/dev/null", "w"))
    _since(view, [results / "night6"])
    text = view.con.export_text()
    assert "since last time: 3 worse, 0 better, outside the noise in 4 configuration(s)" in text and "slower" in text


@pytest.mark.parametrize("cols", [80, 120])
def test_a_long_run_id_gives_way_and_every_number_stays_whole(tmp_path, cols):
    root = tmp_path / "results"
    for n in (1, 2):
        night(root, n, run_id=f"20261203-21201{n}-orin-nano-quick-suite-night")
    assert harness("results", "index", root).returncode == 0
    p = harness("history", "--results", root, "--variant", "onnx", env={"COLUMNS": str(cols)})
    lines = p.stdout.splitlines()
    assert max(len(line) for line in lines) <= cols
    row = next(line for line in lines if line.startswith("2026-11-02"))
    for whole in ("20.12 ±0.60", "150.9 ±4.5", "6.7", "0.620"):
        assert whole in row, (whole, row)


def test_report_writes_beside_the_first_run_without_out(results):
    p = harness("report", results / "night5")
    assert p.returncode == 0, p.stderr
    assert (results / "night5" / "report" / "report.html").is_file()
    assert harness("history", "--results", results, "--json").returncode == 0  # a report dir is no run
