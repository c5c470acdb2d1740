"""A real OpenSSH server on a loopback port: moved to ``harness.sim.sshd`` (the simulated board, ``harness sim``, uses it too); tests and
benchmarks keep importing it by this name, which is the same module object (so monkeypatching either name works)."""

import sys

from harness.sim import sshd as _moved

sys.modules[__name__] = _moved
