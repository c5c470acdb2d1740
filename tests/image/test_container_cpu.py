"""The CPU image built for real with podman from docker/, the quick suite run inside it, and a deploy into it.

Marked ``container`` (run alone: ``pytest -m container``). The base is a Debian
minbase rootfs imported into podman (harness.testing.infra.podman); the image keeps in
podman's storage between runs, so only the first run builds torch's layer
(minutes); later runs rebuild the harness layer when the source changed.
"""

from __future__ import annotations

import json
import time

import pytest

from harness.config.profiles import DeviceProfile
from harness.testing.infra import podman as pm
pytestmark = [pytest.mark.container, pytest.mark.slow]

TORCH = {"TORCH_INDEX_URL": "https://pypi.org/simple", "TORCH_SPEC": "torch==2.14.1 torchvision==0.29.1"}


def cpu_profile(**kw) -> DeviceProfile:
    return DeviceProfile.model_validate({"name": "cpu-podman", "kind": "desktop-cpu", "runtime": "podman", "compute": "cpu",
                                         "container": {"image": "edge-harness:cpu-test"}, **kw})


@pytest.fixture(scope="module")
def cpu_image(podman_env):
    """``harness image build`` of the CPU flavour (torch from this machine's wheel mirror instead of PyPI's CPU index)."""
    from harness.image.build import build_local, plan_build

    # PyTorch's CPU index is not reachable here; the only torch with a matching torchvision on this machine
    # is the CUDA build, so this image is bigger than a real CPU image (reported in the test output).
    args = {"BASE_IMAGE": pm.base_image(), **TORCH, **pm.pip_build_args()}
    plan = plan_build(cpu_profile(), args, "local", "podman", build_opts=pm.build_opts(pip=True))
    lines: list[str] = []
    result = build_local(plan, lines.append)
    pm.drop_older_tags("localhost/edge-harness:cpu-", {plan.tag, "edge-harness:cpu-test"})
    print(f"\nCPU image {result.tag}: {'cache hit' if result.cache_hit else f'built in {result.seconds:.0f} s'}, "
          f"{(result.size_bytes or 0) / 1e9:.2f} GB")
    return result


def test_image_is_tagged_by_content_and_labelled_with_its_versions(cpu_image):
    from importlib import metadata

    import harness

    assert cpu_image.tag.startswith(f"edge-harness:cpu-{harness.__version__}-")
    labels = json.loads(pm.podman("image", "inspect", "--format", "{{json .Config.Labels}}", cpu_image.tag).stdout)
    versions = json.loads(labels["io.edge-harness.versions"])
    assert versions["flavor"] == "cpu" and versions["harness"] == harness.__version__
    assert versions["torch"] == "2.14.1" and versions["ultralytics"] == metadata.version("ultralytics")
    assert versions["onnxruntime"] == "1.31.1" and versions["python"].startswith("3.11")
    assert labels["io.edge-harness.content-key"] == cpu_image.key
    assert versions == cpu_image.versions
    # the profile's image name points at the same image
    ids = {pm.podman("image", "inspect", "--format", "{{.Id}}", t).stdout.strip() for t in (cpu_image.tag, "edge-harness:cpu-test")}
    assert len(ids) == 1


def test_second_build_is_a_cache_hit(cpu_image):
    from harness.image.build import build_local, plan_build

    args = {"BASE_IMAGE": pm.base_image(), **TORCH, **pm.pip_build_args()}
    t0 = time.perf_counter()
    again = build_local(plan_build(cpu_profile(), args, "local", "podman", build_opts=pm.build_opts(pip=True)))
    assert again.cache_hit and again.tag == cpu_image.tag and again.image_id == cpu_image.image_id
    assert time.perf_counter() - t0 < 30


def test_cli_build_reports_the_cache_hit_as_json(cpu_image, tmp_path, run_harness):
    prof = tmp_path / "cpu-podman.yaml"
    prof.write_text("name: cpu-podman\nkind: desktop-cpu\nruntime: podman\ncontainer: {image: 'edge-harness:cpu-test'}\n")
    args = {"BASE_IMAGE": pm.base_image(), **TORCH, **pm.pip_build_args()}
    argv = ["image", "build", "--profile", prof, "--where", "local", "--json",
            *[f"--build-arg={k}={v}" for k, v in args.items()], *[f"--build-opt={o}" for o in pm.build_opts(pip=True)]]
    p = run_harness(*argv)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["cache_hit"] is True and out["tag"] == cpu_image.tag and out["versions"]["flavor"] == "cpu"
    key = run_harness("image", "key", "--profile", prof, *[f"--build-arg={k}={v}" for k, v in args.items()])
    assert key.stdout.strip() == cpu_image.tag


