"""F1 against prune ratio on the reference detector, per pruning method and recovery (none, bn, finetune).

Runs ``harness run`` on the demo sequence (synthetic, seed 0, never trained on) with one suite per method:
the unpruned reference, then each ratio pruned with each recovery: ``none`` (as pruned), ``bn`` (BatchNorm
statistics re-estimated on 256 unlabelled frames of another synthetic sequence, seed 204: the suite's
calibration frames) and ``finetune`` (``--epochs`` on synthetic sequences of seeds 201-203). Prints per method,
ratio and recovery: F1, AP50, the share of prunable channels actually removed (rounding inflates small ratios),
params, and p50 latency against the unpruned model in the same run (PyTorch, interleaved repeats; ratios hold on a
noisy machine, absolute times do not).

    .venv/bin/python benchmarks/bench_prune_curve.py [--ratios 0.1,0.3,0.5] [--recoveries none,bn,finetune]
        [--methods l1,l2_group,bn_scale] [--epochs 2] [--out /tmp/prune-curve]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

METHODS = {"l1": ("l1", 8), "l1_exact": ("l1", None), "l2_group": ("l2_group", None), "bn_scale": ("bn_scale", None)}


def suite_yaml(name: str, method: str, round_to, ratios: list[float], recoveries: list[str], data: Path,
               calibration: Path, epochs: int) -> str:
    variants = ["      - {prune_ratio: 0.0}"] + [f"      - {{prune_ratio: {r}, recovery: {rec}}}"
                                                   for r in ratios for rec in recoveries]
    return "\n".join([
        f"name: {name}", "frames: 40", "warmup: 5", "min_duration_s: 2.0", "imgsz: 320", "repeats: 2",
        f"pruning: {{method: {method}, round_to: {'null' if round_to is None else round_to}, bn_images: 256}}",
        f"calibration: {{sequence: {calibration}, frames: 256}}",
        f"finetune: {{data: {data}, epochs: {epochs}, batch: 16}}",
        "experiments:", "  - name: pruning", "    models: [reference]", "    variants:", *variants, ""])


def calibration_sequence(out: Path) -> Path:
    """256 unlabelled frames of a synthetic sequence neither evaluated nor trained on (seed 204)."""
    seq = out / "SYNTH-cal-204"
    if not seq.is_dir():
        harness = Path(sys.executable).parent / "harness"
        subprocess.run([harness, "data", "synth", seq, "--frames", "256", "--size", "1280x720", "--seed", "204"],
                       check=True, capture_output=True)
    return seq


def training_set(out: Path) -> Path:
    data = out / "ft-data" / "data.yaml"
    if data.is_file():
        return data
    harness = Path(sys.executable).parent / "harness"
    seqs = []
    for seed in (201, 202, 203):
        seq = out / f"SYNTH-ft-{seed}"
        if not seq.is_dir():
            subprocess.run([harness, "data", "synth", seq, "--frames", "80", "--size", "640x360", "--seed", str(seed)],
                           check=True, capture_output=True)
        seqs.append(str(seq))
    subprocess.run([harness, "data", "to-yolo", *seqs, "--out", out / "ft-data", "--val-fraction", "0.15"],
                   check=True, capture_output=True)
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ratios", default="0.1,0.3,0.5")
    ap.add_argument("--recoveries", default="none,bn,finetune")
    ap.add_argument("--methods", default="l1,l2_group,bn_scale")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("/tmp/prune-curve"))
    args = ap.parse_args()
    ratios = [float(x) for x in args.ratios.split(",") if x]
    recoveries = [x for x in args.recoveries.split(",") if x]
    args.out.mkdir(parents=True, exist_ok=True)
    data, calibration = training_set(args.out), calibration_sequence(args.out)
    harness = Path(sys.executable).parent / "harness"
    print(f"{'method':9} {'ratio':>5} {'recovery':>8} {'ch cut':>7} {'params M':>8} {'F1':>6} {'AP50':>6} {'p50 / unpruned':>14}")
    for name in args.methods.split(","):
        method, round_to = METHODS[name]
        suite = args.out / f"{name}.yaml"
        suite.write_text(suite_yaml(f"prune-{name.replace('_', '-')}", method, round_to, ratios, recoveries, data,
                                    calibration, args.epochs))
        run_id = f"curve-{name}"
        cmd = [harness, "run", "--suite", suite, "--out", args.out / "runs", "--run-id", run_id, "--json"]
        if (args.out / "runs" / run_id).is_dir():  # an interrupted study goes on where it stopped
            print(f"# resuming {args.out / 'runs' / run_id}: its finished cells are kept (delete it to measure again "
                  "after changing the code)", file=sys.stderr)
            cmd = [harness, "run", "--resume", args.out / "runs" / run_id, "--json"]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode not in (0, 1):
            sys.exit(f"{name}: harness run failed: {p.stderr[-800:]}")
        rows = json.loads(p.stdout)["rows"]
        order = {r: i for i, r in enumerate(["none", "bn", "finetune"])}
        for r in sorted(rows, key=lambda r: (r["prune_ratio"] or 0, order.get(r.get("recovery") or "none", 9))):
            cut = r.get("prune_channel_ratio")
            ratio = r.get("speedup_vs_ref")
            print(f"{name:9} {r['prune_ratio'] or 0:5.2f} {(r.get('recovery') or 'none') if r['prune_ratio'] else '-':>8} "
                  f"{'' if cut is None else f'{cut:.1%}':>7} {(r['params'] or 0) / 1e6:8.2f} "
                  f"{r['f1'] if r['f1'] is not None else float('nan'):6.3f} "
                  f"{r['ap50'] if r['ap50'] is not None else float('nan'):6.3f} "
                  f"{'' if not ratio else f'{1 / ratio:.2f}':>14}  {r['status']}")


if __name__ == "__main__":
    main()
