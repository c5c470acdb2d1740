"""The content cache: one build per key, nothing kept of a failed build."""

import pytest

from harness.cache import ContentCache
from harness.errors import BenchmarkError


def test_content_cache_builds_once_per_key_and_keeps_nothing_of_a_failed_build(harness_cache):
    cache = ContentCache("test-cache")
    calls = []

    def build(tmp):
        calls.append(tmp)
        tmp.write_text("artifact")

    first = cache.entry(lambda k: f"thing-{k}.bin", ("model-sha", 640), build)
    again = cache.entry(lambda k: f"thing-{k}.bin", ("model-sha", 640), build)
    other = cache.entry(lambda k: f"thing-{k}.bin", ("model-sha", 320), build)
    assert not first.hit and again.hit and again.build_s == 0.0 and again.path == first.path and len(calls) == 2
    assert other.key != first.key and first.facts() == {"cache_key": first.key, "cache_hit": False, "build_s": first.build_s}

    def broken(tmp):
        tmp.write_text("half")
        raise BenchmarkError("export failed")

    with pytest.raises(BenchmarkError, match="export failed"):
        cache.entry(lambda k: f"broken-{k}.bin", ("x",), broken)
    with pytest.raises(BenchmarkError, match="produced nothing"):
        cache.entry(lambda k: f"empty-{k}.bin", ("y",), lambda tmp: tmp.write_text(""))
    assert sorted(p.name for p in cache.root.iterdir()) == sorted([first.path.name, other.path.name])


SLOW_BUILD = """
import os, sys, time
from pathlib import Path
from harness.cache import ContentCache

def build(tmp):
    with open(sys.argv[1], "a") as f:
        f.write(f"{os.getpid()}\\n")  # one line per build that ran
    time.sleep(1.5)
    tmp.write_text("built")

entry = ContentCache("slow").entry(lambda k: f"x-{k}.txt", ("same",), build)
print(entry.path.read_text(), entry.hit)
"""


def test_two_processes_wanting_one_entry_build_it_once(tmp_path):
    """Single flight: the second waits for the first's build and takes it (a cache hit), never builds it again."""
    import os
    import subprocess
    import sys

    log = tmp_path / "builds.log"
    env = {**os.environ, "HARNESS_CACHE_DIR": str(tmp_path / "cache")}
    procs = [subprocess.Popen([sys.executable, "-c", SLOW_BUILD, str(log)], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outs = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    assert [p.returncode for p in procs] == [0, 0]
    assert len(log.read_text().splitlines()) == 1  # built once
    assert outs == ["built False", "built True"]
