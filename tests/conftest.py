"""Shared fixtures: an offline, per-session cache and small synthetic sequences."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

# Never download during tests; keep ultralytics quiet and offline.
os.environ["HARNESS_OFFLINE"] = "1"
os.environ["YOLO_OFFLINE"] = "true"
os.environ.setdefault("YOLO_VERBOSE", "False")
# Suites without their own ``repeats`` measure each cell once in tests (speed); tests of repeats set them.
os.environ["HARNESS_REPEATS"] = "1"


@pytest.fixture(scope="session", autouse=True)
def harness_cache(tmp_path_factory) -> Path:
    """One cache per test session (random-init weights, ONNX exports are built once)."""
    d = tmp_path_factory.mktemp("harness-cache")
    os.environ["HARNESS_CACHE_DIR"] = str(d)
    os.environ["HARNESS_MODELS_DIR"] = str(d / "models")
    return d


@pytest.fixture(scope="session")
def small_seq(tmp_path_factory) -> Path:
    """A 24-frame 320x192 synthetic MOT sequence (read-only: copy before changing it)."""
    from harness.mot.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("seq") / "SYNTH-small", n_frames=24, size=(320, 192), seed=3)


@pytest.fixture
def run_harness():
    """Run the real ``harness`` console script (see tests/cli/conftest.py)."""
    from tests.cli.conftest import harness

    return harness


@pytest.fixture
def tmpfs(tmp_path):
    """A small tmpfs mounted for the test (root only; skipped elsewhere)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)
