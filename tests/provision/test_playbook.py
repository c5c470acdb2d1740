"""ansible-playbook's command line, its PLAY RECAP and a missing ansible-playbook (no Ansible needed)."""

import sys
from pathlib import Path

import pytest

from harness.errors import ProvisionError
from harness.provision import parse_recap, provision
from harness.provision.playbook import ansible_playbook_exe, playbook_argv, run_streaming
from harness.testing.attacks import attacks, timed

OUTPUT = """\
PLAY [Provision edge-harness devices] ******************************************

TASK [harness_base : Rotate the harness logs] **********************************
changed: [nano-1]

PLAY RECAP *********************************************************************
nano-1                     : ok=40   changed=12   unreachable=0    failed=0    skipped=25   rescued=0    ignored=0
nano-2.lab.example         : ok=3    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0
orin-nx                    : ok=17   changed=1    unreachable=0    failed=1    skipped=4    rescued=1    ignored=2

"""


def test_recap_is_parsed_per_host():
    recap = parse_recap(OUTPUT)
    assert list(recap) == ["nano-1", "nano-2.lab.example", "orin-nx"]
    assert (recap["nano-1"].ok, recap["nano-1"].changed, recap["nano-1"].skipped) == (40, 12, 25)
    assert recap["nano-1"].succeeded
    assert recap["nano-2.lab.example"].unreachable == 1 and not recap["nano-2.lab.example"].succeeded
    assert (recap["orin-nx"].failed, recap["orin-nx"].rescued, recap["orin-nx"].ignored) == (1, 1, 2)
    assert parse_recap("ERROR! the playbook could not be found") == {}
    # two plays, two recaps: the last one counts
    assert parse_recap(OUTPUT.replace("changed=12", "changed=9") + OUTPUT)["nano-1"].changed == 12


# A device's words reach the output (a task's stdout; a failed play has no recap of its own after them).
RECAP_ATTACKS = {name: "PLAY RECAP ***\n" + text for name, text in attacks(
    "h : ", "h : a=1", "a=1", "h : ok=1 ", "=1", ":").items()}
RECAP_ATTACKS["a count of 4 MiB of digits, then not a digit"] = "PLAY RECAP\nh : a=" + "1" * (4 << 20) + "x"


@pytest.mark.parametrize("name", sorted(RECAP_ATTACKS))
def test_the_recap_parser_is_linear_on_hostile_output(name):
    recap = timed(parse_recap, RECAP_ATTACKS[name])
    assert isinstance(recap, dict) and all(r.ok >= 0 for r in recap.values())


def test_recap_lines_that_are_not_counts_are_skipped_not_raised():
    text = ("PLAY RECAP\nh1 : ok=1changed=2\nfe80::1 : ok=2 failed=0\nh2 : ok=1 note=x\nh3 :\n"
            "h4 : ok=" + "9" * 5000 + "\n")
    recap = timed(parse_recap, text)
    assert list(recap) == ["fe80::1"] and recap["fe80::1"].ok == 2


def test_missing_ansible_playbook_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProvisionError, match="ansible-playbook not found") as e:
        ansible_playbook_exe()
    assert "pip install ansible-core" in e.value.hint
    (tmp_path / "ansible-playbook").write_text("#!/bin/sh\n")
    (tmp_path / "ansible-playbook").chmod(0o755)
    assert ansible_playbook_exe() == str(tmp_path / "ansible-playbook")


def test_argv_orders_inventories_and_passes_extra_vars():
    argv = playbook_argv("ap", Path("site.yml"), [Path("rendered.yml"), Path("user.yml")], limit="jetsons", check=True,
                         diff=True, extra_vars=["a=1", '{"b": 2}'], verbosity=2)
    assert argv == ["ap", "site.yml", "-i", "rendered.yml", "-i", "user.yml", "--limit", "jetsons", "--check", "--diff",
                    "--extra-vars", "a=1", "--extra-vars", '{"b": 2}', "-vv"]


def test_streaming_and_timeout(tmp_path):
    lines = []
    rc, out = run_streaming(["sh", "-c", "echo one; echo two >&2; exit 3"], {"PATH": "/usr/bin:/bin"}, tmp_path, lines.append)
    assert rc == 3 and lines == ["one", "two"] and out == "one\ntwo\n"
    with pytest.raises(ProvisionError, match="did not finish within 0.5 s"):
        run_streaming(["sh", "-c", "echo start; sleep 30"], {"PATH": "/usr/bin:/bin"}, tmp_path, None, timeout_s=0.5)


def test_a_run_that_reaches_no_host_is_an_error(tmp_path):
    if not (Path(sys.executable).parent / "ansible-playbook").exists():
        pytest.skip("ansible-playbook is not installed (pip install ansible-core)")
    with pytest.raises(ProvisionError, match=r"ansible-playbook provisioned no host \(exit [1-9]") as e:
        provision("orin-nano", extra_vars=[f"@{tmp_path / 'missing.yml'}"], on_line=None, timeout_s=120)
    assert "\n" not in e.value.message and "--extra-vars" in e.value.hint
    inv = tmp_path / "inventory.yaml"
    inv.write_text("all:\n  hosts:\n    nano-1: {ansible_host: 192.0.2.11}\n")
    with pytest.raises(ProvisionError, match=r"provisioned no host .*no hosts to target"):
        provision(inventory=inv, limit="no-such-group", on_line=None, timeout_s=120)
