import pytest

from harness.errors import SuiteError
from harness.config.suite import Cell, builtin_suites, load_suite


def test_seed_suite_reproduces_the_notebook_matrix():
    s = load_suite("seed")
    assert (s.frames, s.warmup, s.imgsz, s.conf, s.iou) == (200, 10, 640, 0.25, 0.5)
    cells = s.cells()
    base = [c for c in cells if c.experiment == "baseline"]
    assert [c.model for c in base] == ["yolov8n", "yolov8s", "yolov8m", "yolo11n", "yolo11s", "yolo11m",
                                       "yolo26n", "yolo26s", "yolo26m"]
    quant = [(c.format, c.precision) for c in cells if c.experiment == "quantization"]
    assert quant == [("pytorch", "fp32"), ("onnx", "fp32"), ("onnx", "fp16"), ("onnx", "int8"), ("tensorrt", "fp16"),
                     ("tensorrt", "int8")]
    pruning = [(c.prune_ratio, c.recovery) for c in cells if c.experiment == "pruning"]
    # the notebooks' 30 / 50 %, and 10 % with and without recovery: bn (where it recovers, measured)
    assert pruning == [(0.0, "none"), (0.1, "none"), (0.1, "bn"), (0.3, "none"), (0.5, "none")]
    assert len({c.cell_id for c in cells}) == len(cells) == 20


def test_quick_is_small_nano_for_families_and_the_reference_detector_for_compression():
    s = load_suite("quick")
    assert set(builtin_suites()) >= {"quick", "seed"}
    assert s.frames <= 60 and s.imgsz == 320  # the reference detector's training size
    assert all(c.model.endswith("n") for c in s.cells() if c.experiment == "baseline")
    assert {c.model for c in s.cells() if c.experiment != "baseline"} == {"reference"}


def test_cell_ids_are_stable_and_readable():
    c = Cell("pruning", "models/yolov8m.pt", "pytorch", "fp32", 0.3, True)
    assert c.cell_id == "pruning.yolov8m.pytorch-fp32-p30-ft"
    assert Cell.from_dict(c.as_dict()) == c


