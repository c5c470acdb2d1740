"""A stand-in for ``pynvml`` (install with ``sys.modules['pynvml'] = FakeNvml(...)``)."""

from __future__ import annotations

import time


class NVMLError(Exception):
    pass


class FakeNvml:
    """One GPU whose power is ``power_mw`` (constant); energy counter optional; NotSupported optional."""

    NVMLError = NVMLError
    NVML_TEMPERATURE_GPU = 0
    NVML_CLOCK_SM = 1

    def __init__(self, power_mw: float = 150_000.0, counter: bool = True, supported: bool = True,
                 driver: bool = True, temp_c: float = 55.0) -> None:
        self.power_mw, self.counter, self.supported, self.driver, self.temp_c = power_mw, counter, supported, driver, temp_c
        self._t0 = time.perf_counter()
        self.throttle_reasons = 0

    def nvmlInit(self):
        if not self.driver:
            raise NVMLError("NVML Shared Library Not Found")

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetName(self, h):
        return b"Fake GPU"

    def nvmlDeviceGetTotalEnergyConsumption(self, h):
        if not (self.counter and self.supported):
            raise NVMLError("Not Supported")
        return int((time.perf_counter() - self._t0) * self.power_mw)  # mJ since "boot"

    def nvmlDeviceGetPowerUsage(self, h):
        if not self.supported:
            raise NVMLError("Not Supported")
        return int(self.power_mw)

    def nvmlDeviceGetTemperature(self, h, sensor):
        return self.temp_c

    def nvmlDeviceGetClockInfo(self, h, kind):
        return 1980

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, h):
        return self.throttle_reasons
