"""Does sampling power perturb what it measures? Inference latency with and without a 20 Hz sampler.

Same model (yolov8n architecture, seeded random weights), same decoded frames,
the runner's own timed loop; rounds alternate "sampler off" / "sampler on" so
drift hits both alike. The sampler is the sysfs INA3221 backend at 50 ms
(20 Hz) reading a fake Orin Nano tree with real file reads (rails + thermal
zones + clocks, as on a board), polling from its own process as in `harness run`. Goal: overhead < 1 %.

    .venv/bin/python benchmarks/bench_telemetry_overhead.py [--frames 40] [--rounds 9] [--imgsz 640] [--interval-ms 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--interval-ms", type=int, default=50)
    args = ap.parse_args()

    import harness.models  # noqa: F401 - first, so CPU inference threads are pinned as in `harness run`
    from harness.testing.fakes import sysfs as fake_sysfs
    tmp = tempfile.TemporaryDirectory()
    root = Path(tmp.name)

    fake_sysfs.ina3221_hwmon(root, fake_sysfs.ORIN_NANO_RAILS)
    fake_sysfs.thermal_zones(root, {f"zone{i}-thermal": 40.0 + i for i in range(8)})
    os.environ["HARNESS_SYSFS_ROOT"] = str(root)

    from ultralytics.nn.autobackend import AutoBackend

    from harness.measure.timing import run_frames
    from harness.measure.pipeline import Pipeline
    from harness.mot.sequence import decode_frames, load_sequence
    from harness.mot.synth import synthesize
    from harness.models.variants import pick_device
    from harness.models.weights import resolve_weights
    from harness.telemetry.backends.sysfs_ina3221 import SysfsIna3221Sampler

    device = pick_device("auto")
    from ultralytics import YOLO

    model = YOLO(str(resolve_weights("yolov8n", "random").path)).model.eval()
    backend = AutoBackend(model, device=device, fp16=False, fuse=True, verbose=False).eval()
    pipe = Pipeline(backend, device, False, args.imgsz, 0.25, 0.7)
    seq = load_sequence(synthesize(root / "seq", n_frames=args.frames, size=(1280, 720), seed=0))
    frames = decode_frames(seq.frame_paths)
    ids = list(seq.frame_ids)
    sampler = SysfsIna3221Sampler(args.interval_ms)
    assert sampler.available().ok, sampler.available().reason

    run_frames(pipe, frames[:5], ids[:5], 2)  # warm-up
    # Three conditions in rotating order: off, on, off again. "off again" vs "off" is the
    # noise floor of this machine (an A/A comparison), printed beside the overhead.
    runs: dict[str, list[float]] = {"off": [], "on": [], "off2": []}
    samples = 0
    orders = [("off", "on", "off2"), ("on", "off2", "off"), ("off2", "off", "on")]
    for r in range(args.rounds):
        for cond in orders[r % 3]:
            if cond == "on":
                sampler.start()
            timings, _ = run_frames(pipe, frames, ids, 0)
            if cond == "on":
                samples += len(sampler.stop().samples)
            runs[cond] += timings.total_ms.tolist()
    off, on = runs["off"], runs["on"]
    m_off, m_on = statistics.median(off), statistics.median(on)
    mean_off, mean_on = statistics.fmean(off), statistics.fmean(on)
    noise = statistics.median(runs["off2"]) / m_off
    import torch

    print(f"device {device}, yolov8n (random-init), imgsz {args.imgsz}, {args.frames} frames x {args.rounds} rounds each way, "
          f"torch threads {torch.get_num_threads()}")
    print(f"sampler: sysfs_ina3221 every {args.interval_ms} ms ({1000 / args.interval_ms:.0f} Hz), "
          f"{len(sampler.rails)} rails + 8 thermal zones, {samples} samples taken")
    print(f"  without sampler: median {m_off:8.2f} ms/frame   mean {mean_off:8.2f}")
    print(f"  with sampler:    median {m_on:8.2f} ms/frame   mean {mean_on:8.2f}")
    ratio = m_on / m_off
    print(f"with / without (medians) = {ratio:.4f}  ->  overhead {100 * (ratio - 1):+.2f} %  "
          f"(means: {100 * (mean_on / mean_off - 1):+.2f} %; goal < 1 %: {'met' if ratio < 1.01 else 'NOT met'})")
    print(f"noise floor: without / without (A/A, medians) = {noise:.4f}  ->  {100 * (noise - 1):+.2f} %")
    tmp.cleanup()


if __name__ == "__main__":
    main()
