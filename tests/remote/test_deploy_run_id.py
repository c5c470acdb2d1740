"""A deploy under a run id in use is refused before anything connects; a deploy that fails before its first cell
leaves no run directory (``harness compare results/*`` passes over an empty one). In-process, with the fake link."""

import json

import pytest
import yaml

from harness.config.profiles import DeviceProfile
from harness.config.suite import Suite
from harness.errors import RemoteError, ResultsError
from harness.remote.deploy import DeployPlan, deploy
from harness.testing.fakes.connection import FakeConnection
from harness.testing.fakes.jetson import write_fake_jetson

SUITE = {"name": "tiny", "frames": 6, "warmup": 2, "imgsz": 160, "experiments": [{"name": "b", "models": ["yolov8n"]}]}


class Links(list):
    board = None


@pytest.fixture
def opened(monkeypatch, tmp_path):
    """Every connection deploy opens, each a FakeConnection on a fake L4T board (``board``)."""
    links = Links()
    board = write_fake_jetson(tmp_path / "board")
    (board / "etc").mkdir(exist_ok=True)
    (board / "etc" / "nv_tegra_release").write_text("# R36 (release), REVISION: 4.0\n")

    class Dial:
        def __init__(self, *args, **kwargs) -> None:
            pass

        def open(self) -> FakeConnection:
            links.append(FakeConnection(board))
            return links[-1]

    monkeypatch.setattr("harness.remote.deploy.DeviceConnection", Dial)
    links.board = board
    return links


def plan(tmp_path, run_id="r1", probe_root=None) -> DeployPlan:
    prof = DeviceProfile.model_validate({
        "name": "fake-nano", "kind": "jetson", "runtime": "host", "connection": {"host": "127.0.0.1"},
        "expect": {"l4t_major": 36}, "probe_root": str(probe_root or tmp_path / "no-board"),
        "host_runtime": {"workdir": str(tmp_path / "wd"), "venv": False}})
    return DeployPlan(prof, Suite.model_validate(SUITE), tmp_path / "seq", run_id, tmp_path / "results", poll_s=0.01)


def test_a_run_id_in_use_is_refused_before_any_connection(tmp_path, opened):
    run = tmp_path / "results" / "r1"
    run.mkdir(parents=True)
    (run / "deploy.json").write_text("{}")
    with pytest.raises(ResultsError) as e:
        deploy(plan(tmp_path))
    assert e.value.message == f"{run}: run 'r1' already exists"
    assert "`harness deploy --resume --run-id r1`" in e.value.hint and "new --run-id" in e.value.hint
    assert opened == [] and (run / "deploy.json").read_text() == "{}"


def test_the_cli_refuses_a_run_id_in_use_before_connecting(tmp_path, run_harness):
    from tests.cli.conftest import assert_user_error

    (tmp_path / "results" / "r1").mkdir(parents=True)
    (tmp_path / "results" / "r1" / "manifest.json").write_text("{}")
    prof = tmp_path / "p.yaml"  # port 9 of a TEST-NET address: a connection attempt would time out, not refuse
    prof.write_text(yaml.safe_dump({"name": "far", "kind": "jetson", "connection": {"host": "192.0.2.1", "port": 9}}))
    p = run_harness("deploy", "--profile", prof, "--run-id", "r1", "--out", tmp_path / "results",
                    "--device-sequence", "/data/seq", timeout=60)
    assert_user_error(p, "run 'r1' already exists")
    assert "--resume --run-id r1" in p.stderr


def test_a_deploy_that_fails_preflight_leaves_no_run_directory(tmp_path, opened):
    with pytest.raises(RemoteError, match="preflight failed"):
        deploy(plan(tmp_path))
    assert len(opened) == 1
    assert not (tmp_path / "results" / "r1").exists()


def test_a_run_id_on_the_device_is_refused_before_the_lock_and_leaves_nothing(tmp_path, opened):
    device_run = tmp_path / "wd" / "runs" / "r1"
    device_run.mkdir(parents=True)
    (device_run / "manifest.json").write_text(json.dumps({"state": "complete"}))
    with pytest.raises(ResultsError, match=r"run 'r1' already exists on the device"):
        deploy(plan(tmp_path, probe_root=opened.board))
    assert not (tmp_path / "wd" / "lock.json").exists()
    assert not (tmp_path / "results" / "r1").exists()
    assert not any("runs/r1" in " ".join(c) and c[0] != "test" for c in opened[0].commands)


def test_compare_passes_over_a_directory_without_records(tmp_path):
    from harness.results.load import load_runs
    from harness.config.suite import Cell
    from harness.testing.fakes.runs import make_run, record

    make_run(tmp_path / "results", "ok", "orin", [record("ok", "orin", Cell("b", "yolov8n", "pytorch", "fp32"), p50=10.0)])
    (tmp_path / "results" / "failed-deploy").mkdir()
    said = []
    runs = load_runs(sorted((tmp_path / "results").iterdir()), said.append)
    assert [r.root.name for r in runs] == ["ok"]
    assert said == [f"{tmp_path / 'results' / 'failed-deploy'}: no records (not a run, or a deploy that failed "
                    "before its first cell): skipped"]
    with pytest.raises(ResultsError, match="not a run directory"):
        load_runs([tmp_path / "results" / "failed-deploy"])
