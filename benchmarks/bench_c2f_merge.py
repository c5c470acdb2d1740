"""Does joining a pruned C2f's two first convs back into one (C2fMerged) make it faster?

Pruning needs C2f's first conv split in two (C2fSplit) so torch-pruning can follow the ``chunk``; the
pruned model then runs two 1x1 convs where the original ran one. For each model and ratio this prunes
once, makes the merged copy (checked numerically equal), exports both through ultralytics to ONNX and
times them in interleaved rounds (split, merged, split, merged, ...), PyTorch and ONNX Runtime alike.
Printed: the p50 of each and the ratio merged / split (below 1: merging helps) with the spread of the
per-round ratios; the unpruned model is timed in the same rounds, so pruned / unpruned is printed too.

    .venv/bin/python benchmarks/bench_c2f_merge.py [--models yolov8n] [--ratios 0.3,0.5] [--imgsz 640]
        [--rounds 12] [--iters 10]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("YOLO_VERBOSE", "False")


def onnx_session(model, imgsz: int, work: Path, tag: str):
    import onnxruntime as ort
    from ultralytics import YOLO

    from harness.models.prune import save_checkpoint

    ckpt = work / f"{tag}.pt"
    save_checkpoint(model, ckpt, tag)
    onnx = YOLO(str(ckpt)).export(format="onnx", imgsz=imgsz, half=False, dynamic=False, simplify=True, verbose=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    sess = ort.InferenceSession(str(onnx), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return lambda x: sess.run(None, {name: x})


def timed(fn, x, iters: int) -> list[float]:
    out = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn(x)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="yolov8n")
    ap.add_argument("--ratios", default="0.3,0.5")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--iters", type=int, default=10)
    args = ap.parse_args()
    from ultralytics import YOLO

    from harness.models.prune import C2fMerged, merge_c2f, prune_model
    from harness.models.weights import resolve_weights

    torch.manual_seed(0)
    x = torch.rand(1, 3, args.imgsz, args.imgsz)
    xn = x.numpy()
    print(f"{'model':9} {'ratio':>5} {'runtime':8} {'p50 split':>10} {'p50 merged':>10} {'merged/split':>13} "
          f"{'(min..max)':>13} {'split/unpruned':>15} {'merged/unpruned':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in args.models.split(","):
            base = YOLO(str(resolve_weights(name, "auto").path)).model.float().eval()
            for ratio in (float(r) for r in args.ratios.split(",")):
                split = prune_model(copy.deepcopy(base), ratio, imgsz=320).eval()
                merged = copy.deepcopy(split)
                n = merge_c2f(merged)
                assert n and any(isinstance(m, C2fMerged) for m in merged.modules())
                with torch.no_grad():
                    a, b = split(x)[0], merged(x)[0]
                assert torch.allclose(a, b, atol=1e-4, rtol=1e-4), "merged C2f differs from the split one"
                runtimes = {"pytorch": {k: (lambda m: (lambda t: m(t)))(m) for k, m in
                                        (("unpruned", base), ("split", split), ("merged", merged))}}
                runtimes["onnx"] = {k: onnx_session(m, args.imgsz, work, f"{name}-{ratio}-{k}") for k, m in
                                    (("unpruned", base), ("split", split), ("merged", merged))}
                for rt, fns in runtimes.items():
                    inp = xn if rt == "onnx" else x
                    samples = {k: [] for k in fns}
                    ratios = []
                    with torch.inference_mode():
                        for k, fn in fns.items():
                            timed(fn, inp, 3)  # warm-up
                        for _ in range(args.rounds):
                            per = {}
                            for k, fn in fns.items():
                                t = timed(fn, inp, args.iters)
                                samples[k] += t
                                per[k] = statistics.median(t)
                            ratios.append(per["merged"] / per["split"])
                    p50 = {k: float(np.median(v)) for k, v in samples.items()}
                    print(f"{name:9} {ratio:5.2f} {rt:8} {p50['split']:10.2f} {p50['merged']:10.2f} "
                          f"{p50['merged'] / p50['split']:13.3f} {f'{min(ratios):.2f}..{max(ratios):.2f}':>13} "
                          f"{p50['split'] / p50['unpruned']:15.3f} {p50['merged'] / p50['unpruned']:16.3f}")


if __name__ == "__main__":
    main()
