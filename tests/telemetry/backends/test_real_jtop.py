"""The jtop backend against the REAL jetson-stats service (``jtop.service.JtopServer``, 7.2.2) on fake board trees.

``harness.testing.real_jtop`` starts the unmodified service on a tree from ``harness.testing.fakes.board_tree`` (no
root, a fraction of a second); ``JtopSampler`` connects through ``HARNESS_JTOP_SOCKET`` with the library's own
client. Every expected number is worked out by hand from the tree: an INA3221 rail is mV x mA / 1000, which the
service truncates to an int mW; the INA238 (Thor) is uW / 1000. Faults (a stopped service, a stopped sampling
process, a crash, a slower service started by another client) each get a fresh service; all waits are bounded.
"""

from __future__ import annotations

import statistics
import time

import pytest

pytest.importorskip("jtop.service", reason="jetson-stats is not installed (pip install -e '.[dev]' brings jetson-stats==7.2.2)")

from harness.config.profiles import DeviceProfile  # noqa: E402
from harness.errors import TelemetryError  # noqa: E402
from harness.measure.power import TIMED_END, TIMED_START, PowerMeter  # noqa: E402
from harness.telemetry.backends.jtop import JtopSampler  # noqa: E402
from harness.telemetry.backends.sysfs_ina3221 import SysfsIna3221Sampler  # noqa: E402
from harness.telemetry.energy import window_energy_mj  # noqa: E402
from harness.telemetry.zones import counted  # noqa: E402
from harness.testing.fakes import board_tree  # noqa: E402
from harness.testing.real_jtop import start_jtop_service, use_socket  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:distro.linux_distribution:DeprecationWarning")  # jetson-stats' own call

PERIOD_S = 0.5  # the service samples at its first client's interval: ours, 0.5 s
MAX_START_S = 5.0
FRAME_S = 0.01  # the stand-in "inference" between two frame marks

# Per shape, by hand. rails/total: what jtop reports (int mW); exact_*: the same tree read by the sysfs backend.
EXPECT = {
    "orin-nano-jp6": dict(
        rails={"VDD_IN": 6000.0, "VDD_CPU_GPU_CV": 2000.0, "VDD_SOC": 1500.0},  # 5000 mV x 1200 / 400 / 300 mA
        total=6000.0, exact_total=6000.0, scope="module_input:VDD_IN",
        temps={"cpu": 48.5, "gpu": 47.0, "soc0": 46.0, "tj": 49.0},  # cv0 reads -256: offline, gone
        change=lambda t: t.set_rail("VDD_IN", 5000, 2000), total_after=10000.0),  # 5 V x 2 A
    "agx-orin-jp6": dict(
        rails={"VDD_GPU_SOC": 3575.0, "VDD_CPU_CV": 794.0, "VIN_SYS_5V0": 4030.0},  # 3575.52, 794.56, 4030.56 truncated
        total=8399.0, exact_total=8400.64, scope="module_rail_sum:VDD_CPU_CV+VDD_GPU_SOC+VIN_SYS_5V0",
        temps={"cpu": 52.0, "gpu": 50.5, "cv0": 49.0, "soc0": 51.0, "tj": 53.0},  # NC channels and cv2 gone
        change=lambda t: t.set_rail("VIN_SYS_5V0", 4976, 1810), total_after=13375.0),  # 3575 + 794 + 9006 (9006.56)
    "xavier-nx-jp5": dict(
        rails={"VDD_IN": 5000.0, "VDD_CPU_GPU_CV": 1000.0, "VDD_SOC": 1500.0},
        total=5000.0, exact_total=5000.0, scope="module_input:VDD_IN",
        temps={"AO": 41.5, "CPU": 44.0, "GPU": 43.0, "Tdiode": 42.0},  # PMIC-Die (100 C) left out by the service
        change=lambda t: t.set_rail("VDD_IN", 5000, 1600), total_after=8000.0),
    "thor-jp7": dict(
        rails={"VIN": 29952.0, "VDD_GPU": 9984.0, "VDD_CPU_SOC_MSS": 4992.0, "VIN_SYS_5V0": 2000.0},  # VIN: 29952000 uW
        total=29952.0, exact_total=29952.0, scope="module_input:VIN",
        temps={"cpu": 55.0, "gpu": 54.0, "tj": 56.0},
        change=lambda t: t.set_vin(19968, 2000, 39936000), total_after=39936.0),
}


