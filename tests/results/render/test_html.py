"""harness report on a real run plus hand-made Jetson / desktop-GPU runs, opened in headless Chromium."""

import shutil
import subprocess

import cv2
import pytest

from harness.results.load import load_runs
from harness.results.render.html import build_report
from harness.config.suite import Cell
from harness.testing.fakes import sysfs as fake_sysfs
from harness.testing.fakes.runs import make_run, record
from tests.cli.conftest import harness

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory, small_seq):
    tmp = tmp_path_factory.mktemp("report")
    sysroot = tmp / "sys"
    fake_sysfs.ina3221_hwmon(sysroot, fake_sysfs.ORIN_NANO_RAILS)
    fake_sysfs.thermal_zones(sysroot, {"tj-thermal": 52.0})
    prof = tmp / "p.yaml"
    prof.write_text("name: fake-orin\nkind: jetson\ncompute: cpu\ntelemetry:\n  prefer: [sysfs_ina3221]\n  interval_ms: 20\n  idle_s: 0.1\n")
    suite = tmp / "s.yaml"
    suite.write_text("name: tiny\nframes: 6\nwarmup: 2\nimgsz: 160\nexperiments:\n  - name: baseline\n    models: [yolov8n, yolo26n]\n"
                     "  - name: quantization\n    models: [yolov8n]\n    variants: [{format: onnx, precision: fp32}]\n")
    p = harness("run", "--suite", suite, "--profile", prof, "--sequence", small_seq, "--out", tmp / "runs", "--run-id", "real",
                env={"HARNESS_SYSFS_ROOT": str(sysroot)})
    assert p.returncode == 0, p.stdout + p.stderr
    pt, onnx = Cell("baseline", "yolov8n", "pytorch", "fp32"), Cell("quantization", "yolov8n", "onnx", "fp32")
    jet = make_run(tmp / "runs", "jetson", "orin-nano", [
        record("jetson", "orin-nano", pt, p50=40, p99=55, f1=0.5, ap50=0.6, mean_w=5, energy_mj=200, peak_c=60),
        record("jetson", "orin-nano", onnx, p50=25, p99=30, f1=0.5, ap50=0.6, mean_w=5.5, energy_mj=140, peak_c=62)], imgsz=160, frames=6)
    gpu = make_run(tmp / "runs", "gpu", "desktop-gpu", [
        record("gpu", "desktop-gpu", pt, p50=8, p99=9, f1=0.5, ap50=0.6, mean_w=70, energy_mj=560, peak_c=71)], imgsz=160, frames=6)
    return [tmp / "runs" / "real", jet, gpu], tmp


def readable_png(path, min_side=200):
    img = cv2.imread(str(path))
    assert img is not None, f"{path} is not a PNG"
    assert min(img.shape[:2]) >= min_side and img.std() > 5, f"{path} looks empty"
    return img


def test_report_writes_every_plot_and_a_self_contained_page(run_dirs):
    dirs, tmp = run_dirs
    res = build_report(load_runs(dirs), tmp / "out")
    names = {p.name for p in res["plots"]}
    assert {"speed_baseline.png", "f1_baseline.png", "speed_quantization.png", "fps_per_w.png", "frontier_latency.png",
            "latency_distributions.png", "traces_real.png", "samples_real.png"} <= names
    for p in res["plots"]:
        readable_png(p)
    page = res["html"].read_text()
    assert page.count("data:image/png;base64,") == len(res["plots"])  # embedded, no external files
    assert "src=\"http" not in page and "orin-nano" in page and "desktop-gpu" in page and "fake-orin" in page
    assert "Random-init weights" in page  # the real run is offline
    # the answer comes first: the best variant per device, before any chart
    head = page[:page.index("<h2>Across devices")]
    assert "Which variant wins" in head and "Boards against desktops" in head and "data:image" not in head
    nano = head[head.index("orin-nano"):]
    assert nano.index("onnx") < nano.index("</tr>")  # onnx fp32 (40 FPS / 5.5 W) beats pytorch (25 FPS / 5 W)


def test_report_opens_in_headless_chromium(run_dirs):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is installed by `make test` (testdeps)"
    dirs, tmp = run_dirs
    res = build_report(load_runs(dirs), tmp / "browser")
    shot = tmp / "browser" / "screenshot.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'chrome'}", "--window-size=1400,1800",
                    f"--screenshot={shot}", res["html"].as_uri()], check=True, capture_output=True, timeout=120)
    img = readable_png(shot, min_side=1000)
    assert img.shape[:2] == (1800, 1400)
    # the page is mostly white with a dark title and a filled table: some rows must be far from white
    assert (img.mean(axis=2) < 128).mean() > 0.002 and (img.mean(axis=2) > 240).mean() > 0.3


