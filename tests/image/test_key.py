"""Content keys: stable for the same inputs, different when any input changes."""

from __future__ import annotations

import shutil

import pytest

from harness.image.flavors import FLAVORS, docker_dir
from harness.image.key import content_key, content_tag


@pytest.fixture()
def trees(tmp_path):
    docker = tmp_path / "docker"
    shutil.copytree(docker_dir(), docker, ignore=shutil.ignore_patterns("dist"))
    src = tmp_path / "src"
    (src / "harness").mkdir(parents=True)
    (src / "harness" / "a.py").write_text("x = 1\n")
    (src / "pyproject.toml").write_text("[project]\nname='x'\n")
    return docker, src


def test_key_is_stable_and_changes_with_every_input(trees):
    docker, src = trees
    cpu = FLAVORS["cpu"]
    args = {"FLAVOR": "cpu", "LOCKFILE": "requirements/cpu.lock"}
    k0 = content_key(cpu, args, docker, src)
    assert content_key(cpu, dict(reversed(list(args.items()))), docker, src) == k0  # arg order does not matter
    assert content_key(cpu, {**args, "BASE_IMAGE": "other"}, docker, src) != k0
    (src / "harness" / "a.py").write_text("x = 2\n")
    k1 = content_key(cpu, args, docker, src)
    assert k1 != k0
    (docker / "requirements" / "cpu.lock").write_text("numpy==1.0\n")
    k2 = content_key(cpu, args, docker, src)
    assert k2 != k1
    with (docker / "Dockerfile.cpu").open("a") as f:
        f.write("# changed\n")
    assert content_key(cpu, args, docker, src) != k2
    (src / "harness" / "__pycache__").mkdir()
    (src / "harness" / "__pycache__" / "a.pyc").write_bytes(b"junk")  # byte-code does not count
    assert content_key(cpu, args, docker, src) == content_key(cpu, args, docker, src)


def test_tag_names_flavor_version_and_key():
    tag = content_tag(FLAVORS["l4t-r36"], "ab" * 32)
    assert tag.startswith("edge-harness:l4t-r36-") and tag.endswith("-" + "ab" * 6)


def test_another_platform_is_another_image(trees):
    docker, src = trees
    args = {"FLAVOR": "l4t-r36", "LOCKFILE": "requirements/l4t-r36.txt"}
    assert content_key(FLAVORS["l4t-r36"], args, docker, src, "linux/arm64") != content_key(FLAVORS["l4t-r36"], args, docker, src, "linux/amd64")
