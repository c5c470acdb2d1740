"""Real Jetson board files (tegrastats lines, nvpmodel.conf, `nvpmodel -q`, /etc/nv_tegra_release) against results
written by hand in expected.yaml. Sources, boards and trims are listed in README.md; every file must be in both."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.environment import parse_l4t
from harness.powermodes import parse_nvpmodel_conf, parse_nvpmodel_query
from harness.telemetry.backends.tegrastats import parse_line

HERE = Path(__file__).parent
FILES = HERE / "files"
EXPECTED = yaml.safe_load((HERE / "expected.yaml").read_text(encoding="utf-8"))
README = (HERE / "README.md").read_text(encoding="utf-8")
KINDS = ("tegrastats", "nvpmodel_conf", "nvpmodel_q", "nv_tegra_release")
TEGRASTATS_KEYS = ("rails_mw", "total_mw", "scope", "temps_c", "clocks_mhz", "gpu_util_pct")
LIMIT_FIELDS = ("cpu_online", "cpu_max_khz", "gpu_max_hz")


def _text(kind: str, name: str) -> str:
    return (FILES / kind / name).read_bytes().decode("utf-8")


def _entries(kind: str) -> list[str]:
    return sorted(EXPECTED.get(kind) or {})


def _same(got, want) -> bool:
    """Equality with floats compared approximately; None, strings and dict keys exactly."""
    if want is None or got is None:
        return got is None and want is None
    if isinstance(want, dict):
        return isinstance(got, dict) and set(got) == set(want) and all(_same(got[k], want[k]) for k in want)
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and got == pytest.approx(want)
    return got == want


# --- the corpus is complete: every file has an expected entry and a README line, and the reverse ----------------

def _files(kind: str) -> list[str]:
    return sorted(p.name for p in (FILES / kind).iterdir() if p.is_file())


@pytest.mark.parametrize("kind", KINDS)
def test_every_file_has_an_expected_entry_and_back(kind):
    assert _files(kind) == _entries(kind)


def test_no_stray_kinds():
    assert sorted(p.name for p in FILES.iterdir()) == sorted(KINDS)
    assert set(EXPECTED) == set(KINDS)


@pytest.mark.parametrize("path", sorted(p.relative_to(FILES).as_posix() for p in FILES.rglob("*") if p.is_file()))
def test_every_file_is_listed_in_the_readme(path):
    assert f"`{path}`" in README, f"README.md has no line for `{path}`"


def test_every_tegrastats_file_is_one_line():
    for name in _files("tegrastats"):
        text = _text("tegrastats", name)
        assert len(text.splitlines()) == 1, name


# --- no parser raises on any corpus file (whatever its kind) -----------------------------------------------------

@pytest.mark.parametrize("path", sorted(p.relative_to(FILES).as_posix() for p in FILES.rglob("*") if p.is_file()))
def test_no_parser_raises(path):
    text = (FILES / path).read_bytes().decode("utf-8")
    for line in text.splitlines():
        parse_line(line)
    parse_nvpmodel_conf(text)
    parse_nvpmodel_query(text)
    parse_l4t(text)


# --- tegrastats -------------------------------------------------------------------------------------------------

def _tegrastats_cases():
    for name in _entries("tegrastats"):
        want = EXPECTED["tegrastats"][name]["expect"]
        if want is None:
            yield pytest.param(name, None, id=f"{name}-none")
            continue
        for key in TEGRASTATS_KEYS:
            yield pytest.param(name, key, id=f"{name}-{key}")


@pytest.mark.parametrize("name,key", list(_tegrastats_cases()))
def test_tegrastats(name, key):
    want = EXPECTED["tegrastats"][name]["expect"]
    got = parse_line(_text("tegrastats", name).rstrip("\n"))
    if key is None:
        assert got is None
        return
    assert got is not None, "parse_line returned None"
    assert key in want, f"expected.yaml misses {key} for {name}"
    assert key in got, f"parse_line gave no {key!r}"
    assert _same(got[key], want[key]), f"{key}: parser {got[key]!r}, expected {want[key]!r}"


# --- nvpmodel.conf ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", _entries("nvpmodel_conf"))
def test_nvpmodel_conf_ids_and_default(name):
    want = EXPECTED["nvpmodel_conf"][name]
    modes = parse_nvpmodel_conf(_text("nvpmodel_conf", name))
    assert dict(modes.ids) == want["ids"]
    assert list(modes.ids) == list(want["ids"]), "modes in file order"
    assert modes.default_id == want["default_id"]


def _conf_limit_cases():
    for name in _entries("nvpmodel_conf"):
        for mode in EXPECTED["nvpmodel_conf"][name]["limits"]:
            yield pytest.param(name, mode, id=f"{name}-{mode}")


@pytest.mark.parametrize("name,mode", list(_conf_limit_cases()))
def test_nvpmodel_conf_limits(name, mode):
    want = dict(zip(LIMIT_FIELDS, EXPECTED["nvpmodel_conf"][name]["limits"][mode]))
    modes = parse_nvpmodel_conf(_text("nvpmodel_conf", name))
    assert set(modes.limits) == set(EXPECTED["nvpmodel_conf"][name]["limits"])
    got = {f: getattr(modes.limits[mode], f) for f in LIMIT_FIELDS}
    assert got == want


# --- nvpmodel -q --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", _entries("nvpmodel_q"))
def test_nvpmodel_query(name):
    want = tuple(EXPECTED["nvpmodel_q"][name]["expect"])
    assert parse_nvpmodel_query(_text("nvpmodel_q", name)) == want


# --- /etc/nv_tegra_release ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", _entries("nv_tegra_release"))
def test_nv_tegra_release(name):
    want = EXPECTED["nv_tegra_release"][name]
    rel = parse_l4t(_text("nv_tegra_release", name))
    assert rel is not None
    assert (rel.major, rel.revision, rel.version) == (want["major"], want["revision"], want["version"])


def test_no_shipped_profile_calls_a_real_pmic_line_hot():
    """Real Nano / Xavier NX lines read PMIC@100C: the zones that count as heat (telemetry.zones) leave it out, so
    no shipped profile's temp_limit_c flags them; the placeholder and the faulty -45C sensors are named as excluded."""
    from harness.config.profiles import load_profile, profile_names
    from harness.telemetry.zones import counted, excluded

    limits = [p.telemetry.temp_limit_c for p in map(load_profile, profile_names()) if p.telemetry.temp_limit_c]
    pmic_lines = [n for n in _entries("tegrastats") if "PMIC@100C" in _text("tegrastats", n)]
    assert len(pmic_lines) >= 2 and limits
    for name in pmic_lines:
        temps = parse_line(_text("tegrastats", name))["temps_c"]
        assert temps["PMIC"] == 100 and "PMIC" in excluded(temps), name
        assert max(counted(temps).values()) < min(limits), name
    odd = parse_line(_text("tegrastats", "jetson_stats_emulator_tx2_style_neg45C.txt"))["temps_c"]
    assert set(excluded(odd)) == {"BCPU", "MCPU", "GPU", "PMIC"}
