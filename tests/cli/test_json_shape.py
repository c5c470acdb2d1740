"""Every ``--json`` prints one JSON object (lists under ``rows``), so a script reads each command the same way."""

import json
from pathlib import Path

import pytest

TEGRA = Path(__file__).resolve().parents[1] / "boards" / "files" / "tegrastats" / "xavier_nx_jp5.1.2.txt"


@pytest.mark.parametrize("args", [
    ("models", "formats", "--compute", "cpu", "--json"),
    ("telemetry", "probe", "--json"),
    ("telemetry", "parse-tegrastats", str(TEGRA), "--json"),
    ("sim", "status", "--json"),
], ids=lambda a: " ".join(a[:2]))
def test_json_output_is_one_object(args, run_harness, tmp_path):
    p = run_harness(*args, env={"HARNESS_STATE_DIR": str(tmp_path / "state")})
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert isinstance(doc, dict), f"harness {' '.join(args)} printed a {type(doc).__name__}"
    if "rows" in doc:
        assert isinstance(doc["rows"], list)
