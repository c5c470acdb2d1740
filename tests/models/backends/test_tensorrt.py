"""TensorRT plumbing that needs no GPU: cache keys, the engine cache, trtexec commands and output."""

import math

import pytest

from harness.models.backends import tensorrt as T
from harness.errors import BenchmarkError
from harness.testing.attacks import LINES_ATTACK_CHARS, attacks, timed

# Real trtexec summaries from public sources: TensorRT 8.4-era (timestamps, p99 only) ...
TRTEXEC_84 = """[07/25/2022-19:02:56] [I] === Performance summary ===
[07/25/2022-19:02:56] [I] Throughput: 2.54521e+06 qps
[07/25/2022-19:02:56] [I] Latency: min = 9.47876 ms, max = 51.4163 ms, mean = 16.5801 ms, median = 11.6239 ms, percentile(99%) = 47.6256 ms
[07/25/2022-19:02:56] [I] Enqueue Time: min = 0.00854492 ms, max = 0.0578613 ms, mean = 0.012563 ms, median = 0.00976562 ms, percentile(99%) = 0.0471191 ms
[07/25/2022-19:02:56] [I] H2D Latency: min = 3.12537 ms, max = 44.6831 ms, mean = 9.18409 ms, median = 4.26877 ms, percentile(99%) = 40.4702 ms
[07/25/2022-19:02:56] [I] GPU Compute Time: min = 5.99756 ms, max = 9.45909 ms, mean = 7.35231 ms, median = 7.1825 ms, percentile(99%) = 9.2168 ms
[07/25/2022-19:02:56] [I] D2H Latency: min = 0.00561523 ms, max = 0.0736084 ms, mean = 0.0437097 ms, median = 0.0429077 ms, percentile(99%) = 0.0670166 ms
[07/25/2022-19:02:56] [I] Total Host Walltime: 3.07697 s
[07/25/2022-19:02:56] [I] Total GPU Compute Time: 7.02881 s
[07/25/2022-19:02:56] [W] * GPU compute time is unstable, with coefficient of variance = 7.58229%.
"""
# ... and TensorRT 8.6-era (p90/p95/p99), a YOLOv9-C QAT engine.
TRTEXEC_86 = """=== Performance summary ===
Throughput: 344.474 qps

Latency: min = 2.89282 ms, max = 2.92041 ms, mean = 2.9013 ms, median = 2.90137 ms, percentile(90%) = 2.90405 ms, percentile(95%) = 2.90479 ms, percentile(99%) = 2.90625 ms

Enqueue Time: min = 0.0195312 ms, max = 0.907837 ms, mean = 0.0503547 ms, median = 0.03125 ms, percentile(90%) = 0.0878906 ms, percentile(95%) = 0.109375 ms, percentile(99%) = 0.259888 ms

H2D Latency: min = 0 ms, max = 0 ms, mean = 0 ms, median = 0 ms, percentile(90%) = 0 ms, percentile(95%) = 0 ms, percentile(99%) = 0 ms

GPU Compute Time: min = 2.89282 ms, max = 2.92041 ms, mean = 2.9013 ms, median = 2.90137 ms, percentile(90%) = 2.90405 ms, percentile(95%) = 2.90479 ms, percentile(99%) = 2.90625 ms

D2H Latency: min = 0 ms, max = 0 ms, mean = 0 ms, median = 0 ms, percentile(90%) = 0 ms, percentile(95%) = 0 ms, percentile(99%) = 0 ms

Total Host Walltime: 10.0066 s

Total GPU Compute Time: 10.0008 s
"""


def test_parse_trtexec_84():
    out = T.parse_trtexec(TRTEXEC_84)
    assert out["throughput_qps"] == pytest.approx(2.54521e6)
    assert out["gpu_compute"] == {"min_ms": 5.99756, "max_ms": 9.45909, "mean_ms": 7.35231, "p50_ms": 7.1825, "p99_ms": 9.2168}
    assert out["latency"]["mean_ms"] == 16.5801 and out["latency"]["p99_ms"] == 47.6256


def test_parse_trtexec_86():
    out = T.parse_trtexec(TRTEXEC_86)
    assert out["throughput_qps"] == 344.474
    g = out["gpu_compute"]
    assert (g["mean_ms"], g["p50_ms"], g["p90_ms"], g["p95_ms"], g["p99_ms"]) == (2.9013, 2.90137, 2.90405, 2.90479, 2.90625)