@pytest.fixture(scope="module", params=list(EXPECT))
def shape_service(request, tmp_path_factory):
    """One real service per board shape, shared by the tests that only read it."""
    base = tmp_path_factory.mktemp(request.param)
    tree = board_tree.build(base / "board", request.param)
    with start_jtop_service(tree.root, base / "service") as svc:
        yield tree, svc


@pytest.fixture
def board(shape_service, monkeypatch):
    tree, svc = shape_service
    monkeypatch.setenv("HARNESS_JTOP_SOCKET", str(svc.socket_path))
    monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(tree.root))
    yield tree, svc, EXPECT[tree.shape.name]
    tree.reset()


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A service of its own (an Orin Nano) for a test that stops, stalls or kills it."""
    tree = board_tree.build(tmp_path / "board", "orin-nano-jp6")
    with start_jtop_service(tree.root, tmp_path / "service") as svc:
        monkeypatch.setenv("HARNESS_JTOP_SOCKET", str(svc.socket_path))
        monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(tree.root))
        yield svc


def frames_for(seconds: float) -> int:
    """Stand-in frames back to back for ``seconds``; how many ran."""
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        time.sleep(FRAME_S)
        n += 1
    return n


def test_readings_and_a_load_change_mid_window(board):
    """Total, scope, rails, temperatures and period as the service reports them; a load changed mid-window gives
    the energy of the two loads, to within what a 0.5 s period can resolve."""
    tree, svc, want = board
    assert svc.started_s < MAX_START_S
    s = JtopSampler(interval_ms=500)
    assert s.available().ok and str(svc.socket_path) in s.available().reason
    s.start()
    s.mark("a")
    n = frames_for(1.2)
    t_change = time.perf_counter()
    want["change"](tree)
    n += frames_for(1.5)
    s.mark("b")
    tr = s.stop()

    first = tr.samples[0]
    assert first.total_mw == want["total"] and first.rails_mw == want["rails"] and tr.scope == want["scope"]
    assert first.temps_c == want["temps"]
    assert tr.interval_s == tr.sensor_update_s == s.service_interval_s == PERIOD_S
    assert statistics.median(b.t_s - a.t_s for a, b in zip(tr.samples, tr.samples[1:])) == pytest.approx(PERIOD_S, abs=0.1)
    totals = [x.total_mw for x in tr.samples]
    k = totals.index(want["total_after"])  # the first reading after the change; before it only the old load
    assert set(totals[:k]) == {want["total"]} and set(totals[k:]) == {want["total_after"]}, totals

    # the step is integrated as a ramp between the last old and the first new reading: off by at most
    # |dP| x half that gap (plus however long after the change the last old reading arrived)
    t0, t1 = tr.marks["a"], tr.marks["b"]
    p0, p1 = want["total"], want["total_after"]
    old, new = tr.samples[k - 1].t_s, tr.samples[k].t_s
    tol_mj = abs(p1 - p0) * ((new - old) / 2 + max(0.0, old - t_change)) + 1e-6
    want_mj = p0 * (t_change - t0) + p1 * (t1 - t_change)
    energy = window_energy_mj(tr, t0, t1)
    assert energy == pytest.approx(want_mj, abs=tol_mj)
    assert energy / n == pytest.approx(want_mj / n, abs=tol_mj / n)  # energy per frame (mJ)
    assert tol_mj < abs(p1 - p0) * PERIOD_S  # under one period of the step: the bound is not vacuous


def test_the_sysfs_backend_reads_the_same_board(board):
    """The same tree through our sysfs reader: the same rails and scope; jtop's rails are its truncated ints."""
    tree, svc, want = board
    fs = SysfsIna3221Sampler()
    assert fs.available().ok and fs.scope == want["scope"]
    x = fs.read(0.0)
    s = JtopSampler()
    s.start()
    j = s.stop().samples[-1]
    assert set(x.rails_mw) == set(j.rails_mw) == set(want["rails"])
    assert {k: float(int(v)) for k, v in x.rails_mw.items()} == j.rails_mw
    assert x.total_mw == pytest.approx(want["exact_total"]) and j.total_mw == want["total"]
    assert 0 <= x.total_mw - j.total_mw < len(x.rails_mw)  # less than 1 mW of truncation per rail summed
    # zone names differ (cpu-thermal vs cpu); what counts as heat is the same readings (PMIC and offline out)
    assert sorted(counted(x.temps_c).values()) == sorted(j.temps_c.values())


