"""One exception tree for the whole harness.

Every error a user can cause or fix carries a one-line message that names the
file / field / host involved and a ``hint`` saying what to do; both are made
printable on construction (no terminal escapes from a device's output). The CLI prints
``error: <message>`` (+ hint) and exits 2, without a traceback.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` on one line with control characters (terminal escapes, NUL, newlines) shown as ``?``/spaces.

    Messages often quote what a device or a file said; none of it may drive the user's terminal.
    """
    return _CONTROL.sub("?", str(text).replace("\r\n", " ").replace("\n", " ").replace("\t", " "))


class HarnessError(Exception):
    """Base of every harness error; ``hint`` says how to fix it."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        message = printable(message)
        hint = None if hint is None else printable(hint)
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


class CellSkipped(BenchmarkError):
    """The cell's variant cannot run on this machine; the message is the reason (the cell is skipped, not failed)."""


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


class StorageError(HarnessError):
    """A file or directory on this host cannot be written or read (disk full, permissions, wrong kind of path)."""


class DeviceDataError(HarnessError):
    """A device sent data the host refuses: a path outside its run directory, a link, an oversized or malformed file.

    Not a RemoteError: the link is fine and reconnecting would fetch the same data again.
    The device's own run fails; nothing else on the host is touched.
    """


class FarmError(RemoteError):
    """A board pool (a labgrid coordinator) could not lease, keep or release a board."""


class LinkError(RemoteError):
    """The SSH link to a device dropped or timed out mid-operation; reconnecting may help (a deploy does)."""


class StateError(HarnessError):
    """A lifecycle method was called in a state that does not allow it (names the method and the state)."""


class Interrupted(HarnessError):
    """The user stopped a run (Ctrl-C, SIGTERM); what finished is saved and resumable."""

    exit_code = 130
