"""An unknown ``--filter`` column names the closest columns, not all of them."""

import pytest

from harness.errors import ResultsError
from harness.results.select import filter_rows

ROWS = [{"latency_p50_ms": 5.0, "format": "onnx", "device": "orin", "f1": 0.5, "energy_per_frame_mj": 90.0}]


def test_unknown_filter_column_suggests_the_closest_three():
    with pytest.raises(ResultsError) as e:
        filter_rows(ROWS, "formt=onnx")
    assert e.value.message == "unknown column 'formt' (did you mean 'format'?)"
    assert e.value.hint.startswith("`harness schema columns` lists the columns; short names: ")
    assert "latency_p50_ms" not in e.value.hint and len(str(e.value)) < 300


def test_an_unknown_column_with_nothing_close_says_where_the_list_is():
    with pytest.raises(ResultsError) as e:
        filter_rows(ROWS, "colour=red")
    assert e.value.message == "unknown column 'colour'"
