"""Shipping a run's inputs to a device: the device-side profile, the suite, local model files and the sequence.

The sequence goes to ``<workdir>/sequences/<name>-<content hash>`` once: a second run with the same
content sends nothing (``.complete`` marks a finished upload); an interrupted upload resumes, keeping
the files that already arrived whole (same size and SHA-256).
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
    sequence_files_kept: int = 0  # files an interrupted upload had already completed

    def as_dict(self) -> dict:
        return {"inputs": self.inputs, "sequence": self.sequence, "sequence_bytes_sent": self.sequence_bytes_sent,
                "sequence_skipped": self.sequence_skipped, "models": self.models,
                "sequence_files_kept": self.sequence_files_kept}


def sequence_hash(seq: Path) -> str:
    """Content hash of a sequence directory (names and bytes of every file)."""
    h = hashlib.sha256()
    for f in sorted(p for p in seq.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(seq)).encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def ship_inputs(conn, plan: DeployPlan, workdir: str, on_bytes=None) -> Shipped:
    """Profile (without its connection), suite (local model paths pointed at device copies) and sequence.

    ``on_bytes(sent, total)`` follows the sequence upload.
    """
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
    sent = kept = 0
    if not done:
        sent, kept = _upload_resumable(conn, seq, remote_seq + ".partial", on_bytes)
        tmp = remote_seq + ".partial"
        conn.run(["sh", "-c", f"touch {q(tmp + '/.complete')} && rm -rf {q(remote_seq)} && mv {q(tmp)} {q(remote_seq)}"])
    return Shipped(inputs, remote_seq, sent, done, models, kept)


def _upload_resumable(conn, seq: Path, tmp: str, on_bytes) -> tuple[int, int]:
    """Upload the sequence into ``tmp``; files a previous, interrupted upload already completed (same size and
    SHA-256 on the device) are kept. Returns (bytes sent, files kept)."""
    files = sorted(p for p in seq.rglob("*") if p.is_file())
    rel = {str(f.relative_to(seq)): f for f in files}
    dirs = sorted({p.parent for p in files})
    conn.run(["mkdir", "-p", *[f"{tmp}/{d.relative_to(seq)}".rstrip("/.") for d in dirs]])
    listing = conn.run(["find", tmp, "-type", "f", "-printf", "%s %P\\n"], max_output_bytes=8 << 20)
    there = {}
    for line in listing.stdout.splitlines() if listing.ok else []:
        size, _, name = line.partition(" ")
        if size.isdigit() and name in rel:
            there[name] = int(size)
    same_size = [n for n, size in there.items() if rel[n].stat().st_size == size]
    kept = set()
    if same_size:
        r = conn.run(["sh", "-c", 'cd "$1" && shift && sha256sum -- "$@"', "sh", tmp, *same_size], max_output_bytes=8 << 20)
        remote_hash = {}
        for line in r.stdout.splitlines() if r.ok else []:
            digest, _, name = line.partition("  ")
            remote_hash[name] = digest
        kept = {n for n in same_size if remote_hash.get(n) == file_sha256(rel[n])}
    todo = [(n, f) for n, f in rel.items() if n not in kept]
    total = sum(f.stat().st_size for _, f in todo)
    sent = 0
    if on_bytes:
        on_bytes(0, total)
    for name, f in todo:
        conn.put(f, f"{tmp}/{name}")
        sent += f.stat().st_size
        if on_bytes:
            on_bytes(sent, total)
    return sent, len(kept)


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
