"""The one door through which a device's files enter the host (the host trusts its user, not its devices:
docs/architecture.md, "The trust boundary").

``RemoteRunDir`` reads a run directory on a device:
- a remote path is a name the host expects (``manifest.json``, ``records.jsonl``) or
  a record's ``files`` entry of the form ``frames|detections|telemetry/<name>``;
  anything else (absolute, ``..``, a host control file such as ``deploy.json``) is
  refused before the device is asked for it;
- only regular files are read: every component below the run directory is
  ``lstat``-ed (no symlink, no device, FIFO or socket), and the opened file is
  checked again (``fstat``) so a swap after the check is caught;
- sizes are bounded per file and per run, and a file that grows past its limit
  while being read is cut off; every SFTP request and each whole file has a
  deadline (``limits`` in the profile);
- files are streamed to a temp file beside their destination and renamed into
  place: never held whole in memory, never half-written;
- JSON is parsed strictly (UTF-8, objects only) and validated against the record
  and manifest types before the host uses any of it.

A violation is a ``DeviceDataError`` that names the device and the file: the
device's own run fails, nothing outside its local run directory changes.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from pathlib import Path

from harness.errors import DeviceDataError, LinkError
from harness.fsutil import staged, storage_error
from harness.config.profiles import Limits
from harness.results.record import check_manifest, check_record

MIB = 1 << 20
CHUNK = 1 << 20
CONTROL_FILES = ("manifest.json", "records.jsonl")
FILE_RE = re.compile(r"^(frames|detections|telemetry)/[A-Za-z0-9][A-Za-z0-9_.+-]{0,199}$")
FIX = "the device returned something a harness runner never writes: check the board (a compromised or broken device?)"


class RemoteRunDir:
    """A run directory on a device, read through the rules above into a local run directory."""

    def __init__(self, conn, remote_root: str, limits: Limits, local_root: Path) -> None:
        self.conn = conn
        self.remote_root = remote_root.rstrip("/")
        self.limits = limits
        self.local_root = Path(local_root)
        self.max_file = int(limits.max_file_mib * MIB)
        self.max_json = int(limits.max_json_mib * MIB)
        self.run_budget = int(limits.max_run_mib * MIB)
        self._checked_dirs: set[str] = set()

    def _refuse(self, rel: str, why: str) -> DeviceDataError:
        return DeviceDataError(f"{self.conn.where}: {self.remote_root}/{rel[:120]}: {why}", FIX)

    # --- paths ------------------------------------------------------------------------
    def _check_rel(self, rel) -> str:
        if not isinstance(rel, str):
            raise DeviceDataError(f"{self.conn.where}: a file path in the run's records is a {type(rel).__name__}, "
                                  "not a string", FIX)
        if rel not in CONTROL_FILES and not FILE_RE.match(rel):
            raise self._refuse(rel, "refused: a device may only name frames/, detections/ or telemetry/ files "
                                    "inside its run directory (no absolute paths, no .., no control files)")
        return rel

    def _lstat(self, path: str, rel: str):
        try:
            return self.conn.sftp(self.limits.read_timeout_s).lstat(path)
        except FileNotFoundError:
            return None
        except Exception as e:  # noqa: BLE001 - paramiko: an SFTP status, a dead link or a timeout
            raise self._link_or_device(e, rel, f"stat of {path}") from e

    def _regular(self, rel: str):
        """The lstat of ``rel`` when it is a regular file reached through real directories; None when absent."""
        parts = rel.split("/")
        probe = ""
        for d in ["", *parts[:-1]]:
            probe = f"{probe}/{d}" if d else ""
            if probe in self._checked_dirs:
                continue
            st = self._lstat(self.remote_root + probe, rel)
            if st is None:
                return None
            if not stat.S_ISDIR(st.st_mode):
                raise self._refuse(rel, f"{'the run directory' if not probe else probe.lstrip('/')} is "
                                        f"{_kind(st.st_mode)}, not a directory")
            self._checked_dirs.add(probe)
        st = self._lstat(f"{self.remote_root}/{rel}", rel)
        if st is None:
            return None
        if not stat.S_ISREG(st.st_mode):
            raise self._refuse(rel, f"is {_kind(st.st_mode)}; only regular files are read")
        return st

    # --- reading ------------------------------------------------------------------------
    def _stream(self, rel: str, sink, limit: int) -> int | None:
        """Copy the remote file into ``sink`` (a binary file object); bytes copied, None when absent."""
        st = self._regular(rel)
        if st is None:
            return None
        if st.st_size > limit:
            raise self._refuse(rel, f"is {st.st_size / MIB:.1f} MiB, over the {limit / MIB:g} MiB limit "
                                    "(limits in the profile)")
        deadline = time.monotonic() + self.limits.read_timeout_s
        path = f"{self.remote_root}/{rel}"
        n = 0
        try:
            with self.conn.sftp(self.limits.read_timeout_s).open(path, "rb") as f:
                if not stat.S_ISREG(f.stat().st_mode):
                    raise self._refuse(rel, "changed into something other than a regular file while it was opened")
                while True:
                    if time.monotonic() > deadline:
                        raise self._refuse(rel, f"took longer than {self.limits.read_timeout_s:g} s "
                                                "(limits.read_timeout_s in the profile)")
                    chunk = f.read(CHUNK)
                    if not chunk:
                        return n
                    n += len(chunk)
                    if n > limit:
                        raise self._refuse(rel, f"grew past the {limit / MIB:g} MiB limit while it was read")
                    sink.write(chunk)
        except DeviceDataError:
            self.conn.drop_sftp()  # requests may still be in flight: start the next read on a fresh channel
            raise
        except Exception as e:  # noqa: BLE001 - paramiko: an SFTP status, a dead link or a timeout
            raise self._link_or_device(e, rel, f"reading {path}") from e

    def _link_or_device(self, e: Exception, rel: str, what: str):
        """A failed SFTP request as the link's fault (LinkError: reconnect) or the device's (DeviceDataError).

        No answer within ``read_timeout_s`` or a dead transport is the link's: the deploy reconnects, and
        gives up on a board that stays silent for its reconnect budget. An SFTP status from a live link
        (permission denied, a failure) is the device's answer.
        """
        self.conn.drop_sftp()
        if isinstance(e, (TimeoutError, EOFError)) or not self.conn.link_ok():
            return LinkError(f"{self.conn.where}: {what} failed ({type(e).__name__}: {e})",
                             f"check the link to the device (no answer within {self.limits.read_timeout_s:g} s?)")
        return self._refuse(rel, f"cannot read ({type(e).__name__}: {e})")

    def read_text(self, rel: str) -> str | None:
        """A small control file (manifest, records) as text; None when absent."""
        import io

        buf = io.BytesIO()
        if self._stream(self._check_rel(rel), buf, self.max_json) is None:
            return None
        try:
            return buf.getvalue().decode("utf-8")
        except UnicodeDecodeError as e:
            raise self._refuse(rel, f"is not UTF-8 text (byte {e.start})") from None

    def manifest(self, run_id: str) -> dict | None:
        text = self.read_text("manifest.json")
        if text is None:
            return None
        data = self._json(text, "manifest.json")
        try:
            check_manifest(data)
        except ValueError as e:
            raise self._refuse("manifest.json", f"not a run manifest ({e})") from None
        if data["run_id"] != run_id:
            raise self._refuse("manifest.json", f"belongs to run {data['run_id']!r}, not {run_id!r}")
        return data

    def records(self, run_id: str, cell_ids: set[str]) -> list[dict]:
        """Every finished record, validated; each names a cell of this run."""
        text = self.read_text("records.jsonl") or ""
        out = []
        for no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"records.jsonl:{no}"
            rec = self._json(line, where)
            try:
                check_record(rec)
            except ValueError as e:
                raise self._refuse(where, f"not a run record ({e})") from None
            if rec["run_id"] != run_id:
                raise self._refuse(where, f"belongs to run {rec['run_id']!r}, not {run_id!r}")
            if rec["cell_id"] not in cell_ids:
                raise self._refuse(where, f"names cell {rec['cell_id']!r}, which this run does not have")
            out.append(rec)
        return out

    def _json(self, text: str, where: str):
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as e:
            raise self._refuse(where, f"is not valid JSON ({str(e)[:100]})") from None

    def fetch(self, rel: str) -> int:
        """Copy one record file into the same relative path of the local run directory; bytes copied.

        A file the record names but the device does not have is an error too: the record would lie.
        """
        self._check_rel(rel)
        if rel in CONTROL_FILES:
            raise self._refuse(rel, "a record may not name the run's control files")
        dest = self._local_path(rel)
        limit = min(self.max_file, self.run_budget)
        try:
            with staged(dest) as tmp, open(tmp, "wb") as sink:
                n = self._stream(rel, sink, limit)
                if n is None:
                    raise self._refuse(rel, "is named by a record but missing on the device")
        except OSError as e:
            raise storage_error(e, dest) from e
        self.run_budget -= n
        return n

    def _local_path(self, rel: str) -> Path:
        root = self.local_root.resolve()
        dest = (root / rel).resolve()
        if root not in dest.parents or os.path.islink(root / rel.split("/")[0]):
            raise self._refuse(rel, f"would be written outside {root}")
        return dest

    def spend(self, nbytes: int) -> None:
        """Count bytes already pulled earlier (the run budget covers all pulls of a run)."""
        self.run_budget -= nbytes
        if self.run_budget < 0:
            raise DeviceDataError(f"{self.conn.where}: run {self.remote_root} sent more than "
                                  f"{self.limits.max_run_mib:g} MiB of files (limits.max_run_mib)", FIX)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"