def test_report_cli(run_dirs, tmp_path):
    dirs, _ = run_dirs
    p = harness("report", *dirs, "--out", tmp_path / "r", "--baseline", "desktop-gpu")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "report.html" in p.stdout and (tmp_path / "r" / "report.html").is_file()


def test_run_ends_with_the_comparison(run_dirs, small_seq, tmp_path):
    dirs, tmp = run_dirs
    suite = tmp / "s.yaml"
    p = harness("run", "--suite", suite, "--sequence", small_seq, "--out", tmp_path, "--run-id", "again",
                "--compare-with", dirs[0], env={"COLUMNS": "120"})
    assert p.returncode == 0, p.stdout + p.stderr
    out = " ".join(p.stdout.split())
    assert "against fake-orin/real" in out and "x base" in out and "Which variant wins" in out


def test_every_value_from_a_record_or_manifest_is_escaped(tmp_path):
    """A crafted run (pulled from a compromised board, or edited) cannot put markup into report.html."""
    import json

    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    pt = Cell("baseline", "yolov8n", "pytorch", "fp32")
    rec = record("crafted", "orin-nano", pt, p50=10, f1=0.5, mean_w=5, energy_mj=50)
    rec.update(reason=evil, host=evil, runtime=evil)
    rec["model"]["weights_provenance"] = evil
    rec["environment"] = {evil: evil, "torch": evil}
    root = make_run(tmp_path / "runs", "crafted", "orin-nano", [rec], imgsz=640)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["suite"].update(name=evil, imgsz=evil, frames=evil, warmup=evil)
    manifest.update(sequence=evil, environment={evil: [evil]}, telemetry={"selected": evil})
    manifest["profile"]["description"] = evil  # (a profile name that is not a safe name is refused at load)
    (root / "manifest.json").write_text(json.dumps(manifest))
    page = build_report(load_runs([root]), tmp_path / "out")["html"].read_text()
    assert "<script" not in page and "<img src=x" not in page  # no element of the crafted markup survives
    assert page.count("&lt;script&gt;") >= 8  # shown, as text


def test_the_answer_never_names_a_random_init_model_when_the_reference_ran(tmp_path):
    from harness.results.compare import compare
    from harness.results.render.html import _answer

    pc = {"cpu_model": "AMD Ryzen 7 5800X"}
    recs = [record("demo", "local", Cell("quick", "yolov8n", "pytorch", "fp32"), p50=12.0, f1=0.0, mean_w=40,
                   energy_mj=480, provenance="random-init", environment=pc),
            record("demo", "local", Cell("quick", "reference", "onnx", "fp16"), p50=30.0, f1=0.81, mean_w=44,
                   energy_mj=1320, provenance="reference", environment=pc)]
    only_ri = [record("ri", "desktop-cpu", Cell("quick", "yolov8n", "pytorch", "fp32"), p50=15.0, f1=0.0,
                      provenance="random-init", environment=pc)]
    rows = compare(load_runs([make_run(tmp_path, "demo", "local", recs), make_run(tmp_path, "ri", "desktop-cpu", only_ri)]))
    page = _answer(rows)
    local = page[page.index("<td class='l big'>local</td>"):]
    local = local[:local.index("</tr>")]
    assert local.count("reference onnx fp16") == 2 and "yolov8n pytorch fp32 is faster" in local
    cpu = page[page.index("<td class='l big'>desktop-cpu</td>"):]
    cpu = cpu[:cpu.index("</tr>")]
    assert "yolov8n pytorch fp32 <span class=\"note\">(random weights: speed only)</span>" in cpu
    assert "0.000" not in cpu


def test_report_include_contended(tmp_path):
    rec = lambda cell, p50: record("c", "orin-nano", cell, p50=p50, f1=0.6, mean_w=7, energy_mj=7 * p50)  # noqa: E731
    fast = rec(Cell("q", "yolov8n", "tensorrt", "fp16"), 5)
    fast["host_state"] = {"contended": True, "contended_reason": "other processes used 70 % of the CPU"}
    root = make_run(tmp_path / "runs", "c", "orin-nano", [fast, rec(Cell("q", "yolov8n", "pytorch", "fp32"), 40)])

    def answer(*flags):
        p = harness("report", root, "--out", tmp_path / "r", *flags)
        assert p.returncode == 0, p.stdout + p.stderr
        page = (tmp_path / "r" / "report.html").read_text()
        return page[page.index("Which variant wins"):page.index("<h2>Across devices")]

    head = answer()
    assert "yolov8n tensorrt fp16" not in head.split("</tr>")[1]  # the header row, then orin-nano's
    assert "1 contended row left out of the Pareto fronts and every best pick" in head
    assert "other processes used 70 % of the CPU" in head
    head = answer("--include-contended")
    assert "yolov8n tensorrt fp16" in head.split("</tr>")[1] and "1 contended row counted" in head
