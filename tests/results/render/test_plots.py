"""Charts that do not mislead: bars only on linear axes, no F1 of random-init weights, titles that name only the
marks drawn, numbered points that never sit on each other."""

from harness.results.render import plots, plots_front


def _row(**kw):
    base = {"device": "d", "model": "m", "variant": "onnx fp32", "experiment": "e", "status": "ok", "f1": 0.6,
            "latency_p50_ms": 10.0, "latency_p50_ci_lo_ms": 9.0, "latency_p50_ci_hi_ms": 11.0, "cell_id": "c",
            "weights_provenance": "pretrained", "params": 3e6, "energy_per_frame_mj": 50.0}
    return {**base, **kw}


def test_within_ten_times_bars_on_a_linear_axis_beyond_dots_on_a_log_one():
    plt = plots.plt_()
    fig, (a, b) = plt.subplots(1, 2)
    plots.ranked(a, [0, 1], [2.0, 9.0], "#000", ".1f")
    plots.ranked(b, [0, 1], [2.0, 90.0], "#000", ".1f")
    assert a.get_xscale() == "linear" and len(a.patches) == 2 and a.get_xlim()[0] == 0
    assert b.get_xscale() == "log" and len(b.patches) == 0  # no bar whose length would lie
    assert {t.get_text() for t in b.texts} == {"2.0", "90.0"}  # every value written beside its mark
    plt.close(fig)


def test_random_init_f1_is_never_drawn(tmp_path):
    rows = [_row(cell_id=f"c{i}", variant=f"v{i}", weights_provenance="random-init", f1=0.0) for i in range(3)]
    assert plots.f1_bars(rows, "e", tmp_path) is None
    assert plots_front.scatter(rows, "latency_p50_ms", "ms", tmp_path, "s", "t", "pareto_f1_latency") is None
    assert plots.speed_bars(rows, "e", tmp_path) is not None  # their speed is real


def test_titles_name_only_the_marks_the_chart_has():
    pts = [_row()]
    assert plots_front.with_marks("F1", pts, "pareto_f1_energy") == "F1"
    assert plots_front.with_marks("F1", [_row(pareto_f1_energy=True)], "pareto_f1_energy") == "F1 (ringed: Pareto front)"
    assert plots_front.with_marks("F1", [_row(below_floor=True)], None) == "F1 (hollow: below the accuracy floor)"


def test_points_that_would_overlap_share_one_marker_and_distant_ones_do_not():
    pts = [_row(latency_p50_ms=10.0, f1=0.60), _row(latency_p50_ms=10.2, f1=0.601), _row(latency_p50_ms=90.0, f1=0.60),
           _row(latency_p50_ms=10.0, f1=0.30)]
    groups = plots_front.clusters(pts, "latency_p50_ms", log=True)
    assert [[i for i, _ in g] for g in groups] == [[1, 2], [3], [4]]
