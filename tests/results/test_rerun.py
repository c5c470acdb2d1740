"""Every repeat record of a cell carries the cell's rerun interval; a cell measured once says n=1."""

import pytest

from harness.config.suite import Cell
from harness.results.rerun import with_rerun_intervals
from harness.results.rows import flatten
from harness.testing.fakes.runs import record

PT = Cell("q", "yolov8n", "pytorch", "fp32")
OX = Cell("q", "yolov8n", "onnx", "fp32")


def measured(cell, p50, repeat, energy=None):
    r = record("r", "local", cell, p50=p50, f1=0.5, mean_w=5.0 if energy else None, energy_mj=energy)
    r["repeat"] = repeat
    r["uncertainty"] = {"level": 0.95, "kind": "window", "repeats": 1, "latency_p50_ms": None,
                        "within_window": {"latency_p50_ms": [p50 * 0.99, p50 * 1.01],
                                          "energy_per_frame_mj": [energy * 0.98, energy * 1.02] if energy else None}}
    return r


def test_the_repeats_of_a_cell_share_one_rerun_interval_and_keep_their_own_window():
    recs = [measured(PT, p, i + 1, energy=e) for i, (p, e) in enumerate([(100, 500), (110, 540), (95, 480)])]
    recs.append(measured(OX, 40, 1))
    out = with_rerun_intervals(recs)
    blocks = [r["uncertainty"] for r in out[:3]]
    assert all(b["kind"] == "rerun" and b["repeats"] == 3 for b in blocks)
    assert blocks[0]["latency_p50_ms"] == blocks[1]["latency_p50_ms"] == blocks[2]["latency_p50_ms"]
    lo, hi = blocks[0]["latency_p50_ms"]
    assert 0 < lo < 95 and 110 < hi
    assert blocks[0]["geomean"]["latency_p50_ms"] == pytest.approx((100 * 110 * 95) ** (1 / 3), rel=1e-4)
    assert blocks[1]["within_window"]["latency_p50_ms"] == [110 * 0.99, 110 * 1.01]  # its own window
    elo, ehi = blocks[0]["energy_per_frame_mj"]
    assert elo < 480 and ehi > 540
    single = out[3]["uncertainty"]
    assert single["kind"] == "window" and single["repeats"] == 1 and single["latency_p50_ms"] is None
    row = flatten(out[3])
    assert row["latency_p50_ci_lo_ms"] is None and row["latency_p50_window_lo_ms"] == pytest.approx(40 * 0.99)
    assert with_rerun_intervals(out) == out  # a resume annotates again: nothing changes


def test_failed_repeats_do_not_count_and_old_records_read_as_windows():
    recs = [measured(PT, 100, 1), measured(PT, 104, 2), record("r", "local", PT, status="failed", reason="boom")]
    recs[2]["repeat"] = 3
    out = with_rerun_intervals(recs)
    assert out[0]["uncertainty"]["repeats"] == 2 and out[2].get("uncertainty") is None
    old = record("r", "local", PT, p50=50, f1=0.5)
    old["uncertainty"] = {"level": 0.95, "method": "circular block bootstrap", "latency_p50_ms": [48.0, 52.0]}
    row = flatten(old)  # before rerun intervals the headline was a window's spread: shown as that, not as a rerun's
    assert row["latency_p50_ci_lo_ms"] is None and row["latency_p50_window_lo_ms"] == 48.0 and row["ci_kind"] == "window"


@pytest.mark.parametrize("host_state, threads, field", [
    ({"other_cpu_share": ["x"]}, None, "host_state.other_cpu_share"),
    ({"other_cpu_share": 1e308}, None, "host_state.other_cpu_share"),
    ({"other_cpu_share": float("nan")}, None, "host_state.other_cpu_share"),
    ({"contended": "yes"}, None, "host_state.contended"),
    ({"contended_reason": "A" * 50_000}, None, "host_state.contended_reason"),
    (None, {"torch_intra": -5}, "threads.torch_intra"),
    (None, {"over_idle": "maybe"}, "threads.over_idle"),
])
def test_a_crafted_host_state_or_threads_block_is_refused_on_read(tmp_path, host_state, threads, field):
    """Records from elsewhere (a board, a mailed run directory): the blocks compare and the rerun interval read are
    typed; a crafted one is one clear error naming the field, never a TypeError deep in the statistics."""
    from harness.errors import ResultsError
    from harness.results.load import load_run
    from harness.testing.fakes.runs import make_run

    recs = [measured(PT, 100, 1), measured(PT, 104, 2)]
    recs[1]["host_state"], recs[1]["threads"] = host_state, threads
    run = make_run(tmp_path, "r", "local", recs[:1])
    with open(run / "records.jsonl", "a") as f:  # written as a device would, past the harness's own checks
        import json

        f.write(json.dumps(recs[1]) + "\n")
    with pytest.raises(ResultsError, match=field.replace(".", r"\.")):
        load_run(run)
