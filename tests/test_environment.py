import json
import os
import socket
from importlib import metadata

import pytest

from harness import environment as E
from harness.testing.attacks import attacks, timed, unblocked


def test_l4t_release_parsing_is_the_one_parser_everyone_uses():
    from harness.remote.preflight import l4t_major

    line = "# R36 (release), REVISION: 4.0, GCID: 37537400, BOARD: generic, EABI: aarch64, DATE: Fri Sep 13 04:36:44 UTC 2024"
    assert E.parse_l4t(line) == E.L4TRelease(36, "4.0") and E.l4t_version(line) == "36.4.0"
    assert E.l4t_version("# R35 (release), REVISION: 5.0, GCID: 35550185, BOARD: t186ref") == "35.5.0"
    assert E.l4t_version("# R32 (release), REVISION: 7.4\nsecond line") == "32.7.4"
    assert E.parse_l4t("# R36 (release)") == E.L4TRelease(36, None)
    for bad in (None, "", "garbage", "R36 no hash", "# Rxx (release)"):
        assert E.parse_l4t(bad) is None and E.l4t_version(bad) is None
    assert l4t_major(line) == 36 and l4t_major("garbage") is None


def test_environment_describes_this_machine():
    import torch

    import harness

    env = E.collect_environment()
    assert env["hostname"] == socket.gethostname() and env["cpu_count"] == os.cpu_count()
    assert env["torch"] == torch.__version__ and env["harness"] == harness.__version__
    assert env["ultralytics"] == metadata.version("ultralytics") and env["numpy"] == metadata.version("numpy")
    assert env["torch_threads"] == torch.get_num_threads() >= 1
    assert env["cuda_available"] is torch.cuda.is_available()
    assert "CPUExecutionProvider" in env["onnxruntime_providers"]
    if not os.path.exists("/etc/nv_tegra_release"):  # not a Jetson: no L4T, no board model, no power mode
        assert env["l4t"] is None and env["nvpmodel"] is None


def test_image_info_reads_the_images_versions_file(tmp_path, monkeypatch):
    monkeypatch.delenv("HARNESS_IMAGE_INFO", raising=False)
    assert E.image_info() is None
    f = tmp_path / "image.json"
    f.write_text(json.dumps({"flavor": "cpu", "torch": "2.14.1"}))
    monkeypatch.setenv("HARNESS_IMAGE_INFO", str(f))
    assert E.image_info() == {"flavor": "cpu", "torch": "2.14.1"}
    f.write_text("[1, 2]")
    assert E.image_info() is None  # not an object: ignored, never a crash


def test_nvpmodel_mode_is_read_by_name(tmp_path, monkeypatch):
    shim = tmp_path / "nvpmodel"
    shim.write_text("#!/bin/sh\necho 'NVPM WARN: fan mode is not set!'\necho 'NV Power Mode: 15W'\necho 0\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{E.os.environ['PATH']}")
    assert E._nvpmodel_mode() == "15W"
    monkeypatch.setenv("PATH", str(tmp_path / "none"))
    assert E._nvpmodel_mode() is None
    assert E.parse_nvpmodel_query("NVPM WARN: x\nNV Power Mode: MAXN_SUPER\n2") == "MAXN_SUPER"
    assert E.parse_nvpmodel_query("") is None and E.parse_nvpmodel_query("NV Power Mode:") is None


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


# --- release files and fact files are the device's: linear parsing, bounded reads that never block -----------------

L4T_ATTACKS = attacks("# R", "# R36 ", "REVISION: ", "REVISION: 1.", "# R36 (release), REVISION: 4.0, ")
L4T_ATTACKS["a release number of 5 000 digits"] = "# R" + "3" * 5000 + " (release)"
L4T_ATTACKS["a revision of 4 MiB"] = "# R36 (release), REVISION: " + "4." * (2 << 20)
L4T_ATTACKS["4 MiB of blank lines, then a release"] = "\n" * (4 << 20) + "# R36 (release), REVISION: 4.0"


@pytest.mark.parametrize("name", sorted(L4T_ATTACKS))
def test_the_l4t_parser_is_linear_on_hostile_release_files(name):
    rel = timed(E.parse_l4t, L4T_ATTACKS[name])
    assert rel is None or (rel.major == 36 and (rel.revision is None or len(rel.revision) <= 32))


def test_fact_files_are_bounded_and_a_fifo_is_no_fact(tmp_path):
    os.mkfifo(tmp_path / "model")  # a plain read waits for a writer forever
    assert unblocked(E._read, str(tmp_path / "model")) is None
    (tmp_path / "release").write_text("# R36 (release), REVISION: 4.0" + " " * (8 << 20))
    text = timed(E._read, str(tmp_path / "release"))
    assert text == "# R36 (release), REVISION: 4.0" and E.l4t_version(text) == "36.4.0"