def test_recovery_is_none_bn_or_finetune_and_finetuned_is_its_synonym(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("name: r\nexperiments:\n  - name: p\n    models: [yolov8n]\n    variants:\n"
                 "      - {prune_ratio: 0.3}\n      - {prune_ratio: 0.3, recovery: bn}\n"
                 "      - {prune_ratio: 0.3, finetuned: true}\n      - {prune_ratio: 0.3, recovery: finetune}\n")
    cells = load_suite(str(f)).cells()
    assert [c.cell_id for c in cells] == ["p.yolov8n.pytorch-fp32-p30", "p.yolov8n.pytorch-fp32-p30-bn",
                                          "p.yolov8n.pytorch-fp32-p30-ft"]  # finetuned: true and recovery: finetune: one cell
    assert [(c.recovery, c.finetuned) for c in cells] == [("none", False), ("bn", False), ("finetune", True)]
    for c in cells:
        assert Cell.from_dict(c.as_dict()) == c
    old = {k: v for k, v in cells[2].as_dict().items() if k != "recovery"}  # a record from before recovery
    assert Cell.from_dict(old).recovery == "finetune"


@pytest.mark.parametrize("variant, message", [
    ("{prune_ratio: 0.3, recovery: bn, finetuned: true}", "finetuned: true and recovery: bn disagree"),
    ("{recovery: bn}", "recovery: bn corrects BatchNorm statistics after pruning: set prune_ratio"),
    ("{prune_ratio: 0.3, recovery: adaptive}", "experiments[0].variants[0].recovery"),
])
def test_bad_recoveries_say_how_to_fix_them(tmp_path, variant, message):
    f = tmp_path / "s.yaml"
    f.write_text(f"name: r\nexperiments:\n  - name: p\n    models: [m]\n    variants: [{variant}]\n")
    with pytest.raises(SuiteError) as e:
        load_suite(str(f))
    assert message in e.value.message


def test_user_suite_file(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("name: mine\nframes: 5\nwarmup: 1\nexperiments:\n  - name: b\n    models: [yolov8n]\n")
    assert [c.cell_id for c in load_suite(str(f)).cells()] == ["b.yolov8n.pytorch-fp32"]


@pytest.mark.parametrize("text, message", [
    ("name: s\nexperiments: []\n", "experiments: List should have at least 1 item"),
    ("name: s\nframes: 5\nwarmup: 5\nexperiments:\n  - {name: b, models: [m]}\n", "warmup (5) must be smaller than frames (5)"),
    ("name: s\nexperiments:\n  - {name: b, models: [m], variants: [{format: tflite}]}\n", "experiments[0].variants[0].format"),
    ("name: s\nimgsz: 300\nexperiments:\n  - {name: b, models: [m]}\n", "imgsz: 300 is not allowed: use a multiple of 32 from 32 to 8192 px"),
    ("name: s\nexperiments:\n  - {name: b, modles: [m]}\n", "experiments[0].modles: unknown key"),
    # names become directory and file names: a suite name with ../ used to put the run outside --out
    ("name: ../../escaped\nexperiments:\n  - {name: b, models: [m]}\n", "name: String should match pattern"),
    ("name: s\nexperiments:\n  - {name: b, models: ['dir/my model;rm.pt']}\n", "experiments[0].models: Value error"),
    ("name: s\nexperiments:\n  - {name: ../b, models: [m]}\n", "experiments[0].name: String should match pattern"),
])
def test_bad_suites_name_the_field(tmp_path, text, message):
    f = tmp_path / "s.yaml"
    f.write_text(text)
    with pytest.raises(SuiteError) as e:
        load_suite(str(f))
    assert message in e.value.message


def test_unknown_suite_name():
    with pytest.raises(SuiteError, match=r"unknown suite 'quik' \(did you mean 'quick'\?\) \(built in: orin-nx-energy, quick, seed, smoke\)"):
        load_suite("quik")


def test_weights_policy_is_part_of_the_suite(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("name: s\nweights: pretrained\nexperiments:\n  - {name: b, models: [m]}\n")
    assert load_suite(str(f)).weights == "pretrained"
    assert load_suite("quick").weights == "auto"


def test_alias_bombs_binary_files_and_directories_are_refused(tmp_path):
    import time
    import tracemalloc

    bomb = tmp_path / "bomb.yaml"
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    bomb.write_text("\n".join(levels) + "\nname: s\nexperiments: *a8\n")
    tracemalloc.start()
    t0 = time.monotonic()
    with pytest.raises(SuiteError, match="expands to more than"):
        load_suite(str(bomb))
    assert time.monotonic() - t0 < 5 and tracemalloc.get_traced_memory()[1] < 200 << 20
    tracemalloc.stop()
    (tmp_path / "bin.yaml").write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe")
    with pytest.raises(SuiteError, match="not UTF-8 text"):
        load_suite(str(tmp_path / "bin.yaml"))
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(SuiteError, match="is a directory"):
        load_suite(str(tmp_path / "dir.yaml"))


def test_power_modes_group_cells_by_mode_and_snake_across_repeats():
    from harness.config.suite import Suite

    s = Suite.model_validate({"name": "s", "repeats": 3, "power_modes": ["7W", "15W", "MAXN_SUPER"],
                              "experiments": [{"name": "q", "models": ["yolov8n"], "variants": [
                                  {"format": "pytorch"}, {"format": "onnx"}]}]})
    modes = [c.power_mode for c in s.instances()]
    assert modes == ["7W"] * 2 + ["15W"] * 2 + ["MAXN_SUPER"] * 4 + ["15W"] * 2 + ["7W"] * 4 + ["15W"] * 2 + ["MAXN_SUPER"] * 2
    switches = sum(a != b for a, b in zip(modes, modes[1:]))
    assert switches == 6  # (modes - 1) per repeat, none at a repeat boundary
    assert s.instances()[0].cell_id == "q.yolov8n.pytorch-fp32+7W"
    assert s.reference_of(s.instances()[3]).cell_id == "q.yolov8n.pytorch-fp32+15W"  # the reference in the same mode


@pytest.mark.parametrize("modes, message", [(["15W", "15W"], "lists a mode twice"), (["15W; reboot"], "String should match"),
                                            ([], "at least 1")])
def test_power_modes_are_validated(modes, message):
    from pydantic import ValidationError

    from harness.config.suite import Suite

    with pytest.raises(ValidationError, match=message):
        Suite.model_validate({"name": "s", "power_modes": modes, "experiments": [{"name": "q", "models": ["yolov8n"]}]})


@pytest.mark.parametrize("threads", ["-3", "0", "5000", "many"])
def test_threads_are_a_whole_number_or_auto(tmp_path, threads):
    f = tmp_path / "s.yaml"
    f.write_text(f"name: t\nthreads: {threads}\nexperiments:\n  - name: a\n    models: [yolov8n]\n")
    with pytest.raises(SuiteError, match="threads"):
        load_suite(str(f))
    f.write_text("name: t\nthreads: auto\nrepeats: 3\nexperiments:\n  - name: a\n    models: [yolov8n]\n")
    assert load_suite(str(f)).threads == "auto" and load_suite(str(f)).repeats == 3


def test_repeats_default_and_its_override(monkeypatch):
    monkeypatch.delenv("HARNESS_REPEATS", raising=False)
    assert load_suite("seed").repeats == 5 and load_suite("quick").repeats == 3  # the default; the demo's own value
    monkeypatch.setenv("HARNESS_REPEATS", "2")
    assert load_suite("seed").repeats == 2 and load_suite("orin-nx-energy").repeats == 3  # a suite's own value wins
    monkeypatch.setenv("HARNESS_REPEATS", "abc")
    with pytest.raises(SuiteError, match="HARNESS_REPEATS"):
        load_suite("seed")


# --- limit values are user input (issue 22): every numeric setting is finite and bounded where it is defined ---

from harness.config.suite import Suite  # noqa: E402
from tests.config.numbers import ATTACK_IDS, ATTACKS, assert_refused_in_one_line, dotted, numeric_fields  # noqa: E402

SUITE = {"name": "s", "experiments": [{"name": "b", "models": ["m"]}]}
SUITE_NUMBERS = numeric_fields(Suite)


def test_the_walk_finds_every_numeric_setting():
    found = {dotted(p) for p, _ in SUITE_NUMBERS}
    assert {"frames", "min_duration_s", "finetune.epochs", "experiments[0].variants[0].prune_ratio",
            "experiments[0].reference.dla_core", "threads", "calibration.frames"} <= found
    assert len(found) == 23 and "pruning.bn_images" in found, sorted(found)


@pytest.mark.parametrize("value", ATTACKS, ids=ATTACK_IDS)
@pytest.mark.parametrize("path", [p for p, _ in SUITE_NUMBERS], ids=[dotted(p) for p, _ in SUITE_NUMBERS])
def test_out_of_range_numbers_are_one_line_naming_file_field_and_range(tmp_path, path, value):
    assert_refused_in_one_line(load_suite, SuiteError, SUITE, path, value, tmp_path)


@pytest.mark.parametrize("text, message", [
    ("min_duration_s: 1e300\n", "min_duration_s: '1e300' is not allowed: use a number from 0 to 86400 s (1 day)"),
    ("min_frames: 10000001\n", "min_frames: 10000001 is not allowed: use a whole number from 1 to 1000000"),
    ("imgsz: 100000\n", "imgsz: 100000 is not allowed: use a multiple of 32 from 32 to 8192 px"),
    ("frames: .nan\n", "frames: nan is not allowed: use a whole number from 2 to 100000"),
    ("conf: -0.1\n", "conf: -0.1 is not allowed: use a number from 0 to 1"),
    ("iou: 0\n", "iou: 0 is not allowed: use a number above 0 and at most 1"),
    ("repeats: 101\n", "repeats: 101 is not allowed: use a whole number from 1 to 100"),
])
def test_suite_numbers_say_the_range(tmp_path, text, message):
    f = tmp_path / "s.yaml"
    f.write_text("name: s\n" + text + "experiments:\n  - {name: b, models: [m]}\n")
    with pytest.raises(SuiteError) as e:
        load_suite(str(f))
    assert message in e.value.message and str(f) in e.value.message


def test_command_line_overrides_are_bounded_too():
    from harness.config.suite import with_overrides

    with pytest.raises(SuiteError, match=r"--frames 1000000000: frames: 1000000000 is not allowed"):
        with_overrides(load_suite("quick"), frames=10**9)
    with pytest.raises(SuiteError, match="--imgsz 65536: imgsz: 65536 is not allowed"):
        with_overrides(load_suite("quick"), imgsz=65536)


def test_the_range_ends_are_allowed():
    s = Suite.model_validate({**SUITE, "frames": 100_000, "warmup": 0, "imgsz": 8192, "min_duration_s": 86400,
                              "min_frames": 1_000_000, "conf": 0, "iou": 1, "threads": 4096,
                              "experiments": [{"name": "b", "models": ["m"], "variants": [
                                  {"prune_ratio": 0.99}, {"format": "tensorrt", "precision": "fp16", "dla_core": 1}]}]})
    assert s.frames == 100_000 and s.cells()[1].dla_core == 1


def test_harness_repeats_is_bounded_without_reading_a_huge_number(monkeypatch):
    monkeypatch.setenv("HARNESS_REPEATS", "9" * 5000)
    with pytest.raises(SuiteError, match="HARNESS_REPEATS"):
        load_suite("seed")  # a suite without its own repeats
