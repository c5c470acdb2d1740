"""Podman for the tests (docs/architecture.md, "Tests"): settings that work without a Docker engine, a local base image.

- ``containers.conf`` with ``default_ulimits = []``, ``pids_limit = 0``,
  cgroupfs and runc, handed to podman through ``CONTAINERS_CONF`` (the
  machine's own configuration is never changed).
- Builds use ``--isolation chroot``; there is no registry, so the Debian base is a
  debootstrap ``minbase`` rootfs ``podman import``-ed once as
  ``localhost/harness-test-base:bookworm`` and kept in podman's storage between
  runs of the suite.
- Builds that run pip get this machine's package indexes: the local wheel
  mirrors are bind-mounted read-only and the CA bundle is passed (PIP_CERT).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

BASE_IMAGE = "localhost/harness-test-base:bookworm"
DEBIAN_MIRROR = os.environ.get("HARNESS_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
CONF = """[containers]
default_ulimits = []
pids_limit = 0

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
"""
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
LOCAL_INDEXES = (Path("/opt/pypi"), Path("/opt/pypi-more"))


def conf_path() -> Path:
    d = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edge-harness" / "podman"
    d.mkdir(parents=True, exist_ok=True)
    p = d / "containers.conf"
    if not p.is_file() or p.read_text() != CONF:
        p.write_text(CONF)
    return p


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(conf_path())}


@lru_cache(maxsize=1)
def podman_reason() -> str | None:
    """Why podman cannot run containers here (None when it can)."""
    if not shutil.which("podman"):
        return "podman is not installed (make test installs it: apt-get install podman runc debootstrap)"
    if os.geteuid() != 0:
        return "the container tests run podman as root (rootless needs subuid ranges this machine may lack)"
    try:
        r = subprocess.run(["podman", "info", "--format", "{{.Store.GraphDriverName}}"], capture_output=True, text=True,
                           timeout=60, env=podman_env())
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"podman info failed: {e}"
    return None if r.returncode == 0 else f"podman info failed: {r.stderr.strip()[-200:]}"


def podman(*args: str, check: bool = True, timeout_s: float = 600, input: str | None = None) -> subprocess.CompletedProcess:
    r = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout_s, env=podman_env(), input=input)
    if check and r.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args[:3])} ... failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    return r


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def base_image() -> str:
    """The Debian bookworm minbase image, debootstrapped and imported once (kept in podman's storage)."""
    if image_exists(BASE_IMAGE):
        return BASE_IMAGE
    if not shutil.which("debootstrap"):
        raise RuntimeError("debootstrap is not installed (apt-get install debootstrap)")
    with tempfile.TemporaryDirectory(prefix="harness-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        r = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(root), DEBIAN_MIRROR],
                           capture_output=True, text=True, timeout=1800)
        if r.returncode != 0:
            raise RuntimeError(f"debootstrap failed: {(r.stdout + r.stderr).strip()[-800:]}")
        shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(["podman", "import", "--change", "CMD [\"/bin/bash\"]", "-", BASE_IMAGE], stdin=tar.stdout,
                             capture_output=True, text=True, timeout=900, env=podman_env())
        tar.stdout.close()
        tar.wait()
        if imp.returncode != 0:
            raise RuntimeError(f"podman import failed: {imp.stderr.strip()[-500:]}")
    return BASE_IMAGE


def build_opts(pip: bool = False) -> list[str]:
    """``podman build`` options for this machine: chroot isolation, host network; pip's indexes and CA when asked."""
    opts = ["--isolation=chroot", "--network=host"]
    if pip:
        opts += [f"-v={d}:{d}:ro" for d in LOCAL_INDEXES if d.is_dir()]
        if HOST_CA.is_file():
            opts += [f"-v={HOST_CA}:/etc/ssl/certs/harness-host-ca.crt:ro"]
    return opts


def pip_build_args() -> dict[str, str]:
    """Build args that point pip at this machine's indexes (local mirrors first, PyPI for the rest)."""
    extra = " ".join(f"file://{d}/simple" for d in LOCAL_INDEXES if (d / "simple").is_dir())
    args = {"PIP_EXTRA_INDEX_URL": extra} if extra else {}
    if HOST_CA.is_file():
        args["PIP_CERT"] = "/etc/ssl/certs/harness-host-ca.crt"
    return args


def build(context: Path, dockerfile: Path, tag: str, build_args: dict[str, str] | None = None, pip: bool = False,
          timeout_s: float = 1800) -> None:
    argv = ["build", "--format", "docker", *build_opts(pip)]
    for k, v in sorted((build_args or {}).items()):
        argv += ["--build-arg", f"{k}={v}"]
    podman(*argv, "-f", str(dockerfile), "-t", tag, str(context), timeout_s=timeout_s)


def drop_older_tags(prefix: str, keep: set[str]) -> list[str]:
    """Untag images whose name starts with ``prefix`` other than ``keep`` (earlier source versions of a test
    image; their shared layers stay, only their own top layers are freed). Returns what was removed."""
    keep_full = {k if k.startswith("localhost/") else f"localhost/{k}" for k in keep}
    tags = [t for t in podman("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
            if t.startswith(prefix) and t not in keep_full]
    for t in tags:
        podman("rmi", t, check=False)
    podman("image", "prune", "-f", check=False)  # the untagged images a rebuild under the same tag leaves behind
    return tags
