"""Which image a profile needs, and how its build args are resolved."""

from __future__ import annotations

import pytest

from harness.errors import ImageError, ProfileError
from harness.image.flavors import FLAVORS, docker_dir, flavor_for, read_args_file, resolve_build_args
from harness.config.profiles import DeviceProfile, load_profile


def _profile(**kw) -> DeviceProfile:
    return DeviceProfile(name="p", **{"kind": "desktop-cpu", **kw})


@pytest.mark.parametrize("name, flavor", [("orin-nano", "l4t-r36"), ("orin-nx", "l4t-r36"), ("agx-orin", "l4t-r36"),
                                          ("xavier-nx", "l4t-r35"), ("desktop-gpu", "gpu"), ("desktop-cpu", "cpu"),
                                          ("local", "cpu")])
def test_each_shipped_profile_maps_to_a_flavor(name, flavor):
    assert flavor_for(load_profile(name)).name == flavor


def test_jetson_without_l4t_major_is_a_profile_error_with_the_fix():
    with pytest.raises(ProfileError, match="expect.l4t_major") as e:
        flavor_for(_profile(kind="jetson"))
    assert "container.flavor" in e.value.hint


def test_container_flavor_overrides_the_kind():
    assert flavor_for(_profile(kind="jetson", container={"flavor": "cpu"})).name == "cpu"


def test_every_flavor_has_its_dockerfile_args_and_lockfile():
    root = docker_dir()
    for f in FLAVORS.values():
        assert (root / f.dockerfile).is_file()
        if f.args_file:
            args = read_args_file(root / f.args_file)
            assert args["FLAVOR"] == f.name and (root / args["LOCKFILE"]).is_file()
            # every arg the file sets is declared in the Dockerfile (a typo would be silently ignored by the engine)
            text = (root / f.dockerfile).read_text()
            assert all(f"ARG {k}" in text for k in args), [k for k in args if f"ARG {k}" not in text]


def test_args_precedence_file_then_profile_then_command_line():
    prof = _profile(kind="jetson", expect={"l4t_major": 36}, container={"build_args": {"JETSON_STATS_VERSION": "4.2.0"}})
    args = resolve_build_args(FLAVORS["l4t-r36"], prof, {"BASE_IMAGE": "mine:r36"})
    assert args["JETSON_STATS_VERSION"] == "4.2.0" and args["BASE_IMAGE"] == "mine:r36"
    assert args["TORCH_WHL"].endswith("cp310-cp310-linux_aarch64.whl") and args["FLAVOR"] == "l4t-r36"


def test_jetpack5_refuses_to_build_without_cp310_wheels_and_says_why():
    prof = load_profile("xavier-nx")
    with pytest.raises(ImageError, match="TORCH_WHL") as e:
        resolve_build_args(FLAVORS["l4t-r35"], prof, {})
    assert "Python 3.8" in e.value.hint
    args = resolve_build_args(FLAVORS["l4t-r35"], prof, {"TORCH_WHL": "t.whl", "TORCHVISION_WHL": "tv.whl"})
    assert args["PYTHON"] == "python3.10"


def test_bad_args_file_line_names_file_and_line(tmp_path):
    f = tmp_path / "x.args"
    f.write_text("# comment\nGOOD=1\nnot an assignment\n")
    with pytest.raises(ImageError, match=r"x.args:3"):
        read_args_file(f)


def test_provisioned_jtop_service_matches_the_images_jetson_stats():
    """The playbook installs the jtop service the L4T images talk to: same jetson-stats per L4T major."""
    import yaml

    defaults = yaml.safe_load((docker_dir().parent / "ansible/roles/harness_jtop/defaults/main.yml").read_text())
    for major in (35, 36):
        args = read_args_file(docker_dir() / f"l4t-r{major}.args")
        assert defaults["harness_jtop_version_by_l4t"][major] == args["JETSON_STATS_VERSION"]
