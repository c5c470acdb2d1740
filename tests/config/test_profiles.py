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
    ("name: x\nkind: local\nconnection:\n  host: a\n  prot: 22\n", "connection.prot: unknown key (did you mean 'port'? allowed here: acquire_timeout_s, connect_timeout_s"),
    ("name: x\nkind: laptop\n", "kind: Input should be"),
    ("name: x\nkind: local\nruntime: docker\ncontainer:\n  imag: y\n", "container.imag: unknown key"),
    ("name: x\nkind: local\nconnection:\n  host: a\n  port: 99999\n", "connection.port: 99999 is not allowed: use a whole number from 1 to 65535"),
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
    with pytest.raises(ProfileError, match=r"unknown profile 'orin-nan0' \(did you mean 'orin-nano'\?\) \(known: agx-orin"):
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


# --- limit values are user input (issue 22): every numeric setting is finite and bounded where it is defined ---

from harness.config.profiles import DeviceProfile  # noqa: E402
from tests.config.numbers import ATTACK_IDS, ATTACKS, assert_refused_in_one_line, dotted, numeric_fields  # noqa: E402

PROFILE = {"name": "x", "kind": "local", "connection": {"host": "h"}}
PROFILE_NUMBERS = numeric_fields(DeviceProfile)


def test_the_walk_finds_every_numeric_setting():
    found = {dotted(p) for p, _ in PROFILE_NUMBERS}
    assert {"timeouts.cell_s", "limits.max_file_mib", "limits.read_timeout_s", "measure.min_duration_s",
            "telemetry.interval_ms", "connection.port", "cooldown.wait_s", "measure.threads"} <= found
    assert len(found) == 27, sorted(found)  # a new numeric field is walked (and attacked) like these


@pytest.mark.parametrize("value", ATTACKS, ids=ATTACK_IDS)
@pytest.mark.parametrize("path", [p for p, _ in PROFILE_NUMBERS], ids=[dotted(p) for p, _ in PROFILE_NUMBERS])
def test_out_of_range_numbers_are_one_line_naming_file_field_and_range(tmp_path, path, value):
    assert_refused_in_one_line(load_profile, ProfileError, PROFILE, path, value, tmp_path)


@pytest.mark.parametrize("text, message", [
    ("timeouts:\n  cell_s: .inf\n", "timeouts.cell_s: inf is not allowed: use a number above 0 and at most 604800 s (7 days)"),
    ("timeouts:\n  cell_s: 1e10\n", "timeouts.cell_s: '1e10' is not allowed"),
    ("measure:\n  min_duration_s: 1e300\n", "measure.min_duration_s: '1e300' is not allowed: use a number from 0 to 86400 s (1 day)"),
    ("limits:\n  max_file_mib: .inf\n", "limits.max_file_mib: inf is not allowed: use a number above 0 and at most 4194304 MiB (4 TiB)"),
    ("limits:\n  read_timeout_s: 1.0e+12\n", "limits.read_timeout_s: 1000000000000.0 is not allowed"),
    ("connection:\n  host: h\n  port: " + "9" * 400 + "\n", "connection.port: a 400-digit number is not allowed: use a whole number from 1 to 65535"),
    ("telemetry:\n  interval_ms: 5\n", "telemetry.interval_ms: 5 is not allowed: use a whole number from 10 to 10000 ms"),
    ("measure:\n  threads: many\n", "measure.threads: 'many' is not allowed: use a whole number from 1 to 4096, or auto"),
    ("timeouts:\n  cell_s: yes\n", "timeouts.cell_s: True is not allowed"),
])
def test_the_attack_pass_findings(tmp_path, text, message):
    f = tmp_path / "p.yaml"
    f.write_text("name: x\nkind: local\n" + text)
    with pytest.raises(ProfileError) as e:
        load_profile(str(f))
    assert message in e.value.message and str(f) in e.value.message


def test_a_number_yaml_cannot_build_is_a_clear_error(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("name: x\nkind: local\nconnection:\n  host: h\n  port: " + "9" * 5000 + "\n")
    with pytest.raises(ProfileError, match=r"p\.yaml: a value cannot be read \(Exceeds the limit"):
        load_profile(str(f))


def test_the_largest_allowed_values_still_fit_timers_sockets_and_integers():
    """Where the bounds meet the arithmetic: the watchdog's itimer and Event.wait, the SFTP socket timeout,
    nanoseconds of the timed window, bytes of a pulled file."""
    import signal
    import socket
    import threading

    from harness.remote.intake import MIB

    most = {dotted(p): n.get("maximum") for p, n in PROFILE_NUMBERS}
    p = DeviceProfile.model_validate(
        {**PROFILE, "timeouts": {k: most[f"timeouts.{k}"] for k in ("command_s", "reboot_s", "cell_s", "cell_grace_s")},
         "limits": {k: most[f"limits.{k}"] for k in ("max_file_mib", "max_run_mib", "max_json_mib", "read_timeout_s")},
         "measure": {"min_duration_s": most["measure.min_duration_s"]},
         "connection": {"host": "h", "connect_timeout_s": most["connection.connect_timeout_s"]}})
    old = signal.signal(signal.SIGALRM, lambda *_: None)
    try:
        signal.setitimer(signal.ITIMER_REAL, p.timeouts.cell_s)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert threading.Lock().acquire(timeout=p.timeouts.cell_s + p.timeouts.cell_grace_s)  # Event.wait's limit
    with socket.socket() as s:
        for t in (p.limits.read_timeout_s, p.timeouts.command_s, p.connection.connect_timeout_s):
            s.settimeout(t)
    assert int(p.measure.min_duration_s * 1e9) < 2**63 and int(p.limits.max_run_mib * MIB) < 2**63
    assert most["timeouts.cell_s"] + most["timeouts.cell_grace_s"] < threading.TIMEOUT_MAX / 1000


def test_every_numeric_field_documents_its_bound_in_words():
    """The error says the range; the schema carries the same numbers (maximum / exclusiveMaximum)."""
    for path, node in PROFILE_NUMBERS:
        assert "maximum" in node or "exclusiveMaximum" in node, dotted(path)
        assert "minimum" in node or "exclusiveMinimum" in node, dotted(path)
