"""The device-side virtualenv for ``runtime: host``: created by the harness, holding this harness version.

``<workdir>/venv`` is made with ``--system-site-packages`` so the device's own
torch / onnxruntime / TensorRT (JetPack's wheels) are used, and this harness is
installed into it from a wheel built here (``--no-deps``: the device's packages
are not replaced). A ``harness-version`` stamp skips the install next time.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import harness
from harness.errors import BenchmarkError
from harness.image.wheel import build_wheel


def ensure_venv(conn, workdir: str, python: str) -> str:
    """Create/refresh ``<workdir>/venv``; returns its python."""
    venv = f"{workdir}/venv"
    vpy = f"{venv}/bin/python"
    stamp = conn.run(["cat", f"{venv}/harness-version"])
    if stamp.ok and stamp.stdout.strip() == harness.__version__ and conn.run(["test", "-x", vpy]).ok:
        return vpy
    r = conn.run([python, "-m", "venv", "--system-site-packages", venv], timeout_s=600)
    if not r.ok:
        raise BenchmarkError(f"{conn.where}: cannot create {venv}: {r.stderr.strip()[-300:]}",
                          "install python3-venv on the device (sudo apt-get install python3-venv)")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(Path(tmp))
        remote_wheel = f"{venv}/{wheel.name}"
        conn.put(wheel, remote_wheel)
    # by a relative name: pip reads "; ..." in a path as an environment marker
    r = conn.run(["sh", "-c", 'cd "$1" && "$2" -m pip install -q --no-deps --force-reinstall "./$3"', "sh", venv, vpy,
                  wheel.name], timeout_s=600)
    if not r.ok:
        raise BenchmarkError(f"{conn.where}: installing the harness into {venv} failed: {r.stderr.strip()[-300:]}",
                          "check pip on the device")
    conn.run(["sh", "-c", 'printf %s "$1" > "$2"', "sh", harness.__version__, f"{venv}/harness-version"])
    return vpy
