"""The polling sampler's lifecycle, in a sampling process and in a thread; the null sampler."""

import time

import pytest

from harness.errors import TelemetryError
from harness.telemetry.energy import window_energy_mj
from harness.telemetry.sampler import NullSampler, PollingSampler
from harness.telemetry.trace import Sample


class Counting(PollingSampler):
    name = "counting"
    scope = "module_input"

    def _probe(self):
        from harness.telemetry.trace import Availability

        return Availability(True, "test")

    def read(self, t_s):
        return Sample(t_s, 1000.0)


@pytest.mark.parametrize("isolate", [True, False], ids=["process", "thread"])
def test_polling_sampler_rate_marks_and_lifecycle(isolate):
    s = Counting(interval_ms=20)
    s.isolate = isolate
    with pytest.raises(TelemetryError, match="mark\\('x'\\) before start"):
        s.mark("x")
    with pytest.raises(TelemetryError, match="stop\\(\\) before start"):
        s.stop()
    s.start()
    with pytest.raises(TelemetryError, match="start\\(\\) called while sampling"):
        s.start()
    s.mark("a")
    time.sleep(0.4)
    s.mark("b")
    tr = s.stop()
    # ~50 Hz between the marks, counted against the window the sleep really gave (it overruns on a busy machine):
    # never faster than the interval, and not below half the rate
    window_s = tr.marks["b"] - tr.marks["a"]
    inside = sum(tr.marks["a"] <= x.t_s <= tr.marks["b"] for x in tr.samples)
    assert window_s / 0.02 / 2 - 1 <= inside <= window_s / 0.02 + 1, (inside, window_s)
    assert tr.samples[0].t_s <= tr.marks["a"] < tr.marks["b"] <= tr.samples[-1].t_s
    assert window_energy_mj(tr, tr.marks["a"], tr.marks["b"]) == pytest.approx(1000.0 * (tr.marks["b"] - tr.marks["a"]))
    assert "t_s,total_mw" in tr.to_csv() and "# mark a" in tr.to_csv()
    s.start()  # the sampling process is reused for the next window
    time.sleep(0.1)
    assert len(s.stop().samples) >= 4
    s.close()


class Broken(Counting):
    """Module level, so the sampling process can import it."""

    n = 0

    def read(self, t_s):
        self.n += 1
        if self.n > 2:
            raise OSError("sensor vanished")
        return Sample(t_s, 1.0)


@pytest.mark.parametrize("isolate", [True, False], ids=["process", "thread"])
def test_a_failing_read_is_reported_by_stop(isolate):
    s = Broken(interval_ms=10)
    s.isolate = isolate
    s.start()
    time.sleep(0.1)
    with pytest.raises(TelemetryError, match="sampling failed: OSError: sensor vanished"):
        s.stop()


def test_a_probe_that_raises_is_unavailable_not_an_error():
    class Bad(Counting):
        def _probe(self):
            raise RuntimeError("boom")

    a = Bad().available()
    assert not a.ok and "boom" in a.reason


def test_every_sampler_has_close_and_the_null_sampler_records_marks_only():
    s = NullSampler("no backend here")
    assert s.available().ok and s.available().reason == "no backend here"
    s.start()
    s.mark("timed_start")
    tr = s.stop()
    assert tr.samples == [] and "timed_start" in tr.marks and tr.backend == "none"
    s.close()  # part of the protocol: callers never probe for it
    Counting().close()  # a polling sampler that never started closes too
