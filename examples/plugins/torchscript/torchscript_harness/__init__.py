"""edge-harness export-format plugin: TorchScript.

The cell's model (after the harness has pruned and recovered it) is traced by ultralytics' exporter into a
``.torchscript`` file, cached by content, and run by ultralytics' AutoBackend, the way the built-in formats run.
The contract (``docs/plugins.md``): ``unsupported(cell, device) -> reason | None`` is asked before any weights are
loaded; ``load(prepared) -> LoadedVariant`` gets the prepared model and returns what the timed loop calls.
"""

from __future__ import annotations

import os
import shutil
import time

from harness.cache import ContentCache, scratch_dir
from harness.errors import BenchmarkError
from harness.models.backends.base import LoadedVariant, Prepared


def unsupported(cell, device) -> str | None:
    if cell.precision == "int8":
        return "TorchScript int8 is not offered (quantize with onnx or tensorrt)"
    if cell.precision == "fp16" and device.type != "cuda":
        return "TorchScript fp16 needs a CUDA device"
    if cell.dla_core is not None:
        return "the DLA runs TensorRT engines only"
    return None


def export(p: Prepared):
    """The traced file for (weights, imgsz, precision), built once into the harness's content cache."""
    import ultralytics

    stem, half = p.weights.path.stem, p.cell.precision == "fp16"

    def build(tmp) -> None:
        from ultralytics import YOLO

        with scratch_dir(tmp.parent) as work:  # the exporter writes beside the .pt it reads
            src = work / f"{stem}.pt"
            shutil.copy2(p.weights.path, src)
            try:
                got = YOLO(str(src)).export(format="torchscript", imgsz=p.imgsz, half=half, device=str(p.device),
                                            verbose=False)
            except Exception as e:  # noqa: BLE001 - the exporter raises many types
                raise BenchmarkError(f"TorchScript export of {p.weights.path.name} failed: {e}",
                                     "see the log; try another torch or ultralytics version") from e
            os.replace(got, tmp)

    key = (p.weights.sha256, p.imgsz, p.cell.precision, f"ultralytics={ultralytics.__version__}")
    return ContentCache("torchscript").entry(lambda k: f"{stem}-{p.cell.precision}-{p.imgsz}-{k}.torchscript",
                                             key, build)


def load(p: Prepared) -> LoadedVariant:
    from ultralytics.nn.autobackend import AutoBackend

    entry = export(p)
    t0 = time.perf_counter()
    fp16 = p.cell.precision == "fp16"
    backend = AutoBackend(str(entry.path), device=p.device, fp16=fp16, verbose=False)
    p.facts["artifact_bytes"] = entry.path.stat().st_size
    return LoadedVariant(backend, p.device, fp16, "torchscript", entry.path, p.weights, p.facts,
                         {**entry.facts(), "load_s": round(time.perf_counter() - t0, 3)}, p.person_class)
