import os
import subprocess
import sys
from pathlib import Path

HARNESS = Path(sys.executable).parent / "harness"


def harness(*args, cwd=None, timeout=600, env=None):
    """Run the real console script; returns CompletedProcess with text output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([str(HARNESS), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=full_env, stdin=subprocess.DEVNULL)


def assert_user_error(proc, *fragments):
    """Exit code 2, one 'error:' line naming the problem, no traceback."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    first = proc.stderr.strip().splitlines()[0]
    assert first.startswith("error: ")
    for f in fragments:
        assert f in first, first
