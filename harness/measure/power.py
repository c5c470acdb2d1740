"""Power around one cell: cool-down gate, idle window, timed window, the record's power block.

Sequence per cell: wait until the hottest zone is under the profile's
threshold (bounded, recorded); start the sampler; sample ``idle_s`` with the
model loaded and nothing running (idle power); the runner marks the timed
window; stop. Energy is integrated over the timed window only
(harness.telemetry.energy), idle power comes from the idle window.
"""

from __future__ import annotations

import time

from harness.errors import TelemetryError
from harness.config.profiles import DeviceProfile
from harness.results.record import Power
from harness.telemetry.energy import (mean_interval_ms, measured_update_s, peak_temps_c, samples_in, temp_slope_c_per_min,
                                     throttle_delta, window_energy_mj, window_mean_w)
from harness.telemetry.sampler import NullSampler
from harness.telemetry.trace import Trace
from harness.telemetry.select import select_sampler
from harness.telemetry.backends.sysfs import ThermalZones
from harness.telemetry.zones import counted, excluded

IDLE_START, IDLE_END, TIMED_START, TIMED_END = "idle_start", "idle_end", "timed_start", "timed_end"
CLOCK_SHORTFALL = 0.9  # a pinned clock reading below 90 % of its window maximum counts as throttling


