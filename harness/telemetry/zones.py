"""Which temperature readings mean something: plausible values, and zones that never count as the board heating.

A powered Jetson reads between roughly -25 and 105 degC (modules shut down near 105). A powered-down sensor reads
-256 (dropped by ``clean_temps``, as is anything a sensor cannot report); a broken one reads anything at all
(``-45C`` was seen on a running board): outside -40 <= t < 150 a reading stays in the trace but says nothing about
heat. The ``PMIC`` zone (tegrastats ``PMIC@100C``, sysfs ``PMIC-Die``) of a Nano or a Xavier NX is a fixed 100 degC
placeholder, not a measurement: jetson-stats leaves it out. Throttle checks, the cool-down gate and the record's
``peak_temp_c`` use ``counted`` zones only; the record names the others, with why, under ``excluded_zones``.
"""

from __future__ import annotations

OFFLINE_TEMP_C = -256.0  # Jetson sensors that are powered down read -256 degC
MIN_PLAUSIBLE_C = -40.0
MAX_PLAUSIBLE_C = 150.0
# Zone names (case-insensitive prefixes) whose reading is not the board's temperature.
NOT_HEAT = {"pmic": "PMIC die zone: a constant placeholder (100 C on Nano/Xavier NX), left out as jetson-stats does"}


def clean_temps(temps: dict[str, float]) -> dict[str, float]:
    """What a sensor can report at all: offline sensors (-256 degC) and values past -255..200 left out."""
    return {k: v for k, v in temps.items() if v is not None and OFFLINE_TEMP_C + 1 < v < 200}


def excluded_reason(zone: str, value: float | None = None) -> str | None:
    """Why a zone's reading is not counted as heat, or None when it is."""
    low = zone.lower()
    if why := next((w for prefix, w in NOT_HEAT.items() if low.startswith(prefix)), None):
        return why
    if value is not None and not MIN_PLAUSIBLE_C <= value < MAX_PLAUSIBLE_C:
        return f"read {value:g} C: outside the plausible {MIN_PLAUSIBLE_C:g}..{MAX_PLAUSIBLE_C:g} C (a faulty sensor)"
    return None


def counted(temps: dict[str, float]) -> dict[str, float]:
    """The readings that say how hot the board is."""
    return {k: v for k, v in temps.items() if excluded_reason(k, v) is None}


def excluded(temps: dict[str, float]) -> dict[str, str]:
    """zone -> why it was left out of throttle checks, for the readings that were (names sorted)."""
    return {k: why for k in sorted(temps) if (why := excluded_reason(k, temps[k])) is not None}
