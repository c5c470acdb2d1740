"""The build context: ``docker/`` (Dockerfiles, args, lockfiles, entry point) plus a harness wheel in ``dist/``."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from harness.image.flavors import docker_dir
from harness.image.wheel import build_wheel


def assemble_context(dest: Path, root: Path | None = None) -> Path:
    """Copy ``docker/`` into ``dest`` and build this harness's wheel into ``dest/dist``; returns ``dest``."""
    root = root or docker_dir()
    shutil.copytree(root, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("dist", "__pycache__"))
    (dest / "dist").mkdir(exist_ok=True)
    build_wheel(dest / "dist")
    return dest


def tar_context(context: Path, out: Path) -> Path:
    """The context as one tar file (to ship to a device for an on-device build)."""
    with tarfile.open(out, "w") as tar:
        tar.add(context, arcname=".")
    return out
