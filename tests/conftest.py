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
# pytest-xdist workers share the cores: each gets its share of threads (inherited by the harness processes the
# tests start, whose ``threads: auto`` honours it). Two workers each running 2-thread torch on 2 cores made
# OpenMP threads wait for each other: a healthy 1.4 s cell ran past a 30 s cell budget in CI.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _share = max(1, len(os.sched_getaffinity(0)) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ["OMP_NUM_THREADS"] = str(min(_share, int(os.environ.get("OMP_NUM_THREADS") or _share)))


PODMAN_MARKS = ("mark.container", "mark.provision", "testing.infra import podman")


def _podman_files(root: Path) -> set[str]:
    """Test files that start podman (their tests are marked ``container`` / ``provision`` or use the podman infra)."""
    return {str(p.relative_to(root)) for p in (root / "tests").rglob("test_*.py")
            if any(m in p.read_text() for m in PODMAN_MARKS)}


# The long end-to-end files, longest first (measured: `pytest -n 2 --durations`): handed out before the short
# ones, so the workers finish together instead of one running the last long file alone.
LONG_FIRST = ("tests/models/test_reference.py", "podman", "tests/measure/test_runner.py",
              "tests/remote/test_deploy.py", "tests/campaign/test_scheduler.py", "tests/remote/test_sweep_deploy.py",
              "tests/measure/test_sweep.py", "tests/measure/test_window.py", "tests/cli/test_faults.py",
              "tests/farm/test_farm.py", "tests/docs/test_docs.py")


def pytest_xdist_make_scheduler(config, log):
    """``make test`` runs pytest-xdist workers: a file's tests stay on one worker (module fixtures such as the
    reference detector's compression run are built once), every file that starts podman shares one worker (one
    image build, one container store), and the long files go first. xdist's ``loadgroup`` does not group under
    this pytest, so the scope is the file, or ``podman``."""
    from xdist.scheduler import LoadFileScheduling

    podman = _podman_files(Path(config.rootpath))

    class FileOrPodman(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "podman" if path in podman else path

        def _assign_work_unit(self, node) -> None:
            for scope in reversed(LONG_FIRST):
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return FileOrPodman(config, log)


def _shared_cache(base: Path) -> Path:
    d = base / "harness-cache"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="session", autouse=True)
def harness_cache(tmp_path_factory) -> Path:
    """One cache per test run (random-init weights, ONNX exports, the reference detector are built once), shared by
    pytest-xdist's workers: the content cache is safe for concurrent writers (atomic replace, temps named by pid)."""
    base = tmp_path_factory.getbasetemp()
    d = _shared_cache(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base)
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