def test_a_stopped_service_is_an_error_not_a_short_trace(fresh):
    s = JtopSampler()
    s.start()
    fresh.pause()  # SIGSTOP: socket and sampling both stop answering
    t0 = time.perf_counter()
    with pytest.raises(TelemetryError, match=r"ok\(\) returned False.*service stalled"):
        s.stop()
    assert time.perf_counter() - t0 < 4 * PERIOD_S + 2.0


def test_a_stalled_sampling_process_is_an_error_though_the_socket_answers(fresh):
    """Only the service's sampling process stops: the client hands out its last reading again, then gives up."""
    s = JtopSampler()
    s.start()
    time.sleep(0.6)
    t0 = time.perf_counter()
    fresh.pause_sampling()
    with pytest.raises(TelemetryError, match="stalled"):
        s.stop()
    assert time.perf_counter() - t0 < 4 * PERIOD_S + 2.0
    # the repeat comes 3 periods after the last reading: it was never recorded as a sample
    assert len(s._trace.samples) >= 2 and max(x.t_s for x in s._trace.samples) < t0 + PERIOD_S / 2


def test_a_service_that_never_answers_fails_start_in_bounded_time(fresh):
    fresh.pause()
    s = JtopSampler()
    s.START_TIMEOUT_S = 2.0
    t0 = time.perf_counter()
    with pytest.raises(TelemetryError, match="no reading from the service.*within 2 s.*stalled"):
        s.start()
    assert time.perf_counter() - t0 < 3.0


def test_a_killed_service_ends_the_power_block_with_the_reason(fresh):
    prof = DeviceProfile.model_validate({"name": "fake-nano", "kind": "jetson", "compute": "cpu",
                                         "telemetry": {"prefer": ["jtop"], "interval_ms": 500, "idle_s": 0.0}})
    meter = PowerMeter(prof)
    assert meter.backend == "jtop"
    meter.begin()
    meter.mark(TIMED_START)
    time.sleep(0.6)
    fresh.kill()  # SIGKILL: the socket file stays behind, as after a crash
    meter.mark(TIMED_END)
    t0 = time.perf_counter()
    with pytest.raises(TelemetryError, match="went away while sampling.*systemctl"):
        meter.end()
    assert time.perf_counter() - t0 < 4 * PERIOD_S + 2.0
    again = JtopSampler()
    assert again.available().ok  # the stale socket file is there ...
    with pytest.raises(TelemetryError, match="not reachable.*not active.*systemctl restart"):
        again.start()  # ... but nothing listens on it


def test_a_service_started_slower_by_another_client_keeps_its_period(fresh):
    """Another client (jtop's UI at 2 s, say) started the service: it keeps sampling every 2 s for everyone.
    The trace says 2 s (so the power block asks for a window that many periods long), and the client is not
    dropped after 3 x 0.5 s without a reading."""
    from jtop import jtop

    use_socket(fresh.socket_path)
    other = jtop(interval=2.0)
    other.start()
    try:
        s = JtopSampler(interval_ms=500)
        s.start()
        time.sleep(2.5)
        tr = s.stop()
    finally:
        other.close()
    assert tr.interval_s == tr.sensor_update_s == s.service_interval_s == 2.0
    assert len(tr.samples) >= 2 and all(b.t_s - a.t_s > 1.5 for a, b in zip(tr.samples, tr.samples[1:]))
    assert {x.total_mw for x in tr.samples} == {6000.0}
