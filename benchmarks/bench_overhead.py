"""Per-frame overhead of the harness's timed loop over a bare ``model(tensor)`` loop.

Same model (yolov8n architecture, seeded random weights, fused), same decoded
1280x720 frames, imgsz 640, this machine's CPU (or CUDA if present). Measured
in one process, interleaved rounds, medians of per-frame times:

  bare infer   model(x) on tensors prepared outside the clock
  bare pre     letterbox + tensor conversion alone      (unavoidable work)
  bare post    NMS + box rescaling alone                (unavoidable work)
  harness      the runner's timed loop (pre -> infer -> post with clocks and syncs)

Goal: harness <= 1.10 x (bare pre + bare infer + bare post).

    .venv/bin/python benchmarks/bench_overhead.py [--frames 40] [--rounds 3] [--imgsz 640]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--model", default="yolov8n")
    args = ap.parse_args()

    import torch
    from ultralytics import YOLO
    from ultralytics.nn.autobackend import AutoBackend

    from harness.measure.timing import run_frames
    from harness.measure.pipeline import Pipeline
    from harness.mot.sequence import decode_frames, load_sequence
    from harness.mot.synth import synthesize
    from harness.models.variants import pick_device
    from harness.models.weights import resolve_weights

    device = pick_device("auto")
    weights = resolve_weights(args.model, "random")
    with tempfile.TemporaryDirectory() as tmp:
        seq = load_sequence(synthesize(Path(tmp) / "s", n_frames=args.frames, size=(1280, 720), seed=0))
        frames = decode_frames(seq.frame_paths)
    ids = list(range(1, len(frames) + 1))

    torch_model = YOLO(str(weights.path)).model.eval()
    backend = AutoBackend(torch_model, device=device, fp16=False, fuse=True, verbose=False).eval()
    bare = backend.model  # the fused DetectionModel AutoBackend wraps: the bare thing to call
    pipe = Pipeline(backend, device, False, args.imgsz, 0.25, 0.7)
    tensors = [pipe.pre(f) for f in frames]  # prepared outside any clock
    raws = [pipe.infer(x) for x, _ in tensors]
    sync = pipe.sync

    def per_frame(fn, items) -> list[float]:
        out = []
        for it in items:
            t0 = time.perf_counter_ns()
            fn(it)
            sync()
            out.append((time.perf_counter_ns() - t0) / 1e6)
        return out

    def bare_infer(item):
        with torch.inference_mode():
            bare(item[0])

    res = {"bare_infer": [], "bare_pre": [], "bare_post": [], "harness": []}
    for _ in range(2):  # warm-up of every path
        per_frame(bare_infer, tensors[:3])
        run_frames(pipe, frames[:4], ids[:4], 1)
    for r in range(args.rounds):
        res["bare_infer"] += per_frame(bare_infer, tensors)
        res["bare_pre"] += per_frame(pipe.pre, frames)
        res["bare_post"] += per_frame(lambda i: pipe.post(raws[i], tensors[i][1]), range(len(frames)))
        timings, _ = run_frames(pipe, frames, ids, 0)
        res["harness"] += timings.total_ms.tolist()

    med = {k: statistics.median(v) for k, v in res.items()}
    floor = med["bare_pre"] + med["bare_infer"] + med["bare_post"]
    print(f"device {device}, {args.model} (random-init), imgsz {args.imgsz}, {len(frames)} frames x {args.rounds} rounds, "
          f"torch threads {torch.get_num_threads()}")
    for k in ("bare_pre", "bare_infer", "bare_post"):
        print(f"  {k:<11} median {med[k]:8.2f} ms/frame")
    print(f"  {'sum':<11} median {floor:8.2f} ms/frame   (bare inference + unavoidable pre/post)")
    print(f"  {'harness':<11} median {med['harness']:8.2f} ms/frame   p90 {np.percentile(res['harness'], 90):.2f}")
    ratio = med["harness"] / floor
    print(f"harness / (bare + pre + post) = {ratio:.3f}  ->  overhead {100 * (ratio - 1):+.1f} %  "
          f"(goal <= +10 %: {'met' if ratio <= 1.10 else 'NOT met'})")
    print(f"harness / bare inference alone = {med['harness'] / med['bare_infer']:.3f}")


if __name__ == "__main__":
    main()
