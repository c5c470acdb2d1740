"""The content key of an image: what it is built from, hashed; the tag is derived from it.

Inputs: target platform, harness version, the harness source (every file of the package and
pyproject.toml), the Dockerfile, the lockfile, the entry point and the resolved
build args. Same inputs -> same tag, so a device that already has the tag
already has this image (deploy skips shipping it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import harness
from harness.image.flavors import Flavor

REPO = "edge-harness"


def _source_files(src_root: Path) -> list[Path]:
    pkg = src_root / "harness"
    files = [p for p in pkg.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return sorted([*files, src_root / "pyproject.toml"])


def content_key(flavor: Flavor, build_args: dict[str, str], docker_root: Path, src_root: Path, platform: str = "") -> str:
    """``platform``: the target (linux/arm64 ...); the same inputs built for another architecture are another image."""
    h = hashlib.sha256()

    def feed(label: str, data: bytes) -> None:
        h.update(label.encode() + b"\0" + len(data).to_bytes(8, "big") + data)

    feed("version", harness.__version__.encode())
    feed("platform", platform.encode())
    feed("dockerfile", (docker_root / flavor.dockerfile).read_bytes())
    feed("entrypoint", (docker_root / "entrypoint.sh").read_bytes())
    lockfile = build_args.get("LOCKFILE")
    if lockfile:
        feed("lockfile", (docker_root / lockfile).read_bytes())
    for k in sorted(build_args):
        feed(f"arg:{k}", build_args[k].encode())
    for p in _source_files(src_root):
        feed(f"src:{p.relative_to(src_root).as_posix()}", p.read_bytes())
    return h.hexdigest()


def content_tag(flavor: Flavor, key: str) -> str:
    return f"{REPO}:{flavor.name}-{harness.__version__}-{key[:12]}"