def test_parse_trtexec_without_a_summary():
    with pytest.raises(BenchmarkError, match="no 'GPU Compute Time' line"):
        T.parse_trtexec("&&&& FAILED TensorRT.trtexec\n")


def test_trtexec_command_is_an_argv_list(tmp_path):
    engine = tmp_path / "my model.engine"  # a space: no shell is involved, so no quoting problem
    cmd = T.trtexec_command("/usr/src/tensorrt/bin/trtexec", engine, iterations=100)
    assert cmd == ["/usr/src/tensorrt/bin/trtexec", f"--loadEngine={engine}", "--iterations=100", "--warmUp=500",
                   "--avgRuns=10", "--useSpinWait"]


def test_engine_key_covers_everything_that_changes_an_engine():
    base = dict(model_sha256="a" * 64, trt_version="10.3.0", device="L4T 36.4.0", precision="fp16", imgsz=640,
                batch=1, workspace_gb=4.0, calibration_sha256=None)
    k = T.engine_key(**base)
    assert T.engine_key(**base) == k and len(k) == 16
    for field, other in [("model_sha256", "b" * 64), ("trt_version", "8.6.2"), ("device", "L4T 35.5.0"),
                         ("precision", "int8"), ("imgsz", 320), ("batch", 4), ("workspace_gb", 2.0)]:
        assert T.engine_key(**{**base, field: other}) != k, field
    int8 = {**base, "precision": "int8", "calibration_sha256": "c" * 64}
    assert T.engine_key(**int8) != T.engine_key(**{**int8, "calibration_sha256": "d" * 64})
    assert T.engine_key(**{**base, "calibration_sha256": "d" * 64}) == k  # fp16 ignores calibration


def test_the_engine_key_follows_the_host_l4t_the_container_sees(monkeypatch):
    """In a container the board's /etc/nv_tegra_release is mounted over the image's (remote.runtimes.container): the
    environment reads the board's release, and an r36.4.3 board's engines never share a key with an r36.4.0 one's."""
    from harness import environment as P

    files = {"/etc/nv_tegra_release": "# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic",
             "/tmp/nv_jetson_model": "NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super"}
    monkeypatch.setattr(P, "_read", lambda path: files.get(path))

    def key_on_this_board() -> str:
        P.collect_environment.cache_clear()
        env = P.collect_environment()
        return T.engine_key("a" * 64, "10.3.0", T.engine_device(env), "fp16", 640)

    try:
        env = (P.collect_environment.cache_clear(), P.collect_environment())[1]
        assert env["l4t"] == "36.4.3" and env["board_model"].startswith("NVIDIA Jetson Orin Nano")
        assert T.engine_device(env) == "L4T 36.4.3 NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super"
        k = key_on_this_board()
        files["/etc/nv_tegra_release"] = "# R36 (release), REVISION: 4.0, GCID: 37537400, BOARD: generic"
        assert key_on_this_board() != k
        files["/etc/nv_tegra_release"] = "# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic"
        files["/tmp/nv_jetson_model"] = "NVIDIA Jetson Orin NX Engineering Reference Developer Kit"
        assert key_on_this_board() != k  # another board, same release
    finally:
        P.collect_environment.cache_clear()


def test_engine_cache_builds_once_and_rebuilds_on_a_new_key(harness_cache):
    calls = []

    def builder(target):
        calls.append(target)
        target.write_bytes(b"engine-bytes")
        return "built"

    path = T.engine_path("yolov8n", "fp16", 640, "k1")
    first = T.build_cached(path, builder)
    assert first["cache_hit"] is False and first["engine_bytes"] == 12 and first["builder_log"] == "built"
    second = T.build_cached(path, builder)
    assert second == {"cache_hit": True, "build_s": 0.0, "engine_bytes": 12, "builder_log": None} and len(calls) == 1
    T.build_cached(T.engine_path("yolov8n", "fp16", 640, "k2"), builder)
    assert len(calls) == 2


def test_a_failed_build_leaves_no_engine(harness_cache):
    def broken(target):
        raise BenchmarkError("TensorRT fp16 build failed: out of memory")

    path = T.engine_path("yolov8n", "fp16", 640, "broken")
    with pytest.raises(BenchmarkError, match="out of memory"):
        T.build_cached(path, broken)
    assert not path.exists() and not list(path.parent.glob("*.tmp"))


