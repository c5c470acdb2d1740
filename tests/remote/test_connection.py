"""Real OpenSSH servers on loopback ports stand for devices."""

import json
import time

import pytest
import yaml

from harness.errors import RemoteError
from harness.config.profiles import Connection, DeviceProfile
from harness.remote.connection import DeviceConnection
from harness.testing.infra.sshd import free_port, make_device

pytestmark = pytest.mark.slow


@pytest.fixture
def device(tmp_path):
    dev = make_device(tmp_path / "dev")
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "nvpmodel").write_text("#!/bin/sh\necho 'NV Power Mode: 15W'\necho 0\n")
    (shims / "nvpmodel").chmod(0o755)
    fake = tmp_path / "board"
    (fake / "proc" / "device-tree").mkdir(parents=True)
    (fake / "proc" / "device-tree" / "model").write_bytes(b"NVIDIA Jetson Orin Nano Developer Kit\x00")
    (fake / "etc").mkdir()
    (fake / "etc" / "nv_tegra_release").write_text("# R36 (release), REVISION: 4.0, GCID: 37537400, BOARD: generic, EABI: aarch64\n")
    dev.start(path_dirs=(shims,))
    dev.board_root = fake
    yield dev
    dev.stop()


def cfg(dev, **kw):
    return Connection(host="127.0.0.1", user="root", port=dev.port, key_file=str(dev.client_key),
                      known_hosts=str(dev.known_hosts), connect_timeout_s=5, **kw)


def test_commands_run_and_every_argument_is_quoted(device, tmp_path):
    evil = tmp_path / "a dir; touch PWNED $(id)"
    evil.mkdir()
    with DeviceConnection(cfg(device)) as c:
        r = c.run(["ls", "-d", str(evil)])
        assert r.ok and r.stdout.strip() == str(evil)
        r = c.run(["echo", "$HOME", "`id`", "a;b"])
        assert r.stdout.strip() == "$HOME `id` a;b"
    assert not list(tmp_path.rglob("PWNED*"))


def test_unknown_host_key_is_refused_then_pinned_on_request(device, tmp_path):
    kh = tmp_path / "empty_known_hosts"
    c = cfg(device)
    c.known_hosts = str(kh)
    with pytest.raises(RemoteError, match="unknown host key") as e:
        DeviceConnection(c).open()
    assert "--accept-new-host-key" in e.value.hint
    with DeviceConnection(c, accept_new_host_key=True) as conn:
        assert conn.run(["true"]).ok
    assert f"[127.0.0.1]:{device.port}" in kh.read_text()
    with DeviceConnection(c) as conn:  # now pinned: strict mode accepts it
        assert conn.run(["true"]).ok


def test_a_changed_host_key_is_always_refused(device, tmp_path):
    from harness.testing.infra.sshd import keygen

    other = keygen(tmp_path / "other_host_key")
    pub = (tmp_path / "other_host_key.pub").read_text().split()
    kh = tmp_path / "wrong_known_hosts"
    kh.write_text(f"[127.0.0.1]:{device.port} {pub[0]} {pub[1]}\n")
    c = cfg(device)
    c.known_hosts = str(kh)
    with pytest.raises(RemoteError, match="host key CHANGED"):
        DeviceConnection(c, accept_new_host_key=True).open()
    assert other.exists()


def test_unreachable_host_fails_fast_with_the_fix(tmp_path):
    c = Connection(host="127.0.0.1", port=free_port(), user="root", known_hosts=str(tmp_path / "kh"), connect_timeout_s=2)
    t0 = time.perf_counter()
    with pytest.raises(RemoteError, match="unreachable") as e:
        DeviceConnection(c).open()
    assert time.perf_counter() - t0 < 5 and "connection.host/port" in e.value.hint


def test_wrong_key_is_an_authentication_error(device, tmp_path):
    from harness.testing.infra.sshd import keygen

    c = cfg(device)
    c.key_file = str(keygen(tmp_path / "stranger"))
    with pytest.raises(RemoteError, match="authentication failed"):
        DeviceConnection(c).open()


def test_a_frozen_device_is_detected_within_the_timeout(device):
    import os
    import signal

    with DeviceConnection(cfg(device), command_timeout_s=2) as c:
        assert c.run(["true"]).ok
        r = c.run(["sh", "-c", "echo $PPID"])  # the per-connection sshd process
        pid = int(r.stdout.strip())
        os.kill(pid, signal.SIGSTOP)
        try:
            t0 = time.perf_counter()
            with pytest.raises(RemoteError, match="did not complete"):
                c.run(["true"], timeout_s=2)
            assert time.perf_counter() - t0 < 10
        finally:
            os.kill(pid, signal.SIGCONT)


