"""Shipping a container image to a device: ``save | gzip`` streamed over SSH into ``load``.

Skipped when the device already has the same image ID, or the same content tag
(``harness image build``: same Dockerfile, lockfile, args and harness source). The stream never
touches the disk on either side; bytes and rate are reported as it goes.
"""

from __future__ import annotations

import subprocess
import time
import zlib
from typing import Callable, Iterator

from harness.subproc import LocalShell
from harness.errors import RemoteError
from harness.image.key import REPO
from harness.image.versions import KEY_LABEL, image_labels, labelled_versions

CHUNK = 1 << 20


def device_runner(conn, max_output_bytes: int | None = None) -> Callable[[list[str]], tuple[int, str]]:
    """``run(argv) -> (code, stdout)`` on the device, the shape ``image_id`` / ``image_labels`` take."""
    bound = {} if max_output_bytes is None else {"max_output_bytes": max_output_bytes}

    def on_device(argv: list[str]) -> tuple[int, str]:
        r = conn.run(argv, **bound)
        return r.exit_code, r.stdout

    return on_device


def image_id(run, engine: str, image: str) -> str | None:
    """``engine image inspect`` through ``run(argv) -> (code, stdout)``; None when absent."""
    code, out = run([engine, "image", "inspect", "--format", "{{.Id}}", image])
    return out.strip() if code == 0 and out.strip() else None


def content_tag_of(run, engine: str, image: str) -> str | None:
    """``edge-harness:<flavour>-<version>-<key12>`` from the image's content-key and versions labels, if it has them."""
    labels = image_labels(run, engine, image)
    versions = labelled_versions(labels)
    try:
        return f"{REPO}:{versions['flavor']}-{versions['harness']}-{labels[KEY_LABEL][:12]}"
    except (TypeError, KeyError):
        return None


def same_content_on_device(on_device, local_run, engine: str, local_engine: str, image: str) -> str | None:
    """When the device has this image's content tag (built there or shipped before), point ``image`` at it there.

    Images built from the same content key on two machines have different IDs but the same inputs, so
    shipping one over the other would only cost time. Returns the device's image ID, or None.
    """
    tag = content_tag_of(local_run, local_engine, image)
    remote = image_id(on_device, engine, tag) if tag else None
    if remote is None:
        return None
    code, _ = on_device([engine, "tag", tag, image])
    return remote if code == 0 else None


def _local(argv: list[str]) -> tuple[int, str]:
    r = LocalShell().run(argv)
    return r.exit_code, r.stdout


def gzip_chunks(stream, level: int = 1, on_raw: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """gzip-compress a byte stream chunk by chunk (fast level: the link, not the CPU, is the limit)."""
    comp = zlib.compressobj(level, zlib.DEFLATED, 31)
    while block := stream.read(CHUNK):
        if on_raw:
            on_raw(len(block))
        out = comp.compress(block)
        if out:
            yield out
    yield comp.flush()


def ship_image(conn, engine: str, image: str, local_engine: str | None = None,
               progress: Callable[[int, int | None, int, float], None] | None = None) -> dict:
    """Make the device have ``image`` (by ID); returns what was done (skipped / bytes sent / seconds).

    ``progress(image_bytes_read, image_size, gzip_bytes_sent, seconds)`` follows a transfer.
    """
    local_engine = local_engine or engine
    on_device = device_runner(conn)
    remote = image_id(on_device, engine, image)
    local = image_id(_local, local_engine, image)
    if local is None:
        if remote is not None:
            return {"image": image, "image_id": remote, "skipped": True, "reason": "only on the device"}
        pulled = conn.run([engine, "pull", image], timeout_s=3600)  # a registry name: the device fetches it
        remote = image_id(on_device, engine, image) if pulled.ok else None
        if remote is not None:
            return {"image": image, "image_id": remote, "skipped": True, "reason": "pulled by the device from its registry"}
        raise RemoteError(f"image {image} is neither on this host nor on {conn.where}, and the device could not pull it",
                          f"build it on the device or here (then deploy ships it), or make `{engine} pull {image}` work there")
    if remote == local:
        return {"image": image, "image_id": local, "skipped": True, "reason": "same image ID on the device"}
    same = same_content_on_device(on_device, _local, engine, local_engine, image)
    if same is not None:
        return {"image": image, "image_id": same, "skipped": True, "reason": "same content tag on the device"}
    t0 = time.perf_counter()
    sent = raw = 0
    code, size = _local([local_engine, "image", "inspect", "--format", "{{.Size}}", image])
    total = int(size.strip()) if code == 0 and size.strip().isdigit() else None  # the image's size, before gzip

    def count(n: int) -> None:
        nonlocal sent
        sent += n

    def read(n: int) -> None:
        nonlocal raw
        raw += n
        if progress:
            progress(raw, total, sent, time.perf_counter() - t0)

    save = subprocess.Popen([local_engine, "save", image], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        r = conn.stream_in(["sh", "-c", f"gunzip | {engine} load"], gzip_chunks(save.stdout, on_raw=read), on_bytes=count,
                           timeout_s=3600)
    finally:
        save.stdout.close()
        save_err = save.stderr.read().decode(errors="replace")
        save.wait()
    if save.returncode != 0:
        raise RemoteError(f"{local_engine} save {image} failed: {save_err.strip()[-200:]}", "check the image name on this host")
    if not r.ok:
        raise RemoteError(f"{conn.where}: {engine} load failed ({r.exit_code}): {r.stderr.strip()[-200:]}",
                          "check free disk on the device")
    took = time.perf_counter() - t0
    return {"image": image, "image_id": local, "skipped": False, "bytes_sent": sent, "seconds": round(took, 3),
            "mb_per_s": round(sent / 1e6 / took, 2) if took else None}
