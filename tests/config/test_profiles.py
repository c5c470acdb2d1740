import pytest

from harness.errors import ProfileError
from harness.config.profiles import load_profile, profile_names

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
    # values that reach ssh, remote shells and Ansible are checked where they are defined
    ("name: x\nkind: local\nconnection:\n  host: \"{{ lookup('pipe', 'touch /tmp/PWNED') }}\"\n", "connection.host: String should match pattern"),
    ("name: x\nkind: local\nconnection:\n  host: -oProxyCommand=id\n", "connection.host: String should match pattern"),
    ("name: x\nkind: local\nconnection:\n  host: a\n  user: \"{{ lookup('pipe', 'id') }}\"\n", "connection.user: String should match pattern"),
    ("name: x\nkind: local\npower_mode:\n  nvpmodel: \"15W; reboot\"\n", "power_mode.nvpmodel: String should match pattern"),
    ("name: x\nkind: local\nhost_runtime:\n  workdir: \"/w\\nx\"\n", "host_runtime.workdir: Value error, host_runtime paths must not contain control"),
    ("name: x\nkind: local\nhost_runtime:\n  workdir: relative/dir\n", "must be an absolute path or start with ~/"),
    ("name: ../../x\nkind: local\n", "name: String should match pattern"),
    ("name: x\nkind: local\ncontainer:\n  image: \"--privileged\"\n", "container.image: String should match pattern"),
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


def test_binary_files_directories_and_devices_are_clear_errors(tmp_path):
    (tmp_path / "bin.yaml").write_bytes(b"\x00\xff\xfe\x89PNG")
    for path, message in ((tmp_path / "bin.yaml", "not UTF-8 text"), (tmp_path, "is a directory"),
                          (tmp_path / "none.yaml", "profile file not found")):
        with pytest.raises(ProfileError, match=message):
            load_profile(str(path) if path.suffix else str(path) + "/")


def test_hosts_users_and_images_that_are_fine():
    from harness.config.profiles import Connection, Container

    for host in ("192.0.2.10", "orin-nano.local", "::1", "fe80::1%eth0", "nano-1"):
        assert Connection(host=host).host == host
    for image in ("edge-harness:cpu", "nvcr.io/nvidia/l4t-jetpack:r36.4.0", "localhost:5000/a/b:1.0",
                  "edge-harness:l4t-r36-0.1.0-0123456789ab", "img@sha256:" + "a" * 64):
        assert Container(image=image).image == image
    assert Connection(host="h", user="jetson").user == "jetson"
