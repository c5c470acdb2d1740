"""harness_power: a power mode by name resolves to this board's ID; locked clocks are recognised.

Runs the role on this machine (connection local, check mode, no root, no systemd) against
the fake Orin Nano nvpmodel.conf and fake ``nvpmodel`` / ``jetson_clocks`` under a
temporary root; only their read-only queries run (check mode).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.provision import ansible_dir
from harness.testing.fakes.jetson import write_fake_jetson

pytestmark = [pytest.mark.provision, pytest.mark.slow]

PLAY = """\
- name: Power mode and clocks
  hosts: localhost
  connection: local
  gather_facts: true
  tasks:
    - name: The harness_power role
      ansible.builtin.include_role:
        name: harness_power
    - name: Report
      ansible.builtin.debug:
        msg: "clocks locked: {{ harness_power_clocks_locked }}"
"""


def apply(tmp_path: Path, mode: str, clocks_locked: bool = False) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "ansible-playbook"
    if not exe.exists():
        pytest.skip("ansible-playbook is not installed (pip install ansible-core)")
    root = write_fake_jetson(tmp_path / "root")
    if clocks_locked:
        (root / "var/lib/fake-jetson").mkdir(parents=True)
        (root / "var/lib/fake-jetson/clocks_locked").touch()
    (tmp_path / "play.yml").write_text(PLAY)
    extra = {"harness_facts_override": {"is_jetson": True, "board_model": "Fake Orin Nano", "l4t_major": 36, "systemd": False},
             "harness_power_nvpmodel_conf": str(root / "etc/nvpmodel.conf"), "harness_power_nvpmodel_mode": mode,
             "harness_power_jetson_clocks": True, "harness_power_clocks_store": str(root / "var/lib/edge-harness/clocks.conf"),
             "ansible_python_interpreter": sys.executable}
    env = {**os.environ, "ANSIBLE_CONFIG": str(ansible_dir() / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "FAKE_JETSON_ROOT": str(root), "PATH": f"{root}/usr/sbin:{root}/usr/bin:{os.environ['PATH']}"}
    return subprocess.run([str(exe), "play.yml", "-i", "localhost,", "--check", "-e", json.dumps(extra)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_mode_name_resolves_to_this_boards_id(tmp_path):
    r = apply(tmp_path, "7W")
    assert r.returncode == 0, r.stdout[-3000:]
    assert "power mode 15W -> 7W (ID 3 on this board)" in r.stdout  # ID 3, not its position in the file
    assert "clocks locked: False" in r.stdout
    assert not (tmp_path / "root/var/lib/fake-jetson/nvpmodel").exists()  # check mode: nvpmodel -m never ran


def test_unknown_mode_fails_naming_the_available_ones(tmp_path):
    r = apply(tmp_path, "MAXN")
    assert r.returncode != 0
    assert ("power mode MAXN is not defined in " in r.stdout
            and "available: 15W, 25W, MAXN_SUPER, 7W; fix power_mode.nvpmodel in the profile" in r.stdout), r.stdout[-3000:]


def test_current_mode_and_locked_clocks_are_left_alone(tmp_path):
    r = apply(tmp_path, "15W", clocks_locked=True)
    assert r.returncode == 0 and "power mode 15W ->" not in r.stdout, r.stdout[-3000:]
    assert "clocks locked: True" in r.stdout