def test_calibration_dataset_for_int8(small_seq, tmp_path):
    import yaml

    from harness.models.calibration import calibration_set
    from harness.mot.sequence import load_sequence

    cal = calibration_set(load_sequence(small_seq), 10, 6)
    data = T.calibration_dataset(list(cal.paths), tmp_path / "cal")
    cfg = yaml.safe_load(data.read_text())
    assert cfg["val"] == "images/val" and cfg["names"][0] == "person"
    assert len(list((tmp_path / "cal" / "images" / "val").iterdir())) == 6


def test_no_trtexec_here_means_none(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(T, "TRTEXEC_CANDIDATES", ("trtexec",))
    assert T.find_trtexec() is None and T.run_trtexec(tmp_path / "x.engine") is None


def test_run_trtexec_with_a_scripted_binary(monkeypatch, tmp_path):
    import os
    import stat
    import sys

    exe = tmp_path / "trtexec"
    exe.write_text(f"#!{sys.executable}\nimport sys\nassert sys.argv[1].startswith('--loadEngine=')\nprint({TRTEXEC_86!r})\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    out = T.run_trtexec(tmp_path / "model.engine")
    assert out["gpu_compute"]["mean_ms"] == 2.9013 and out["command"][0] == str(exe)


def test_ultralytics_builder_moves_the_engine_and_keeps_the_log(monkeypatch, tmp_path, harness_cache):
    import logging

    import ultralytics

    seen = {}

    class FakeYOLO:
        def __init__(self, path):
            seen["path"] = path

        def export(self, **kw):
            seen.update(kw)
            logging.getLogger("ultralytics").warning("TensorRT: building FP16 engine as model.engine")
            out = tmp_path / "model.engine"
            out.write_bytes(b"plan")
            return str(out)

    monkeypatch.setattr(ultralytics, "YOLO", FakeYOLO)
    weights = tmp_path / "yolov8n.pt"
    weights.write_bytes(b"w")
    facts = T.build_cached(T.engine_path("yolov8n", "fp16", 640, "fake"),
                           T.ultralytics_builder(weights, "fp16", 640, 4.0, None))
    assert facts["cache_hit"] is False and facts["engine_bytes"] == 4
    assert "building FP16 engine" in facts["builder_log"]
    assert seen["format"] == "engine" and seen["half"] is True and seen["int8"] is False and seen["device"] == 0


# --- trtexec's output is a tool's log: its parser is linear on anything (docs/architecture.md) ------------------------

TRTEXEC_ATTACKS = attacks("min = ", "median = 1", "percentile(", "Throughput: ", "GPU Compute Time: min = ",
                          "Latency: min = ", "Performance summary")
TRTEXEC_ATTACKS["blank lines before a wrapped median"] = " \n" * (LINES_ATTACK_CHARS // 2) + "median = 1 ms"
TRTEXEC_ATTACKS["a summary, then a flood of blank lines"] = TRTEXEC_86 + "\n" * LINES_ATTACK_CHARS + "max"


@pytest.mark.parametrize("name", sorted(TRTEXEC_ATTACKS))
def test_the_trtexec_parser_is_linear_on_hostile_output(name):
    got = timed(T.parse_trtexec, TRTEXEC_ATTACKS[name])
    if not isinstance(got, BenchmarkError):  # a summary-shaped flood: whatever numbers it has, finite
        assert all(math.isfinite(v) for v in got["gpu_compute"].values())


def test_hostile_numbers_in_a_summary_are_dropped_not_raised():
    text = ("GPU Compute Time: min = 1.2.3 ms, max = 1e999 ms, mean = " + "9" * 5000 + " ms, median = 2.5 ms\n"
            "Throughput: nan qps\n")
    assert timed(T.parse_trtexec, text) == {"gpu_compute": {"p50_ms": 2.5}}


def test_wrapped_summary_lines_are_joined():
    text = "GPU Compute Time: min = 1 ms, max = 3 ms, mean = 2 ms,\n   \n  median = 2 ms, percentile(99%) = 3 ms\n"
    assert T.parse_trtexec(text)["gpu_compute"] == {"min_ms": 1.0, "max_ms": 3.0, "mean_ms": 2.0, "p50_ms": 2.0,
                                                     "p99_ms": 3.0}
