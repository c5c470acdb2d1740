"""Stand-ins for a Jetson's power tools: moved to ``harness.sim.jetson`` (the simulated board, ``harness sim``, uses it too); tests and
benchmarks keep importing it by this name, which is the same module object (so monkeypatching either name works)."""

import sys

from harness.sim import jetson as _moved

sys.modules[__name__] = _moved