class PowerMeter:
    def __init__(self, profile: DeviceProfile, sleep=time.sleep) -> None:
        self.cfg = profile.telemetry
        self.cooldown_cfg = profile.cooldown
        self.clocks_pinned = profile.power_mode.jetson_clocks
        self.sampler, self.probes = select_sampler(self.cfg.prefer, self.cfg.interval_ms, self.cfg.required)
        self.sleep = sleep
        self.active = not isinstance(self.sampler, NullSampler)

    @property
    def backend(self) -> str:
        return self.sampler.name

    @property
    def origin(self) -> str | None:
        """Where the backend comes from (``built-in`` or the plugin's distribution and version)."""
        from harness.extensions import telemetry_backends

        ext = telemetry_backends().get(self.sampler.name)
        return ext.origin if ext else None

    def probe_summary(self) -> dict:
        return {n: {"available": a.ok, "reason": a.reason} for n, _, a in self.probes}

    def cooldown(self) -> dict:
        """Wait (bounded) until the hottest zone is under ``cooldown.max_start_temp_c``."""
        cfg = self.cooldown_cfg
        out = {"waited_s": 0.0, "start_temp_c": None, "timed_out": False}
        if cfg.wait_s:
            self.sleep(cfg.wait_s)
            out["waited_s"] = cfg.wait_s
        if cfg.max_start_temp_c is None:
            return out
        zones = ThermalZones()
        if not zones.zones:
            out["reason"] = "no thermal zones readable: cool-down gate skipped"
            return out
        t0 = time.monotonic()
        while True:
            temps = counted(zones.read())  # a PMIC placeholder at 100 C never holds the gate
            hottest = max(temps.values()) if temps else None
            out["start_temp_c"] = hottest
            if hottest is None or hottest < cfg.max_start_temp_c:
                break
            if time.monotonic() - t0 >= cfg.timeout_s:
                out["timed_out"] = True
                break
            self.sleep(1.0)
        out["waited_s"] = round(out["waited_s"] + time.monotonic() - t0, 3)
        return out

    def begin(self) -> None:
        """Start sampling and take the idle window."""
        self.sampler.start()
        if self.active and self.cfg.idle_s > 0:
            self.sampler.mark(IDLE_START)
            self.sleep(self.cfg.idle_s)
            self.sampler.mark(IDLE_END)

    def mark(self, label: str) -> None:
        self.sampler.mark(label)

    def close(self) -> None:
        """Release the backend (ends a sampling process)."""
        self.sampler.close()

    def end(self) -> Trace:
        return self.sampler.stop()

    def failed(self, error: TelemetryError, cooldown: dict) -> Power:
        """The power block of a cell whose telemetry failed: no figure, and why (its latency and quality stand)."""
        return Power(backend=self.backend, backend_origin=self.origin, status="insufficient", cooldown=cooldown,
                     reason=f"telemetry failed during the cell: {error}")

    def end_or_error(self) -> tuple[Trace | None, TelemetryError | None]:
        """(trace, None), or (None, the error) when the backend failed while the cell ran (a jtop service that
        stalled or died): the cell's timing stands either way."""
        try:
            return self.end(), None
        except TelemetryError as e:
            return None, e

    def summarise(self, trace: Trace, frame_starts_s, fps: float | None, cooldown: dict) -> Power:
        """The record's power block for a finished cell (``frame_starts_s``: when each timed frame began).

        A figure needs ``telemetry.min_samples`` samples in the window and a window of at least
        ``telemetry.min_sensor_periods`` of the sensor's real update period (measured from the trace,
        at least the polling period and what the sensor declares). Below that the block is
        ``insufficient``: the samples stay in the telemetry file, the reason says how long a window
        would do, and there is no energy number.
        """
        if not self.active:
            return Power.none(self.sampler.reason, cooldown)
        m = trace.marks
        t0, t1 = m[TIMED_START], m[TIMED_END]
        dur = t1 - t0
        n_frames = len(frame_starts_s)
        count = len(samples_in(trace, t0, t1))
        poll = trace.interval_s or self.cfg.interval_ms / 1000
        measured = measured_update_s(trace)
        period = max(x for x in (measured, trace.sensor_update_s, poll) if x)
        peaks = peak_temps_c(trace, t0, t1)
        heat = counted(peaks)
        throttled, why = self._throttled(trace, t0, t1, heat)
        start_c, slope = temp_slope_c_per_min(trace, t0, t1)
        limit = self.cfg.max_temp_slope_c_per_min
        common = dict(
            backend=trace.backend, backend_origin=self.origin, scope=trace.scope, sample_count=count, mean_interval_ms=_r(mean_interval_ms(trace)),
            window_s=_r(dur, 6), idle_window_s=_r(m[IDLE_END] - m[IDLE_START], 6) if IDLE_START in m else None,
            effective_interval_ms=_r(period * 1000), sensor_update_ms=_r((trace.sensor_update_s or 0) * 1000) or None,
            peak_temp_c=_r(max(heat.values())) if heat else None, peak_temps_c={k: _r(v) for k, v in peaks.items()},
            throttled=throttled, throttle_reason=why, excluded_zones=excluded(peaks) or None, cooldown=cooldown, start_temp_c=_r(start_c),
            temp_slope_c_per_min=_r(slope), not_steady=None if slope is None or limit is None else abs(slope) > limit,
        )
        periods = dur / period
        if count < self.cfg.min_samples or periods < self.cfg.min_sensor_periods:
            need = max(self.cfg.min_samples * poll, self.cfg.min_sensor_periods * period)
            return Power(status="insufficient", **common, reason=(
                f"{count} samples over {dur:.2f} s ({periods:.1f} periods of the sensor's {period * 1000:.0f} ms): a power "
                f"figure needs >= {self.cfg.min_samples} samples and >= {self.cfg.min_sensor_periods:g} periods; "
                f"set min_duration_s >= {need:.1f}"))
        energy = window_energy_mj(trace, t0, t1)
        if energy is None:
            raise TelemetryError(f"{trace.backend}: samples do not cover the timed window", "lower telemetry.interval_ms")
        mean_w = energy / dur / 1000.0
        idle_w = window_mean_w(trace, m[IDLE_START], m[IDLE_END]) if IDLE_START in m else None
        per_frame = energy / n_frames if n_frames else None
        dyn = (energy - idle_w * 1000.0 * dur) / n_frames if (idle_w is not None and n_frames) else None
        return Power(
            status="ok", **common, reason=None, energy_mj=_r(energy), mean_w=_r(mean_w), idle_w=_r(idle_w),
            energy_per_frame_mj=_r(per_frame), dynamic_energy_per_frame_mj=_r(dyn),
            fps_per_w=_r(fps / mean_w) if fps and mean_w > 0 else None,
            energy_per_frame_ci_mj=self._energy_interval(trace, t0, t1, period, frame_starts_s),
        )

    @staticmethod
    def _energy_interval(trace: Trace, t0: float, t1: float, period: float, frame_starts_s) -> list[float] | None:
        """95 % interval of energy per frame: the window cut into slices of one sensor period, block-bootstrapped."""
        import numpy as np

        from harness.results.stats import ratio_interval

        k = int((t1 - t0) // period)
        if k < 8:
            return None
        edges = np.linspace(t0, t1, k + 1)
        energy = [window_energy_mj(trace, a, b) for a, b in zip(edges[:-1], edges[1:])]
        if any(e is None for e in energy):
            return None
        frames = np.histogram(np.asarray(frame_starts_s, dtype=np.float64), bins=edges)[0]
        ci = ratio_interval(energy, frames)
        return None if ci is None else [_r(ci[0]), _r(ci[1])]

    def _throttled(self, trace: Trace, t0: float, t1: float, peaks: dict) -> tuple[bool | None, str | None]:
        """Throttled or not, and why: the throttle counter, a zone at the profile's limit (``peaks``: counted zones
        only), a pinned clock that fell."""
        checked, reasons = False, []
        delta = throttle_delta(trace, t0, t1)
        if delta is not None:
            checked = True
            if delta > 0:
                reasons.append(f"throttle counter +{delta}")
        limit = self.cfg.temp_limit_c
        if limit is not None and peaks:
            checked = True
            hot = {k: v for k, v in peaks.items() if v >= limit}
            if hot:
                zone = max(hot, key=hot.get)
                reasons.append(f"{zone} reached {hot[zone]:.1f} C >= limit {limit:g} C")
        if self.clocks_pinned:
            for name, (hi, lo) in _clock_range(trace, t0, t1).items():
                checked = True
                if lo < CLOCK_SHORTFALL * hi:
                    reasons.append(f"{name} clock fell from {hi:g} to {lo:g} MHz while clocks were pinned")
        if not checked:
            return None, "no throttle counter, no temp_limit_c and no pinned clocks to check"
        return bool(reasons), "; ".join(reasons) or None


def _clock_range(trace: Trace, t0: float, t1: float) -> dict[str, tuple[float, float]]:
    """Highest and lowest reading of each clock during the window (MHz)."""
    seen: dict[str, list[float]] = {}
    for s in samples_in(trace, t0, t1):
        for k, v in s.clocks_mhz.items():
            seen.setdefault(k, []).append(v)
    return {k: (max(v), min(v)) for k, v in seen.items() if max(v) > 0}


def _r(v, nd: int = 4):
    return None if v is None else round(float(v), nd)
