"""History per configuration: one row per run, oldest first, with what changed between runs."""

from __future__ import annotations

from harness.catalogue.history import changed, history
from harness.catalogue.store import Catalogue
from tests.catalogue.conftest import night


def test_one_configuration_over_nights_with_what_changed(tmp_path):
    cat = Catalogue(tmp_path)
    for n in range(1, 4):
        cat.add(night(tmp_path, n, env={"tensorrt": "10.7.0"} if n == 3 else None))
    df = history(cat, variant="tensorrt int8")
    assert df.run_id.tolist() == ["night1", "night2", "night3"] and df.label.nunique() == 1
    assert df.changed.tolist() == ["", "", "TensorRT 10.3.0 -> 10.7.0"]
    assert df.latency_p50_ci_lo_ms.notna().all() and (df.f1 == 0.616).all()
    assert len(history(cat)) == 12 and history(cat, last=1).run_id.unique().tolist() == ["night3"]
    assert history(cat, device="orin-nx").empty and len(history(cat, where="precision = 'fp16'")) == 6


def test_a_changed_fact_the_latest_run_does_not_know_is_no_change():
    assert changed({"env_l4t": "36.4.3"}, {"env_l4t": None}) == ""
    assert changed({"env_l4t": None}, {"env_l4t": "36.4.3"}) == "L4T ? -> 36.4.3"
    assert changed(None, {"env_l4t": "36.4.3"}) == ""
