from harness import platform as E
def test_l4t_release_parsing():
    line = "# R36 (release), REVISION: 4.0, GCID: 37537400, BOARD: generic, EABI: aarch64, DATE: Fri Sep 13 04:36:44 UTC 2024"
    assert E._l4t(line) == "36.4.0"
    assert E._l4t("# R35 (release), REVISION: 5.0, GCID: 35550185, BOARD: t186ref") == "35.5.0"
    assert E._l4t(None) is None and E._l4t("garbage") is None


def test_environment_has_the_versions_records_need():
    env = E.collect_environment()
    for key in ("hostname", "torch", "ultralytics", "onnxruntime", "harness", "cuda_available", "l4t", "board_model"):
        assert key in env
    assert env["torch"] and env["ultralytics"] and env["harness"]


def test_nvpmodel_mode_is_read_by_name(tmp_path, monkeypatch):
    shim = tmp_path / "nvpmodel"
    shim.write_text("#!/bin/sh\necho 'NVPM WARN: fan mode is not set!'\necho 'NV Power Mode: 15W'\necho 0\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{E.os.environ['PATH']}")
    assert E._nvpmodel_mode() == "15W"
    monkeypatch.setenv("PATH", str(tmp_path / "none"))
    assert E._nvpmodel_mode() is None


def test_cpu_inference_is_not_pinned_to_one_thread_by_import_order():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    code = "import harness.models, ultralytics, torch; print(torch.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert int(out) == len(os.sched_getaffinity(0))
    env["OMP_NUM_THREADS"] = "1"  # the user's choice wins
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert int(out) == 1