def test_quick_suite_runs_inside_the_image(cpu_image, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    r = pm.podman("run", "--rm", "--network=none", "-v", f"{work}:/work", "-e", "HARNESS_OFFLINE=1", cpu_image.tag,
                  "run", "--suite", "quick", "--frames", "6", "--imgsz", "320", "--repeats", "1", "--out", "/work/results",
                  "--run-id", "in-image",
                  "--weights", "random",  # every format runs (the reference's wheel is not in the image: offline it is skipped)
                  timeout_s=900, check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    recs = [json.loads(line) for line in (work / "results/in-image/records.jsonl").read_text().splitlines()]
    by_status = {s: [x for x in recs if x["status"] == s] for s in ("ok", "skipped", "failed")}
    assert not by_status["failed"], [x["reason"] for x in by_status["failed"]]
    assert {x["cell"]["format"] for x in by_status["ok"]} >= {"pytorch", "onnx"}
    assert all(x["cell"]["format"] == "tensorrt" for x in by_status["skipped"])  # no TensorRT in a CPU image
    for rec in recs:  # every record carries the image's versions
        assert rec["environment"]["image"] == cpu_image.versions


def test_deploy_runs_in_the_image_on_a_loopback_podman_device(cpu_image, tmp_path, small_seq, harness_cache):
    from harness.remote.deploy import DeployPlan, deploy
    from harness.config.suite import Suite
    from harness.testing.infra.sshd import make_device

    dev = make_device(tmp_path / "dev")
    dev.start(env={"CONTAINERS_CONF": str(pm.conf_path())})
    board = tmp_path / "board"  # the device's files as a fake L4T board has them (the profile's probe_root)
    (board / "etc").mkdir(parents=True)
    (board / "proc/device-tree").mkdir(parents=True)
    (board / "etc/nv_tegra_release").write_text("# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, "
                                                "EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025\n")
    (board / "proc/device-tree/model").write_bytes(b"NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super\x00")
    try:
        prof = cpu_profile(connection={"host": "127.0.0.1", "user": "root", "port": dev.port, "key_file": str(dev.client_key),
                                       "known_hosts": str(dev.known_hosts), "connect_timeout_s": 5},
                           container={"image": "edge-harness:cpu-test", "extra_args": ["-e", "HARNESS_OFFLINE=1"]},
                           host_runtime={"workdir": str(tmp_path / "device-work")}, probe_root=str(board))
        suite = Suite.model_validate({"name": "tiny", "frames": 6, "warmup": 2, "imgsz": 160,
                                      "experiments": [{"name": "baseline", "models": ["yolov8n"],
                                                       "variants": [{"format": "pytorch", "precision": "fp32"},
                                                                    {"format": "onnx", "precision": "fp32"}]}]})
        events: list = []
        store = deploy(DeployPlan(prof, suite, small_seq, "pod1", tmp_path / "results", poll_s=0.5), events.append)
    except Exception:
        logs = pm.podman("logs", "harness-pod1", check=False)
        print("container log:\n", (logs.stdout + logs.stderr)[-4000:])
        raise
    finally:
        dev.kill_all()
        pm.podman("rm", "-f", "harness-pod1", check=False)
    recs = store.read_records()
    assert [r["status"] for r in recs] == ["ok", "ok"]
    assert all(r["environment"]["image"]["flavor"] == "cpu" for r in recs)
    for r in recs:  # the board's release and model reached the container (the image has neither)
        env = r["environment"]
        assert env["l4t"] == "36.4.3" and env["image"].get("l4t") is None
        assert env["board_model"] == "NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super"
    shipped = next(e for e in events if e.name == "shipped").info
    assert shipped["image"]["skipped"] is True  # the "device" shares this podman storage: same image ID, nothing sent


def test_build_on_the_device_over_ssh(cpu_image, tmp_path):
    """``--where device``: the context goes over SFTP, the device's engine builds it (layers cached there)."""
    from harness.image.build import build_on_device, plan_build
    from harness.remote.connection import DeviceConnection
    from harness.testing.infra.sshd import make_device

    dev = make_device(tmp_path / "dev")
    dev.start(env={"CONTAINERS_CONF": str(pm.conf_path())})
    prof = cpu_profile(connection={"host": "127.0.0.1", "user": "root", "port": dev.port, "key_file": str(dev.client_key),
                                   "known_hosts": str(dev.known_hosts), "connect_timeout_s": 5})
    args = {"BASE_IMAGE": pm.base_image(), **TORCH, **pm.pip_build_args()}
    plan = plan_build(prof, args, "device", build_opts=pm.build_opts(pip=True))
    assert plan.where == "device" and plan.tag == cpu_image.tag  # same inputs, same content tag wherever it is built
    lines: list[str] = []
    try:
        with DeviceConnection(prof.connection) as conn:
            hit = build_on_device(plan, conn, str(tmp_path / "device-work"), lines.append)
            assert hit.cache_hit  # the device already has the content tag: nothing shipped or built
            plan.force = True
            built = build_on_device(plan, conn, str(tmp_path / "device-work"), lines.append)
    finally:
        dev.kill_all()
    assert not built.cache_hit and built.versions == cpu_image.versions
    assert any("shipping the build context" in line for line in lines)
    assert not (tmp_path / "device-work" / "image-build").exists() or not any((tmp_path / "device-work" / "image-build").iterdir())
