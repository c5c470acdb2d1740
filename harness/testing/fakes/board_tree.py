"""Fake Jetson board trees: moved to ``harness.sim.board_tree`` (the simulated board, ``harness sim``, uses it too); tests and
benchmarks keep importing it by this name, which is the same module object (so monkeypatching either name works)."""

import sys

from harness.sim import board_tree as _moved

sys.modules[__name__] = _moved
