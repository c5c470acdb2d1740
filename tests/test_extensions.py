"""Plugins: packages installed beside the harness add a telemetry backend and an export format through entry
points, with no edit to ``harness/``: listed with their origin, selectable from a profile / a suite, recorded in
every record they made; a broken or misnamed plugin is listed as unusable and never breaks a run."""

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.conftest import assert_user_error, harness

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugins"


def install(site: Path, dist: str, version: str, entry_points: dict[str, str], packages=(),
            group="edge_harness.telemetry") -> Path:
    """A distribution in ``site`` as pip leaves one: its packages and a ``.dist-info`` with the entry points."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
    for pkg in packages:
        shutil.copytree(pkg, site / pkg.name)
    return site


@pytest.fixture
def plugin_env(tmp_path):
    site = install(tmp_path / "site", "edge-harness-usbmeter", "0.1.0",
                   {"usbmeter": "usbmeter_harness:UsbMeterSampler"}, [EXAMPLE / "usbmeter" / "usbmeter_harness"])
    install(site, "edge-harness-torchscript", "0.1.0", {"torchscript": "torchscript_harness"},
            [EXAMPLE / "torchscript" / "torchscript_harness"], group="edge_harness.formats")
    meter = tmp_path / "meter.log"
    meter.write_text("5.000V 1.400A 7.000W\n" * 3 + "5.000V 1.500A 7.500W\n")
    profile = tmp_path / "usb.yaml"
    profile.write_text("name: usb\nkind: local\nruntime: host\ntelemetry:\n  prefer: [usbmeter, none]\n"
                       "  interval_ms: 50\n  idle_s: 0.5\n")
    return {"PYTHONPATH": str(site), "USBMETER_PORT": str(meter)}, profile


def test_a_plugin_backend_is_listed_with_its_origin(plugin_env):
    env, profile = plugin_env
    p = harness("telemetry", "probe", "--profile", profile, "--json", env=env)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    usb = {b["name"]: b for b in out["backends"]}["usbmeter"]
    assert usb["origin"] == "plugin edge-harness-usbmeter 0.1.0" and usb["available"] is True
    assert "7.500 W now" in usb["reason"] and out["selected"] == "usbmeter"
    assert {b["name"]: b["origin"] for b in out["backends"]}["rapl"] == "built-in"


def test_a_plugin_format_is_listed_with_its_origin_and_what_it_runs(plugin_env):
    env, _ = plugin_env
    p = harness("models", "formats", "--compute", "cpu", "--json", env=env)
    assert p.returncode == 0, p.stderr
    rows = {(r["format"], r["precision"]): r for r in json.loads(p.stdout)["rows"]}
    assert rows[("torchscript", "fp32")]["origin"] == "plugin edge-harness-torchscript 0.1.0"
    assert rows[("torchscript", "fp32")]["available"] is True
    assert "int8 is not offered" in rows[("torchscript", "int8")]["reason"]
    assert rows[("onnx", "fp32")]["origin"] == "built-in"


@pytest.mark.slow
def test_plugins_measure_a_run_and_the_records_say_so(plugin_env, tmp_path, small_seq):
    env, profile = plugin_env
    suite = tmp_path / "s.yaml"
    suite.write_text("name: tiny\nframes: 6\nwarmup: 2\nimgsz: 64\nmin_duration_s: 1.5\nexperiments:\n"
                     "  - name: baseline\n    models: [yolov8n]\n    variants: [{format: torchscript}]\n")
    p = harness("run", "--suite", suite, "--profile", profile, "--sequence", small_seq, "--out", tmp_path / "out",
                "--run-id", "u", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    (rec,) = [json.loads(line) for line in (tmp_path / "out" / "u" / "records.jsonl").read_text().splitlines()]
    assert rec["status"] == "ok", rec.get("reason")
    power = rec["power"]
    assert power["backend"] == "usbmeter" and power["backend_origin"] == "plugin edge-harness-usbmeter 0.1.0"
    assert power["scope"] == "board_input_usb_meter" and power["mean_w"] == pytest.approx(7.5)
    assert rec["cell"]["format"] == "torchscript" and rec["runtime"] == "torchscript"
    assert rec["format_origin"] == "plugin edge-harness-torchscript 0.1.0"
    assert rec["model"]["artifact_bytes"] > 0 and rec["latency"]["total"]["p50_ms"] > 0
    header = (tmp_path / "out" / "u" / "summary.csv").read_text().splitlines()[0].split(",")
    assert {"power_backend_origin", "format_origin"} <= set(header)


def test_a_suite_naming_a_format_that_is_not_installed_is_one_line(tmp_path):
    suite = tmp_path / "s.yaml"
    suite.write_text("name: tiny\nexperiments:\n  - name: b\n    models: [yolov8n]\n    variants: [{format: torchscript}]\n")
    assert_user_error(harness("suites", "show", suite), "torchscript", "is not an export format here")


def test_a_profile_naming_a_backend_that_is_not_installed_is_one_line(plugin_env, tmp_path, small_seq):
    _, profile = plugin_env
    assert_user_error(harness("run", "--profile", profile, "--sequence", small_seq, "--out", tmp_path / "o"),
                      "usbmeter", "is not a telemetry backend here")


def test_broken_and_misnamed_plugins_are_listed_as_unusable_and_break_nothing(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "__init__.py").write_text("from harness.telemetry.sampler import NullSampler\n"
                                     "class Liar(NullSampler):\n    name = 'rapl'\n"
                                     "    def __init__(self, interval_ms):\n        super().__init__('x')\n")
    site = install(tmp_path / "site", "broken-meters", "2.0", {"gone": "no_such_module:Sampler", "rapl": "bad:Liar",
                                                               "liar": "bad:Liar"}, [bad])
    p = harness("telemetry", "probe", "--json", env={"PYTHONPATH": str(site)})
    assert p.returncode == 0, p.stderr
    rows = {(b["name"], b["origin"]): b for b in json.loads(p.stdout)["backends"]}
    gone = rows[("gone", "plugin broken-meters 2.0")]
    assert gone["available"] is False and "ModuleNotFoundError" in gone["reason"]
    assert "shadowed" in rows[("rapl", "plugin broken-meters 2.0")]["reason"]  # a built-in's name is not taken over
    assert rows[("rapl", "built-in")]["origin"] == "built-in"
    liar = rows[("liar", "plugin broken-meters 2.0")]
    assert liar["available"] is False and "does not keep the sampler contract" in liar["reason"]
