from rich.console import Console

from harness.results.render.table import records_table


def render(records):
    con = Console(width=200, record=True)
    con.print(records_table(records, title="t"))
    return con.export_text()


def test_table_shows_measurements_skips_and_random_weights():
    ok = {"cell_id": "b.yolov8n.pytorch-fp32", "status": "ok", "runtime": "CPUExecutionProvider",
          "model": {"params": 3_157_200, "gflops": 8.7, "artifact_bytes": 6_500_000, "weights_provenance": "random-init"},
          "latency": {"total": {"mean_ms": 55.0, "std_ms": 1.5, "p50_ms": 54.0, "p99_ms": 60.0},
                      "pre": {"mean_ms": 1.5}, "infer": {"mean_ms": 53.0}, "post": {"mean_ms": 0.5}},
          "fps": 18.18, "quality": {"f1": 0.0, "ap50": 0.0}}
    skipped = {"cell_id": "q.yolov8n.tensorrt-fp16", "status": "skipped", "reason": "TensorRT is not installed here"}
    text = render([ok, skipped])
    assert "3.16" in text and "55.0 ±1.5" in text and "1.5/53.0/0.5" in text and "CPU EP" in text
    assert "q.yolov8n.tensorrt-fp16: skipped: TensorRT is not installed here" in text
    assert "RANDOM-INIT WEIGHTS" in text


def test_pretrained_runs_have_no_warning():
    rec = {"cell_id": "x", "status": "ok", "model": {"weights_provenance": "pretrained"}}
    text = render([rec])
    row = next(line for line in text.splitlines() if "│ x " in line)
    assert "pretrained" in row and "ok" in row  # the row itself is shown, with its provenance
    assert "RANDOM-INIT" not in text and "random" not in text
