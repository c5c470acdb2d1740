from pathlib import Path

import numpy as np
import pytest

from harness.mot.files import format_det, read_det, read_gt
from harness.errors import DataError
from harness.testing.attacks import attacks, timed


def write(tmp_path, text, name="gt.txt"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_gt_split_into_positives_and_ignore_regions(tmp_path):
    p = write(tmp_path, "\n".join([
        "1,1,10,20,30,40,1,1,1.0",   # positive
        "1,2,10,20,30,40,0,1,1.0",   # pedestrian flag 0 -> ignore
        "1,3,10,20,30,40,1,7,1.0",   # static person -> ignore
        "2,4,10,20,30,40,1,8,0.5",   # distractor -> ignore
        "2,5,10,20,30,40,1,12,0.5",  # reflection -> ignore
        "2,6,10,20,30,40,1,2,0.5",   # person on vehicle -> ignore
        "2,7,10,20,30,40,1,3,0.5",   # car -> neither
        "3,8,10,20,0,40,1,1,0.5",    # zero width -> neither
    ]) + "\n")
    gt = read_gt(p)
    assert gt.positives.frame.tolist() == [1]
    assert gt.positives.xyxy.tolist() == [[10, 20, 40, 60]]
    assert sorted(gt.ignore.frame.tolist()) == [1, 1, 2, 2, 2]
    assert gt.frames.tolist() == [1, 2]


def test_det_reads_mot17_public_format(tmp_path):
    p = write(tmp_path, "1,-1,1359.1,413.27,120.26,362.77,2.3092,-1,-1,-1\n2,-1,5,6,7,8,0.5,-1,-1,-1\n", "det.txt")
    d = read_det(p)
    assert d.frame.tolist() == [1, 2]
    assert np.allclose(d.xyxy[0], [1359.1, 413.27, 1479.36, 776.04])
    assert d.score.tolist() == [2.3092, 0.5]


def test_det_roundtrip_through_format(tmp_path):
    text = format_det(np.array([3, 3]), np.array([[1.0, 2, 11, 22], [5, 5, 6, 6]]), np.array([0.9, 0.25]))
    d = read_det(write(tmp_path, text, "d.txt"))
    assert d.frame.tolist() == [3, 3]
    assert np.allclose(d.xyxy, [[1, 2, 11, 22], [5, 5, 6, 6]])


@pytest.mark.parametrize("line, message", [
    ("1,1,10,20,30,40,1,1", "line has 8 fields, expected at least 9"),
    ("1,1,10,20,abc,40,1,1,1", "field 5 is not a number: 'abc'"),
    ("1,1,10,20,-3,40,1,1,1", "negative box size"),
    ("0,1,10,20,3,40,1,1,1", "frame number must be an integer >= 1"),
    ("1.5,1,10,20,3,40,1,1,1", "frame number must be an integer >= 1"),
    ("1,1,10,20,nan,40,1,1,1", "field 5 is not finite"),
])
def test_gt_errors_name_file_line_and_field(tmp_path, line, message):
    p = write(tmp_path, "1,1,1,1,1,1,1,1,1\n" + line + "\n")
    with pytest.raises(DataError) as e:
        read_gt(p)
    assert f"{p}:2" in str(e.value)
    assert message in str(e.value)
    assert e.value.hint


def test_mixed_field_counts_are_reported(tmp_path):
    p = write(tmp_path, "1,-1,1,1,1,1,0.5\n1,-1,1,1,1,1,0.5,-1,-1,-1\n", "det.txt")
    with pytest.raises(DataError, match=r"det.txt:2: detection line has 10 fields, the first line has 7"):
        read_det(p)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_gt(tmp_path / "nope.txt")


def test_empty_file_has_no_rows(tmp_path):
    gt = read_gt(write(tmp_path, ""))
    assert gt.positives.frame.size == 0 and gt.ignore.frame.size == 0


def test_line_numbers_count_blank_lines(tmp_path):
    p = write(tmp_path, "1,1,1,1,1,1,1,1,1\n\n\n1,1,10,20,-3,40,1,1,1\n")
    with pytest.raises(DataError, match=r"gt.txt:4: negative box size"):
        read_gt(p)


@pytest.mark.parametrize("line, message", [
    ("1,-1,10,20,1e308,40,0.9", "beyond +-1e+06 px"),       # used to overflow the matching and zero every TP
    ("1e308,-1,10,20,30,40,0.9", "frame number must be an integer >= 1 and <= 10000000"),
    ("1_0,-1,10,20,30,40,0.9", "field 1 is not a number: '1_0'"),
    ("1,-1,0x10,20,30,40,0.9", "field 3 is not a number: '0x10'"),
    ("1,-1,10,20,30,40,inf", "field 7 is not finite: 'inf'"),
])
def test_det_values_out_of_range_are_refused_with_the_line(tmp_path, line, message):
    p = write(tmp_path, "1,-1,1,1,5,5,0.5\n" + line + "\n", "det.txt")
    with pytest.raises(DataError) as e:
        read_det(p)
    assert f"{p}:2:" in str(e.value) and message in str(e.value)


def test_blank_and_whitespace_lines_are_skipped_and_lines_stay_numbered(tmp_path):
    p = write(tmp_path, "1,-1,1,1,5,5,0.5\n   \n\t\n2,-1,1,1,5,5,0.5\n\n3,-1,1,1,-5,5,0.5\n", "det.txt")
    with pytest.raises(DataError, match=r"det.txt:6: negative box size"):
        read_det(p)
    p.write_text("1,-1,1,1,5,5,0.5\n   \n2,-1,1,1,5,5,0.5\n")
    assert read_det(p).frame.tolist() == [1, 2]


def test_devices_fifos_directories_and_oversized_files_are_not_read(tmp_path, monkeypatch):
    import os
    import time

    t0 = time.monotonic()
    for path, message in ((Path("/dev/zero"), "not a regular file"), (tmp_path, "a directory")):
        with pytest.raises(DataError, match=message):
            read_det(path)
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match="not a regular file"):
        read_det(fifo)
    assert time.monotonic() - t0 < 5
    big = write(tmp_path, "1,-1,1,1,5,5,0.5\n" * 100_000, "big.txt")
    monkeypatch.setenv("HARNESS_MAX_INPUT_MIB", "1")
    with pytest.raises(DataError, match="over the 1 MiB limit") as e:
        read_det(big)
    assert "HARNESS_MAX_INPUT_MIB" in e.value.hint
    (tmp_path / "bin.txt").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(DataError, match="not UTF-8 text"):
        read_det(tmp_path / "bin.txt")


