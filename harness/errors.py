"""One exception tree for the whole harness.

Every error a user can cause or fix carries a one-line message that names the
file / field / host involved and a ``hint`` saying what to do. The CLI prints
``error: <message>`` (+ hint) and exits 2, without a traceback.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base of every harness error; ``hint`` says how to fix it."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class ProfileError(HarnessError):
    """A device profile is missing, malformed or inconsistent."""


class SuiteError(HarnessError):
    """A suite file is missing, malformed or names unknown things."""


class DataError(HarnessError):
    """A sequence, ground-truth or detection file cannot be used."""


class BenchmarkError(HarnessError):
    """A cell could not be measured (model, variant, frames)."""


class ResultsError(HarnessError):
    """A run directory is missing, corrupt or incompatible."""


class RemoteError(HarnessError):
    """A device could not be reached or a remote command failed."""


class TelemetryError(HarnessError):
    """A telemetry backend failed while the user required it."""


class ProvisionError(HarnessError):
    """Provisioning a device with Ansible could not start or did not finish."""


class ImageError(HarnessError):
    """A container image could not be built, tagged or inspected."""
