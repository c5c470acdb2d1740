"""sysfs INA3221 (fake Orin Nano / AGX Orin / Nano trees), RAPL, NVML and jtop with fakes."""

import os
import sys
import time

import pytest

from harness.errors import TelemetryError
from harness.telemetry.backends import rapl as rapl_mod
from harness.telemetry.energy import window_energy_mj
from harness.telemetry.select import select_sampler
from harness.telemetry.backends.sysfs_ina3221 import SysfsIna3221Sampler, discover_rails
from harness.testing.attacks import timed, unblocked
from harness.testing.fakes import sysfs as fake_sysfs
from harness.testing.fakes.jtop import FakeJtopModule
from harness.testing.fakes.nvml import FakeNvml


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_SYSFS_ROOT", str(tmp_path))
    return tmp_path


def sample_for(sampler, seconds=0.3):
    sampler.start()
    sampler.mark("a")
    time.sleep(seconds)
    sampler.mark("b")
    return sampler.stop()


def test_orin_nano_hwmon_layout(root):
    fake_sysfs.ina3221_hwmon(root, fake_sysfs.ORIN_NANO_RAILS, hwmon_start=7)
    fake_sysfs.thermal_zones(root, {"cpu-thermal": 48.5, "cv0-thermal": -256.0})
    s = SysfsIna3221Sampler(interval_ms=20)
    assert s.available().ok and s.scope == "module_input:VDD_IN"
    assert set(discover_rails()) == {"VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"}  # sum-of-shunt channel skipped
    tr = sample_for(s)
    x = tr.samples[1]
    assert x.total_mw == pytest.approx(5000 * 1000 / 1000)  # 5 V x 1 A = 5000 mW, VDD_IN only
    assert x.rails_mw["VDD_SOC"] == pytest.approx(1500.0)
    assert x.temps_c == {"cpu-thermal": 48.5}  # offline zone dropped
    assert window_energy_mj(tr, tr.marks["a"], tr.marks["b"]) == pytest.approx(5000 * (tr.marks["b"] - tr.marks["a"]))


def test_agx_orin_sums_named_rails_and_skips_nc(root):
    fake_sysfs.ina3221_hwmon(root, fake_sysfs.AGX_ORIN_RAILS)
    s = SysfsIna3221Sampler()
    assert s.available().ok and s.scope == "module_rail_sum:VDDQ_VDD2_1V8AO+VDD_CPU_CV+VDD_GPU_SOC+VIN_SYS_5V0"
    x = s.read(0.0)
    assert set(x.rails_mw) == {"VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0", "VDDQ_VDD2_1V8AO"}
    want = (19864 * 180 + 19864 * 40 + 4976 * 810 + 4976 * 60) / 1000
    assert x.total_mw == pytest.approx(want)


def test_nano_jetpack4_iio_layout(root):
    fake_sysfs.ina3221_iio(root, {"POM_5V_IN": 3075, "POM_5V_GPU": 8791, "POM_5V_CPU": 3109})
    s = SysfsIna3221Sampler()
    assert s.available().ok
    x = s.read(0.0)
    assert (x.total_mw, s.scope) == (3075.0, "module_input:POM_5V_IN")  # the input is the total, sub-rails never added


def test_power_changes_are_followed(root):
    (hw,) = fake_sysfs.ina3221_hwmon(root, fake_sysfs.ORIN_NANO_RAILS)
    s = SysfsIna3221Sampler(interval_ms=10)
    assert s.available().ok
    assert s.read(0).total_mw == pytest.approx(5000.0)
    fake_sysfs.set_rail(hw, "VDD_IN", 5000, 2000)
    assert s.read(0).total_mw == pytest.approx(10000.0)


def test_not_a_jetson(root):
    a = SysfsIna3221Sampler().available()
    assert not a.ok and "no INA3221/INA238 rails" in a.reason


def test_rapl_counter_energy(root):
    (pkg,) = fake_sysfs.rapl(root, energy_uj=1_000_000)
    s = rapl_mod.RaplSampler(interval_ms=10)
    assert s.available().ok and s.scope == "cpu_package"
    s.start()
    s.mark("a")
    fake_sysfs.set_value(pkg / "energy_uj", 1500000)  # +500 mJ
    time.sleep(0.1)
    s.mark("b")
    tr = s.stop()
    e = window_energy_mj(tr, tr.samples[0].t_s, tr.samples[-1].t_s)
    assert e == pytest.approx(500.0)
    assert any(x.total_mw and x.total_mw > 0 for x in tr.samples[1:])


def test_rapl_unreadable_and_missing(root, monkeypatch):
    a = rapl_mod.RaplSampler().available()
    assert not a.ok and "no /sys/class/powercap" in a.reason
    fake_sysfs.rapl(root)

    def denied(path):
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(path))
        return float(path.read_text())

    monkeypatch.setattr(rapl_mod, "read_float", denied)
    a = rapl_mod.RaplSampler().available()
    assert not a.ok and "not readable" in a.reason and "chmod o+r" in a.reason


