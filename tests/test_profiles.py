import pytest

from harness.errors import ProfileError
from harness.profiles import load_profile, profile_names

EXPECTED = {"orin-nano", "orin-nx", "agx-orin", "xavier-nx", "desktop-gpu", "desktop-cpu", "local"}


def test_every_shipped_profile_validates():
    assert EXPECTED <= set(profile_names())
    for name in EXPECTED:
        p = load_profile(name)
        assert p.name == name
        if p.kind == "jetson":
            assert p.connection and p.expect.l4t_major in (35, 36) and p.container.nvidia_runtime
            assert p.power_mode.nvpmodel  # modes by name, never by id


def test_local_profile_runs_on_this_machine():
    p = load_profile("local")
    assert p.connection is None and p.runtime == "host"


def test_profile_by_path(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("name: mine\nkind: desktop-cpu\ncompute: cpu\n")
    assert load_profile(str(f)).compute == "cpu"


@pytest.mark.parametrize("text, message", [
    ("name: x\nkind: local\nconnection:\n  host: a\n  prot: 22\n", "connection.prot: unknown key (did you mean 'port'? allowed here: connect_timeout_s"),
    ("name: x\nkind: laptop\n", "kind: Input should be"),
    ("name: x\nkind: local\nruntime: docker\ncontainer:\n  imag: y\n", "container.imag: unknown key"),
    ("name: x\nkind: local\nconnection:\n  host: a\n  port: 99999\n", "connection.port: Input should be less than or equal to 65535"),
    ("- just\n- a list\n", "must be a YAML mapping"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_bad_profiles_name_the_file_and_field(tmp_path, text, message):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ProfileError) as e:
        load_profile(str(f))
    assert str(f) in e.value.message and message in e.value.message


def test_unknown_profile_name_lists_the_known_ones():
    with pytest.raises(ProfileError, match=r"unknown profile 'orin-nan0' \(known: agx-orin"):
        load_profile("orin-nan0")
