"""Config errors list every problem of a file at once, on one line, and guess the name a typo meant."""

import pytest

from harness.config.suite import load_suite
from harness.errors import SuiteError

TWO_MISTAKES = """\
name: mine
frames: 30
warmup: 5
experiments:
  - name: b
    models: [yolov8n]
    variants:
      - {formt: onnx}
      - {format: onx, precision: fp61}
"""


def _error(tmp_path, text: str) -> str:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    with pytest.raises(SuiteError) as e:
        load_suite(str(f))
    assert "\n" not in str(e.value)
    return e.value.message


def test_every_problem_of_a_suite_in_one_error(tmp_path):
    msg = _error(tmp_path, TWO_MISTAKES)
    assert msg.startswith(f"{tmp_path / 's.yaml'}: experiments[0].variants[0].formt: unknown key (did you mean 'format'?")
    assert "; experiments[0].variants[1].format: " in msg and "'onx' is not an export format here (did you mean 'onnx'?)" in msg
    assert "; experiments[0].variants[1].precision: Input should be 'fp32', 'fp16' or 'int8' (did you mean 'fp16'?)" in msg
    assert "more)" not in msg


def test_a_typo_is_not_also_reported_as_the_missing_key(tmp_path):
    msg = _error(tmp_path, "name: s\nexperiments:\n  - {name: b, modles: [m]}\n")
    assert "experiments[0].modles: unknown key (did you mean 'models'?" in msg
    assert "Field required" not in msg


def test_many_problems_are_counted_past_the_limit(tmp_path):
    variants = "".join(f"      - {{precision: fp{i}}}\n" for i in range(12))
    msg = _error(tmp_path, f"name: s\nexperiments:\n  - name: b\n    models: [m]\n    variants:\n{variants}")
    assert msg.count("; ") == 7 and msg.endswith("(+4 more)")
