"""An image's versions file: the L4T release and CUDA's version.json read bounded, never blocking, never raising."""

import json
import os

from harness.image import versions as V
from harness.testing.attacks import timed, unblocked


def test_the_l4t_and_cuda_versions_of_an_image_root(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/nv_tegra_release").write_text("# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic\n")
    (tmp_path / "usr/local/cuda").mkdir(parents=True)
    (tmp_path / "usr/local/cuda/version.json").write_text(json.dumps({"cuda": {"name": "CUDA SDK", "version": "12.6.68"}}))
    assert (V._l4t(tmp_path), V._cuda(tmp_path)) == ("36.4.3", "12.6.68")


def test_hostile_version_files_are_bounded_and_never_block(tmp_path):
    import torch  # noqa: F401 - imported before the clock starts: the fallback reads torch's CUDA version

    (tmp_path / "etc").mkdir()
    os.mkfifo(tmp_path / "etc/nv_tegra_release")  # a plain read waits for a writer forever
    assert unblocked(V._l4t, tmp_path) is None
    (tmp_path / "usr/local/cuda").mkdir(parents=True)
    cuda = tmp_path / "usr/local/cuda/version.json"
    for hostile in ("[" * (4 << 20), json.dumps({"cuda": {"version": "1" * (4 << 20)}}), '{"cuda": [1]}', "{" * 100_000):
        cuda.write_text(hostile)
        got = timed(V._cuda, tmp_path)
        assert got is None or len(got) <= 64  # torch's own CUDA version, or none: never the file's
