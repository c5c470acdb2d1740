"""Desktop NVIDIA GPU power through NVML (``pynvml``, package nvidia-ml-py).

Energy-counter deltas (``nvmlDeviceGetTotalEnergyConsumption``, mJ, Volta+)
where supported, instant power (``nvmlDeviceGetPowerUsage``, mW) otherwise.
NotSupported -- as on Tegra, where NVML has no power -- means unavailable,
never zero. Scope ``gpu_board``. Temperature from the GPU sensor; the
clock-throttle reasons bitmask counts throttle events.
"""

from __future__ import annotations

from harness.telemetry.sampler import PollingSampler

from harness.telemetry.trace import Availability, Sample, derive_power_from_counter

# Throttle reasons that mean the GPU was slowed (not idle / app-clock settings).
_SLOWDOWN_MASK = 0x2 | 0x8 | 0x20 | 0x40 | 0x80  # sw power cap, hw slowdown, sw thermal, hw thermal, power brake


class NvmlSampler(PollingSampler):
    name = "nvml"
    scope = "gpu_board"

    def __init__(self, interval_ms: int = 50, index: int = 0) -> None:
        super().__init__(interval_ms)
        self.index = index
        self.nvml = None
        self.handle = None
        self.has_counter = False
        self._throttles = 0

    def _probe(self) -> Availability:
        try:
            import pynvml
        except ImportError:
            return Availability(False, "pynvml not installed (pip install nvidia-ml-py)")
        try:
            pynvml.nvmlInit()
            self.handle = pynvml.nvmlDeviceGetHandleByIndex(self.index)
        except pynvml.NVMLError as e:
            return Availability(False, f"NVML unavailable: {e} (no NVIDIA driver / GPU visible here)")
        self.nvml = pynvml
        try:
            pynvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)
            self.has_counter = True
        except pynvml.NVMLError:
            self.has_counter = False
            try:
                pynvml.nvmlDeviceGetPowerUsage(self.handle)
            except pynvml.NVMLError as e:
                return Availability(False, f"NVML has no power readings on GPU {self.index}: {e} (as on Tegra)")
        name = pynvml.nvmlDeviceGetName(self.handle)
        name = name.decode() if isinstance(name, bytes) else name
        return Availability(True, f"{name}, {'energy counter' if self.has_counter else 'instant power'}")

    def read(self, t_s: float) -> Sample:
        n, h = self.nvml, self.handle
        temps = {}
        try:
            temps["gpu"] = float(n.nvmlDeviceGetTemperature(h, n.NVML_TEMPERATURE_GPU))
        except n.NVMLError:
            pass
        clocks = {}
        try:
            clocks["gpu"] = float(n.nvmlDeviceGetClockInfo(h, n.NVML_CLOCK_SM))
        except n.NVMLError:
            pass
        try:
            if n.nvmlDeviceGetCurrentClocksThrottleReasons(h) & _SLOWDOWN_MASK:
                self._throttles += 1
        except (n.NVMLError, AttributeError):
            pass
        if self.has_counter:
            return Sample(t_s, None, {}, temps, clocks, energy_mj=float(n.nvmlDeviceGetTotalEnergyConsumption(h)),
                          throttle_events=self._throttles)
        mw = float(n.nvmlDeviceGetPowerUsage(h))
        return Sample(t_s, mw, {"gpu": mw}, temps, clocks, throttle_events=self._throttles)

    def stop(self):
        trace = super().stop()
        return derive_power_from_counter(trace) if self.has_counter else trace
