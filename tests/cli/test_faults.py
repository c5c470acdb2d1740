"""Faults a long unattended run meets: a full disk, a second process on the same run, bad files as input."""

import json
import os
import subprocess
import time

import pytest

from tests.cli.conftest import HARNESS, assert_user_error, harness

pytestmark = pytest.mark.slow

SUITE = ("name: tiny\nframes: 6\nwarmup: 2\nimgsz: 64\nexperiments:\n"
         "  - name: baseline\n    models: [yolov8n, yolo11n, yolo26n]\n")


def fill(mnt, leave_bytes: int):
    """Fill the filesystem, then free ``leave_bytes``."""
    filler = mnt / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - leave_bytes))
    return filler


def no_temps(root):
    return [p for p in root.rglob("*") if ".tmp-" in p.name or p.name.endswith(".tmp")]


def test_a_full_disk_under_out_is_one_line_keeps_every_record_and_resumes(tmp_path, tmpfs, small_seq):
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE)
    filler = fill(tmpfs, 40 << 10)
    p = harness("run", "--suite", suite, "--sequence", small_seq, "--out", tmpfs, "--run-id", "full")
    assert_user_error(p, "No space left on device")
    assert "free space" in p.stderr and "resume" in p.stderr
    run = tmpfs / "full"
    assert not no_temps(tmpfs), no_temps(tmpfs)
    done = [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()] if (run / "records.jsonl").exists() else []
    assert all(r["status"] == "ok" for r in done)  # what was written is whole; nothing failed for the disk's sake
    filler.unlink()
    p = harness("run", "--resume", run)
    assert p.returncode == 0, p.stdout + p.stderr
    recs = [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()]
    assert sorted(r["cell_id"] for r in recs) == sorted({r["cell_id"] for r in recs}) and len(recs) == 3
    assert all(r["status"] == "ok" for r in recs) and not no_temps(tmpfs)


def test_a_full_cache_is_one_line_and_leaves_no_temp_files(tmp_path, tmpfs, small_seq):
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE.replace("yolov8n, yolo11n, yolo26n", "yolov8s"))  # weights not yet in any cache
    fill(tmpfs, 512 << 10)  # yolov8s random-init weights are ~22 MB
    p = harness("run", "--suite", suite, "--sequence", small_seq, "--out", tmp_path / "out", "--run-id", "c",
                env={"HARNESS_CACHE_DIR": str(tmpfs / "cache")})
    assert_user_error(p, "no space left")
    assert not no_temps(tmpfs), no_temps(tmpfs)


def test_a_second_process_on_the_same_run_is_refused_with_the_holder(tmp_path, small_seq):
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE.replace("frames: 6", "frames: 20"))
    run = tmp_path / "out" / "r"
    first = subprocess.Popen([str(HARNESS), "run", "--suite", str(suite), "--sequence", str(small_seq), "--out",
                              str(tmp_path / "out"), "--run-id", "r"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (run / "manifest.json").exists():
        time.sleep(0.1)
    second = harness("run", "--resume", run)
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out + err
    assert_user_error(second, "in use by harness run", f"pid {first.pid}")
    recs = [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()]
    assert len(recs) == 3 and all(r["status"] == "ok" for r in recs)  # measured once, by one process


@pytest.mark.parametrize("flag", ["--suite", "--profile"])
def test_binary_files_and_directories_as_input_are_one_line(tmp_path, flag, small_seq):
    (tmp_path / "x.yaml").write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe\x00")
    assert_user_error(harness("run", flag, tmp_path / "x.yaml", "--sequence", small_seq), "not UTF-8 text")
    (tmp_path / "d.yaml").mkdir()
    assert_user_error(harness("run", flag, tmp_path / "d.yaml", "--sequence", small_seq), "is a directory")


def test_eval_refuses_dev_zero_and_overflowing_boxes(tmp_path, small_seq):
    t0 = time.monotonic()
    assert_user_error(harness("eval", "--gt", small_seq / "gt" / "gt.txt", "--det", "/dev/zero"), "not a regular file")
    assert time.monotonic() - t0 < 30
    det = tmp_path / "det.txt"
    det.write_text("1,-1,10,10,20,40,0.9\n1,-1,10,10,1e308,40,0.9\n")
    assert_user_error(harness("eval", "--gt", small_seq / "gt" / "gt.txt", "--det", det), f"{det}:2:", "beyond")


def test_a_suite_name_cannot_place_the_run_outside_out(tmp_path, small_seq):
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE.replace("name: tiny", "name: ../../escaped"))
    assert_user_error(harness("run", "--suite", suite, "--sequence", small_seq, "--out", tmp_path / "out"), "name")
    assert_user_error(harness("run", "--run-id", "../x", "--sequence", small_seq, "--out", tmp_path / "out"),
                      "run id '../x' is not a safe name")
    assert not list(tmp_path.rglob("*escaped*")) and not (tmp_path / "x").exists()
