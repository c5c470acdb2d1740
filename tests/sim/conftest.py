"""Simulated boards under a per-test state directory; whatever a test leaves running is stopped after it."""

import pytest


@pytest.fixture
def sim_state(tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("HARNESS_STATE_DIR", str(state))
    yield state
    from harness.sim.lifecycle import boards, stop

    for b in boards():
        stop(b.name)
