"""Image lockfiles: the exact versions of the harness's runtime dependencies, read off a working environment.

``harness image lock`` walks edge-harness's requirements (and theirs) through the
installed distributions' metadata and writes ``name==version`` lines. torch,
torchvision and the CUDA wheels are left out: each image takes them from its own
source (the base image, NVIDIA's Jetson wheels, PyTorch's CPU index).
"""

from __future__ import annotations

import re
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT_DIST = "edge-harness"
# Provided per image (base image, NVIDIA wheels, PyTorch index), never pinned in a lockfile.
PROVIDED = re.compile(r"^(torch|torchvision|triton|nvidia-(?!ml-py$).*|cuda-.*|tensorrt.*|onnxruntime(-gpu)?)$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_closure(root: str = ROOT_DIST) -> dict[str, str]:
    """``{normalised name: version}`` of every installed distribution ``root`` needs at run time (no extras)."""
    env = default_environment()
    seen: dict[str, str] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        key = _norm(dist.metadata["Name"])
        if key in seen:
            continue
        seen[key] = dist.version
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
                continue
            todo.append(req.name)
    seen.pop(_norm(root), None)
    return seen


def lock_text(closure: dict[str, str], header: str) -> str:
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += [f"{name}=={version}" for name, version in sorted(closure.items()) if not PROVIDED.match(name)]
    return "\n".join(lines) + "\n"