def test_nvml_counter_and_instant_power(monkeypatch):
    from harness.telemetry.backends.nvml import NvmlSampler

    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(power_mw=150_000, counter=True))
    s = NvmlSampler(interval_ms=10)
    s.isolate = False  # the fake pynvml lives in this process only
    assert s.available().ok and "energy counter" in s.available().reason
    tr = sample_for(s, 0.2)
    assert window_energy_mj(tr, tr.marks["a"], tr.marks["b"]) == pytest.approx(150_000 * (tr.marks["b"] - tr.marks["a"]), rel=0.05)
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(power_mw=90_000, counter=False))
    s = NvmlSampler(interval_ms=10)
    assert s.available().ok and "instant power" in s.available().reason
    assert s.read(0.0).total_mw == 90_000


def test_nvml_not_supported_means_unavailable(monkeypatch):
    from harness.telemetry.backends.nvml import NvmlSampler

    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(supported=False))
    a = NvmlSampler().available()
    assert not a.ok and "no power readings" in a.reason
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(driver=False))
    assert "NVML unavailable" in NvmlSampler().available().reason


@pytest.fixture
def jtop_sock(root):
    """A socket path where the backend looks by default (``/run/jtop.sock`` under the sysfs root)."""
    (root / "run").mkdir()
    (root / "run" / "jtop.sock").write_text("")
    return root / "run" / "jtop.sock"


def test_jtop_uses_instant_power_not_avg(jtop_sock, monkeypatch):
    from harness.telemetry.backends.jtop import JtopSampler

    fake = FakeJtopModule({"VDD_IN": 5200.0, "VDD_SOC": 1200.0})
    monkeypatch.setitem(sys.modules, "jtop", fake)
    s = JtopSampler(interval_ms=100)
    assert s.available().ok and str(jtop_sock) in s.available().reason
    s.start()
    s.mark("a")
    time.sleep(0.7)
    fake.set_rail("VDD_IN", 7200.0)  # the service's avg then reads (7200 + 5200) // 2 = 6200 for one period
    time.sleep(0.7)
    s.mark("b")
    tr = s.stop()
    assert fake.intervals == [0.5] and tr.sensor_update_s == 0.5  # never below 0.5 s
    assert fake.service.JTOP_PIPE == str(jtop_sock)  # the client was pointed at the probed socket
    totals = [x.total_mw for x in tr.samples]
    assert totals[0] == 5200.0 and totals[-1] == 7200.0 and set(totals) == {5200.0, 7200.0}, totals
    assert tr.scope == "module_input:VDD_IN" and tr.samples[0].rails_mw == {"VDD_IN": 5200.0, "VDD_SOC": 1200.0}
    assert tr.samples[0].temps_c == {"cpu": 48.5}  # the offline sensor left out
    assert tr.samples[-1].t_s >= tr.marks["b"]  # stop() waits for a reading after it: the window is covered


def test_jtop_socket_from_the_environment(root, tmp_path, monkeypatch):
    from harness.telemetry.backends.jtop import JtopSampler

    fake = FakeJtopModule({"VDD_IN": 5000.0})
    monkeypatch.setitem(sys.modules, "jtop", fake)
    sock = tmp_path / "elsewhere.sock"
    monkeypatch.setenv("HARNESS_JTOP_SOCKET", str(sock))
    a = JtopSampler().available()
    assert not a.ok and str(sock) in a.reason
    sock.write_text("")
    s = JtopSampler()
    assert s.available().ok
    s.start()
    assert s.stop().samples[-1].total_mw == 5000.0 and fake.service.JTOP_PIPE == str(sock)


@pytest.mark.parametrize("fault, wait_s, message", [
    ({"stall_after": 1}, 1.3, "ok.. returned False.*service stalled"),
    # the service's sampling stops while its socket answers: the client hands out the last reading again
    ({"repeat_after": 1}, 0.2, "repeated its last reading.*sampling stalled"),
])
def test_jtop_stalls_are_errors_never_samples(jtop_sock, monkeypatch, fault, wait_s, message):
    from harness.telemetry.backends.jtop import JtopSampler

    monkeypatch.setitem(sys.modules, "jtop", FakeJtopModule({"VDD_IN": 1.0}, **fault))
    s = JtopSampler()
    s.start()
    time.sleep(wait_s)
    with pytest.raises(TelemetryError, match=message):
        s.stop()
    if "repeat_after" in fault:
        assert len(s._trace.samples) == 1  # the one real reading; its repeats were never recorded as samples


def test_jtop_a_lost_connection_says_the_service_went_away(jtop_sock, monkeypatch):
    from harness.telemetry.backends.jtop import JtopSampler

    monkeypatch.setitem(sys.modules, "jtop", FakeJtopModule({"VDD_IN": 1.0}, lose_after=1))
    s = JtopSampler()
    s.start()
    with pytest.raises(TelemetryError, match="went away while sampling.*ConnectionResetError.*systemctl"):
        s.stop()