def write_profile(tmp_path, device, **extra):
    prof = {"name": "loop-orin", "kind": "jetson", "runtime": "host",
            "connection": {"host": "127.0.0.1", "user": "root", "port": device.port, "key_file": str(device.client_key),
                           "known_hosts": str(device.known_hosts), "connect_timeout_s": 5},
            "expect": {"board_contains": "Orin Nano", "l4t_major": 36}, "power_mode": {"nvpmodel": "15W"},
            "probe_root": str(device.board_root), **extra}
    p = tmp_path / "loop.yaml"
    p.write_text(yaml.safe_dump(prof))
    return p


def test_doctor_checks_the_device_against_its_profile(device, tmp_path, run_harness):
    p = run_harness("doctor", "--profile", write_profile(tmp_path, device), "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    out = json.loads(p.stdout)
    checks = {c["name"]: c for c in out["checks"]}
    assert out["ok"] and checks["board"]["ok"] and checks["l4t"]["detail"].startswith("r36")
    assert checks["nvpmodel"]["detail"].startswith("15W") and out["facts"]["boot_id"]


def test_doctor_refuses_a_jetpack6_profile_on_an_r35_board(device, tmp_path, run_harness):
    (device.board_root / "etc" / "nv_tegra_release").write_text("# R35 (release), REVISION: 5.0, GCID: 35550185\n")
    p = run_harness("doctor", "--profile", write_profile(tmp_path, device))
    assert p.returncode == 1
    assert "wrong image for this board" in " ".join(p.stdout.split())


def test_doctor_unknown_l4t_and_unreachable(device, tmp_path, run_harness):
    (device.board_root / "etc" / "nv_tegra_release").unlink()
    p = run_harness("doctor", "--profile", write_profile(tmp_path, device), "--json")
    assert p.returncode == 1 and "no or unknown L4T release" in p.stdout
    device.stop()
    p = run_harness("doctor", "--profile", write_profile(tmp_path, device))
    assert p.returncode == 2 and "unreachable" in p.stderr and "Traceback" not in p.stderr


def test_preflight_evaluation_without_ssh():
    from harness.remote.preflight import evaluate, l4t_major

    prof = DeviceProfile.model_validate({"name": "x", "kind": "jetson", "runtime": "docker",
                                         "container": {"nvidia_runtime": True}, "expect": {"l4t_major": 35}})
    checks = {c.name: c for c in evaluate(prof, {"l4t": "# R35 (release), REVISION: 5.0", "docker": "/usr/bin/docker",
                                                 "docker_runtimes": '{"runc":{}}', "disk_free_kb": "104857600"})}
    assert checks["l4t"].ok and checks["docker"].ok and checks["disk"].ok
    assert not checks["nvidia runtime"].ok and "nvidia-container-toolkit" in checks["nvidia runtime"].detail
    assert l4t_major("# R36 (release), REVISION: 4.0") == 36 and l4t_major("garbage") is None


def test_preflight_reports_the_image_and_a_jetson_stats_mismatch():
    import json

    from harness.remote.preflight import evaluate

    prof = DeviceProfile.model_validate({"name": "x", "kind": "jetson", "runtime": "docker",
                                         "container": {"image": "edge-harness:l4t-r36", "mount_jtop_socket": True}})
    base = {"docker": "/usr/bin/docker", "disk_free_kb": "104857600", "jtop_socket": "yes", "jtop_version": "4.3.2"}
    missing = {c.name: c for c in evaluate(prof, {**base, "image_versions": "<no value>"})}
    assert missing["image"].ok and "deploy ships it" in missing["image"].detail and "jetson-stats" not in missing
    label = {"flavor": "l4t-r36", "torch": "2.5.0a0", "tensorrt": "10.3.0", "harness": "0.1.0"}
    same = {c.name: c for c in evaluate(prof, {**base, "image_versions": json.dumps({**label, "jetson_stats": "4.3.1"})})}
    assert same["jetson-stats"].ok and "TensorRT 10.3.0" in same["image"].detail
    other = {c.name: c for c in evaluate(prof, {**base, "image_versions": json.dumps({**label, "jetson_stats": "4.2.12"})})}
    assert not other["jetson-stats"].ok and "JETSON_STATS_VERSION=4.3.2" in other["jetson-stats"].detail