# --- a dataset's text files are untrusted too: linear parsing, a clean refusal naming the line ---------------------

GT_LINE = "1,1,10,20,30,40,1,1,1.0"
MOT_ATTACKS = attacks("1,", "1.", "1e", "-", ",,,,,,,,", GT_LINE + ",", "nan,")
MOT_ATTACKS["a good line, then 4 MiB of fields"] = GT_LINE + "\n" + "1," * (2 << 20) + "1"
MOT_ATTACKS["good lines, then a 4 MiB number"] = (GT_LINE + "\n") * 100 + "1," * 8 + "1" * (4 << 20)


@pytest.mark.parametrize("name", sorted(MOT_ATTACKS))
def test_the_table_parser_is_linear_on_hostile_files(tmp_path, name):
    p = write(tmp_path, MOT_ATTACKS[name])
    got = timed(read_gt, p)
    assert isinstance(got, DataError) or got.positives.frame.size == 0, got
    if isinstance(got, DataError):
        assert str(p) in got.message and len(got.message) < 400


def test_a_line_past_the_cap_is_refused_with_its_number(tmp_path):
    p = write(tmp_path, GT_LINE + "\n\n" + "1," * (2 << 20) + "1\n")
    with pytest.raises(DataError, match=r"gt.txt:3: the line is 4194305 characters long, over the 64 KiB"):
        read_gt(p)


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "lots", "1e400"])
def test_a_max_input_size_that_is_not_a_size_is_refused_naming_the_variable(monkeypatch, value):
    from harness.errors import DataError
    from harness.mot.files import max_input_bytes

    monkeypatch.setenv("HARNESS_MAX_INPUT_MIB", value)
    with pytest.raises(DataError, match="HARNESS_MAX_INPUT_MIB="):
        max_input_bytes()
