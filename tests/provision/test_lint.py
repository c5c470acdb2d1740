"""ansible/ passes ansible-lint at the `production` profile, offline (ansible/.ansible-lint)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.provision import ansible_dir

pytestmark = [pytest.mark.provision, pytest.mark.slow]


def test_ansible_lint_production_profile_passes():
    bindir = Path(sys.executable).parent
    if not (bindir / "ansible-lint").exists():
        pytest.skip("ansible-lint is not installed (pip install ansible-lint)")
    adir = ansible_dir()
    env = {**os.environ, "PATH": f"{bindir}:{os.environ.get('PATH', '')}", "NO_COLOR": "1", "ANSIBLE_CONFIG": str(adir / "ansible.cfg")}
    r = subprocess.run([str(bindir / "ansible-lint"), "--offline", "--profile", "production"], cwd=adir, env=env, check=False,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert "Profile 'production' was required, and it passed" in r.stdout + r.stderr