def test_jtop_follows_a_slower_service_period(jtop_sock, monkeypatch):
    """Another client started the service at 1.6 s: a 0.5 s client would give up after 1.5 s, so it is reopened
    with the service's period, and the trace says 1.6 s."""
    from harness.telemetry.backends.jtop import JtopSampler

    fake = FakeJtopModule({"VDD_IN": 3000.0}, service_interval_s=1.6)
    monkeypatch.setitem(sys.modules, "jtop", fake)
    s = JtopSampler(interval_ms=500)
    s.start()
    tr = s.stop()
    assert fake.intervals == [0.5, 1.6] and tr.interval_s == tr.sensor_update_s == 1.6 == s.service_interval_s
    assert [x.total_mw for x in tr.samples] == [3000.0, 3000.0]


def test_jtop_version_mismatch_says_how_to_fix(jtop_sock, monkeypatch):
    from harness.telemetry.backends.jtop import JtopSampler

    monkeypatch.setitem(sys.modules, "jtop", FakeJtopModule({}, connect_error="Mismatch version jtop service: [4.2.0] and client: [4.3.1]"))
    with pytest.raises(TelemetryError, match="version mismatch.*pip install 'jetson-stats=="):
        JtopSampler().start()


def test_jtop_without_service(root, monkeypatch):
    from harness.telemetry.backends.jtop import JtopSampler

    monkeypatch.setitem(sys.modules, "jtop", FakeJtopModule({}))
    a = JtopSampler().available()
    assert not a.ok and "systemctl restart jtop.service" in a.reason
    with pytest.raises(TelemetryError, match="jtop service not reachable.*not active.*systemctl restart"):
        JtopSampler().start()  # started anyway: the client's own error, translated


def test_selection_follows_the_order(root):
    sampler, probes = select_sampler(["sysfs_ina3221", "rapl", "none"])
    assert sampler.name == "none" and "sysfs_ina3221:" in sampler.reason and "rapl:" in sampler.reason
    fake_sysfs.rapl(root)
    sampler, _ = select_sampler(["sysfs_ina3221", "rapl", "none"])
    assert sampler.name == "rapl"
    sampler, probes = select_sampler(["none", "rapl"])
    assert sampler.name == "none" and probes == []
    with pytest.raises(TelemetryError, match="no telemetry backend available"):
        select_sampler(["sysfs_ina3221"], required=True)


# --- sysfs and jtop are the device's word: reads are bounded and never block (docs/architecture.md) -------------------

def test_a_fifo_or_a_huge_file_in_sysfs_neither_blocks_nor_is_read_whole(root):
    (hw,) = fake_sysfs.ina3221_hwmon(root, fake_sysfs.ORIN_NANO_RAILS)
    fake_sysfs.thermal_zones(root, {"cpu-thermal": 48.5, "gpu-thermal": 40.0})
    label = next(p for p in hw.glob("in*_label") if p.read_text().strip() == "VDD_SOC")
    label.unlink()
    os.mkfifo(label)  # nobody ever writes: a plain open() waits forever
    (root / "sys/class/thermal/thermal_zone1/temp").unlink()
    os.mkfifo(root / "sys/class/thermal/thermal_zone1/temp")
    (root / "sys/class/thermal/thermal_zone0/type").write_text("cpu-thermal" + "x" * (4 << 20))
    s = SysfsIna3221Sampler()
    assert unblocked(lambda: s.available().ok)
    assert set(s.rails) == {"VDD_IN", "VDD_CPU_GPU_CV"}  # the FIFO label is not a rail
    x = unblocked(s.read, 0.0)
    assert x.total_mw == pytest.approx(5000.0) and all(len(k) <= 4096 for k in x.temps_c)
    assert "gpu-thermal" not in x.temps_c  # its temp is a FIFO


def test_a_fifo_as_a_kept_open_sysfs_attribute_is_an_oserror(root):
    from harness.telemetry.backends.sysfs import read_float, read_text

    os.mkfifo(root / "temp")
    assert isinstance(unblocked(read_float, root / "temp"), OSError)
    assert isinstance(unblocked(read_text, root / "temp"), OSError)
    (root / "big").write_text("7" * (4 << 20))
    assert timed(read_float, root / "big") == float("7" * 64) and len(timed(read_text, root / "big")) == 4096


def test_jtop_values_that_are_not_finite_numbers_are_dropped():
    from harness.telemetry.backends.jtop import rails_from_power, temps_from

    power = {"rail": {"VDD_IN": {"power": "1" * (4 << 20)}, "VDD_SOC": {"power": float("nan")},
                      "VDD_GPU": {"power": [1]}, "VDD_CPU": {"power": True}, "VDD_CV": {"power": 1200}},
             "tot": {"power": float("inf")}}
    assert timed(rails_from_power, power) == ({"VDD_CV": 1200.0}, 1200.0, "module_rail_sum:VDD_CV")
    temps = {"cpu": {"temp": "x" * (4 << 20), "online": True}, "gpu": {"temp": 41.5}, "soc": "1" * (4 << 20),
             "tj": float("inf"), "cv": 40}
    assert timed(temps_from, temps) == {"gpu": 41.5, "cv": 40.0}
