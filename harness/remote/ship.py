"""Shipping a run's inputs to a device: the device-side profile, the suite, local model files and the sequence.

The sequence goes to ``<workdir>/sequences/<name>-<content hash>`` once: a second run with the same
content sends nothing (``.complete`` marks a finished upload; a partial one is started again).
"""

from __future__ import annotations

import hashlib
import shlex
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.errors import RemoteError
from harness.fsutil import file_sha256
from harness.remote.session import DeployPlan


@dataclass
class Shipped:
    """Where the inputs are on the device."""

    inputs: str  # <workdir>/inputs/<run id>: profile.yaml, suite.yaml, models/
    sequence: str
    sequence_bytes_sent: int = 0
    sequence_skipped: bool = False
    models: dict[str, str] = field(default_factory=dict)  # local .pt path -> device path

    def as_dict(self) -> dict:
        return {"inputs": self.inputs, "sequence": self.sequence, "sequence_bytes_sent": self.sequence_bytes_sent,
                "sequence_skipped": self.sequence_skipped, "models": self.models}


def sequence_hash(seq: Path) -> str:
    """Content hash of a sequence directory (names and bytes of every file)."""
    h = hashlib.sha256()
    for f in sorted(p for p in seq.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(seq)).encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def ship_inputs(conn, plan: DeployPlan, workdir: str) -> Shipped:
    """Profile (without its connection), suite (local model paths pointed at device copies) and sequence."""
    q = shlex.quote
    inputs = f"{workdir}/inputs/{plan.run_id}"
    conn.run(["sh", "-c", f"mkdir -p {q(inputs)} {q(workdir + '/runs')} {q(workdir + '/sequences')}"])
    prof = plan.profile.model_dump()
    prof.pop("connection")
    _put_text(conn, yaml.safe_dump(prof), f"{inputs}/profile.yaml")
    suite = plan.suite.model_dump()
    models = _ship_models(conn, suite, f"{inputs}/models")
    _put_text(conn, yaml.safe_dump(suite), f"{inputs}/suite.yaml")
    if plan.device_sequence:
        if not conn.run(["test", "-d", f"{plan.device_sequence}/img1"]).ok:
            raise RemoteError(f"{conn.where}: {plan.device_sequence} is not a MOT sequence (no img1/)",
                              "pass the device path of a sequence directory, or ship a local one with --sequence")
        return Shipped(inputs, plan.device_sequence, 0, True, models)
    seq = plan.sequence
    remote_seq = f"{workdir}/sequences/{seq.name}-{sequence_hash(seq)}"
    done = conn.run(["test", "-f", f"{remote_seq}/.complete"]).ok
    sent = 0
    if not done:
        tmp = remote_seq + ".partial"
        conn.run(["rm", "-rf", tmp])
        files = sorted(p for p in seq.rglob("*") if p.is_file())
        dirs = sorted({p.parent for p in files})
        conn.run(["mkdir", "-p", *[f"{tmp}/{d.relative_to(seq)}".rstrip("/.") for d in dirs]])
        for f in files:
            conn.put(f, f"{tmp}/{f.relative_to(seq)}")
            sent += f.stat().st_size
        conn.run(["sh", "-c", f"touch {q(tmp + '/.complete')} && rm -rf {q(remote_seq)} && mv {q(tmp)} {q(remote_seq)}"])
    return Shipped(inputs, remote_seq, sent, done, models)


def _ship_models(conn, suite: dict, remote_dir: str) -> dict[str, str]:
    """Upload suite models given as local .pt files and point the suite at the device copies."""
    shipped: dict[str, str] = {}
    for exp in suite["experiments"]:
        for i, model in enumerate(exp["models"]):
            local = Path(model).expanduser()
            if local.suffix != ".pt" or not local.is_file():
                continue  # a model name: resolved on the device (models dir, download or architecture)
            if model not in shipped:
                # the file keeps its name (its stem is part of the cell id on both sides); the folder holds its hash
                folder = f"{remote_dir}/{file_sha256(local)[:12]}"
                remote = f"{folder}/{local.name}"
                conn.run(["mkdir", "-p", folder])
                conn.put(local, remote)
                shipped[model] = remote
            exp["models"][i] = shipped[model]
    return shipped


def _put_text(conn, text: str, remote: str) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        conn.put(Path(f.name), remote)
    finally:
        Path(f.name).unlink(missing_ok=True)
