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
