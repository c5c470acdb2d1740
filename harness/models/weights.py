"""Resolving a model name to a weights file, and recording where it came from.

Order for a name such as ``yolov8n``: an existing path (``*.pt``) as given;
``<models dir>/yolov8n.pt``; the ultralytics release download (only when not
``HARNESS_OFFLINE`` and the asset host resolves); then, with ``weights: auto``,
the architecture from ``yolov8n.yaml`` with seeded random weights, saved once
to ``<cache>/random-init/yolov8n.pt`` (provenance ``random-init``: speed-valid,
accuracy-meaningless). ``weights: pretrained`` makes the fallback an error.

The name ``reference`` is the reference detector (``models/reference.py``: a YOLOv8s person detector
fine-tuned on synthetic sequences, provenance ``reference``); with ``weights: random`` it is the
random-init YOLOv8s architecture, like any other name.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from harness import paths
from harness.fsutil import file_sha256
from harness.errors import BenchmarkError, CellSkipped

WeightsPolicy = Literal["auto", "pretrained", "random"]
ASSET_HOST = "github.com"
RANDOM_SEED = 0
REFERENCE = "reference"  # the model name of the reference detector


@dataclass(frozen=True)
class Weights:
    path: Path
    provenance: Literal["pretrained", "random-init", "fine-tuned", "reference"]
    source: str  # "file", "models-dir", "download", "architecture", "reference: ..."
    sha256: str


def _online() -> bool:
    if paths.offline():
        return False
    try:
        socket.getaddrinfo(ASSET_HOST, 443)
    except OSError:
        return False
    return True


def _download(stem: str, dest_dir: Path) -> Path | None:
    """Fetch ``<stem>.pt`` from the ultralytics releases; None when not possible."""
    if not _online():
        return None
    from ultralytics.utils.downloads import attempt_download_asset

    dest_dir.mkdir(parents=True, exist_ok=True)
    try:
        got = Path(attempt_download_asset(str(dest_dir / f"{stem}.pt")))
    except Exception:  # noqa: BLE001 - any download failure means "not available"
        return None
    return got if got.is_file() else None


def _random_init(stem: str) -> Path:
    """Build ``<stem>.yaml`` with seeded random weights, saved once to the cache."""
    from harness.cache import ContentCache

    def build(tmp: Path) -> None:
        import torch
        from ultralytics import YOLO

        torch.manual_seed(RANDOM_SEED)
        try:
            model = YOLO(f"{stem}.yaml", verbose=False)
        except (FileNotFoundError, KeyError, ValueError) as e:
            from ultralytics.utils.downloads import GITHUB_ASSETS_STEMS

            from harness.names import did_you_mean

            raise BenchmarkError(
                f"model {stem!r}{did_you_mean(stem, [*GITHUB_ASSETS_STEMS, REFERENCE])}: no weights found and no "
                f"architecture {stem}.yaml in ultralytics",
                "use an ultralytics model name (yolov8n, yolo11s, yolo26m, ...) or a path to a .pt file",
            ) from e
        model.save(str(tmp))

    # The name alone is the key: the seed is fixed, and a cached file is kept across ultralytics versions.
    return ContentCache("random-init").entry(lambda key: f"{stem}.pt", (stem, RANDOM_SEED), build).path


def resolve_weights(model: str, policy: WeightsPolicy = "auto") -> Weights:
    """Find the weights for ``model`` under ``policy``; BenchmarkError says what to do."""
    given = Path(model).expanduser()
    if given.suffix == ".pt" and given.is_file():
        return Weights(given, "pretrained", "file", file_sha256(given))
    if given.suffix == ".pt" and (os.sep in model or given.parent != Path(".")):
        raise BenchmarkError(f"{given}: weights file not found", "check the path in the suite")
    stem = given.stem if given.suffix == ".pt" else model
    if stem == REFERENCE:
        from harness.models.reference import ARCHITECTURE, ReferenceUnavailable, build_reference

        if policy == "random":
            rnd = _random_init(ARCHITECTURE)
            return Weights(rnd, "random-init", "architecture", file_sha256(rnd))
        try:
            ref = build_reference()
        except ReferenceUnavailable as e:
            raise CellSkipped(str(e)) from e
        return Weights(ref.path, "reference", ref.facts["source"], ref.sha256)
    if policy != "random":
        local = paths.models_dir() / f"{stem}.pt"
        if local.is_file():
            return Weights(local, "pretrained", "models-dir", file_sha256(local))
        got = _download(stem, paths.models_dir())
        if got is not None:
            return Weights(got, "pretrained", "download", file_sha256(got))
        if policy == "pretrained":
            raise BenchmarkError(
                f"model {stem!r}: pretrained weights not found in {paths.models_dir()} and not downloadable",
                f"copy {stem}.pt into {paths.models_dir()} (or set HARNESS_MODELS_DIR), or use --weights auto",
            )
    rnd = _random_init(stem)
    return Weights(rnd, "random-init", "architecture", file_sha256(rnd))

