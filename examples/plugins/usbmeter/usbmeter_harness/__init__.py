"""An edge-harness telemetry plugin: a USB power meter that prints one reading per line on a serial port.

Inline USB meters (UM25C/UM34C-style, FNIRSI, a lab's wall-power analyser behind a USB-serial bridge) stream
lines such as ``5.021V 1.734A 8.706W``; this sampler reads the newest line from the device file named by
``USBMETER_PORT`` (a tty, or any file the meter's logger keeps writing) and reports the watts as the total.
The scope says what the meter sees: the whole board at its USB-C / barrel input, the MLPerf way of measuring.

Install it beside edge-harness (``pip install ./examples/plugins``), then name it in a profile::

    telemetry:
      prefer: [usbmeter, none]

``harness telemetry probe`` lists it with its origin (``plugin edge-harness-usbmeter 0.1.0``); every record
measured with it says so under ``power.backend`` / ``power.backend_origin``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from harness.telemetry.sampler import PollingSampler
from harness.telemetry.trace import Availability, Sample

WATTS = re.compile(r"(\d{1,4}(?:\.\d{1,6})?)\s*W\b")  # bounded: a reading, never a regex that backtracks
MAX_LINE_BYTES = 256


class UsbMeterSampler(PollingSampler):
    """Polls the meter's newest reading every ``interval_ms`` (the meter itself updates about every 100 ms)."""

    name = "usbmeter"  # the entry point's name: the harness checks they agree
    scope = "board_input_usb_meter"
    sensor_update_s = 0.1

    def __init__(self, interval_ms: int = 100) -> None:
        super().__init__(interval_ms)
        self.port = Path(os.environ.get("USBMETER_PORT", "/dev/ttyUSB0"))

    def _probe(self) -> Availability:
        if not self.port.exists():
            return Availability(False, f"{self.port}: no meter here (set USBMETER_PORT to its device file)")
        if self._watts() is None:
            return Availability(False, f"{self.port}: no reading like '8.706W' in its last line")
        return Availability(True, f"{self.port}: {self._watts():.3f} W now")

    def _watts(self) -> float | None:
        with self.port.open("rb") as f:
            try:
                f.seek(-MAX_LINE_BYTES, os.SEEK_END)
            except OSError:  # shorter than one line, or a tty: read from where it is
                pass
            tail = f.read(MAX_LINE_BYTES).decode("ascii", "replace").strip().splitlines()
        m = WATTS.search(tail[-1]) if tail else None
        return float(m.group(1)) if m else None

    def read(self, t_s: float) -> Sample:
        w = self._watts()
        return Sample(t_s, total_mw=None if w is None else w * 1000.0)
