"""A stand-in for a fast engine: a backend that takes ``ms`` per frame (a busy spin, as a GPU kernel's wait is)
and finds nothing. With a fake power tree at a known power, energy per frame is known exactly."""

from __future__ import annotations

import time


class StandInBackend:
    """Called like an ultralytics AutoBackend: returns a (1, 4 + classes, anchors) tensor of zeros."""

    end2end = False

    def __init__(self, ms: float = 3.0, classes: int = 80, anchors: int = 8) -> None:
        self.s = ms / 1000.0
        self.shape = (1, 4 + classes, anchors)

    def __call__(self, x):
        import torch

        t_end = time.perf_counter() + self.s
        while time.perf_counter() < t_end:
            pass
        return torch.zeros(self.shape)


def stand_in_variant(ms: float = 3.0):
    """A LoadedVariant around StandInBackend (what ``models.variants.load_variant`` returns for a real model)."""
    from pathlib import Path

    import torch

    from harness.models.backends.base import LoadedVariant
    from harness.models.weights import Weights

    weights = Weights(Path("stand-in.pt"), "random-init", "stand-in", "0" * 64)
    facts = {"params": 0, "weights_provenance": "random-init", "weights_file_bytes": 0, "artifact_bytes": 0}
    return LoadedVariant(StandInBackend(ms), torch.device("cpu"), False, "stand-in", weights.path, weights, facts,
                         {"load_s": 0.0}, 0)
