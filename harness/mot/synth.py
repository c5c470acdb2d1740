"""Synthetic MOT-format sequences with exact ground truth.

Person-like figures (head, torso, arms, swinging legs) walk across a textured
background at perspective-dependent scale, occlude each other and a static
pillar, and leave the frame. Ground truth is computed from the rendered
masks: each box is the figure's tight box clipped to the image, visibility is
the fraction of its pixels left visible. Figures less than 10 % visible get
flag 0 (an ignore region, as MOT17 does). The scene also holds a static person
(class 7, ignore), a distractor poster (class 8, ignore), a car (class 3,
neither) and the pillar (class 9 occluder, neither). ``det/det.txt`` holds
noisy "public" detections with false positives, for ``harness eval``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import DataError
from harness.fsutil import staged, storage_error

MIN_VISIBLE = 0.10


@dataclass
class _Walker:
    tid: int
    x: float  # foot centre, px
    y: float  # foot line, px
    vx: float  # px / frame
    vy: float
    height: float  # px at this depth
    color: tuple[int, int, int]
    phase: float


def _draw_figure(canvas: np.ndarray, cx: float, foot_y: float, h: float, color, phase: float, value=None) -> None:
    """Draw a person-like figure of height ``h`` px standing at (cx, foot_y)."""
    import cv2

    col = color if value is None else value
    skin = (140, 170, 210) if value is None else value
    head_r = max(1, int(h * 0.08))
    top = foot_y - h
    head_c = (int(cx), int(top + head_r))
    torso_w = h * 0.22
    torso_top, torso_bot = top + 2 * head_r, top + h * 0.55
    leg_len = foot_y - torso_bot
    swing = np.sin(phase) * h * 0.12
    thick = max(1, int(h * 0.07))
    # legs
    for s in (+1, -1):
        cv2.line(canvas, (int(cx + s * torso_w * 0.25), int(torso_bot)), (int(cx + s * swing), int(foot_y)), col, thick)
    # torso
    cv2.rectangle(canvas, (int(cx - torso_w / 2), int(torso_top)), (int(cx + torso_w / 2), int(torso_bot)), col, -1)
    # arms
    for s in (+1, -1):
        hand = (int(cx + s * (torso_w / 2 + h * 0.06) - s * swing * 0.5), int(torso_top + leg_len * 0.9))
        cv2.line(canvas, (int(cx + s * torso_w / 2), int(torso_top + thick)), hand, col, max(1, thick - 1))
    cv2.circle(canvas, head_c, head_r, skin, -1)


def _background(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    import cv2

    yy = np.linspace(0, 1, h)[:, None, None]
    sky = np.array([200, 180, 150]) * (1 - yy) + np.array([90, 100, 110]) * yy
    bg = np.broadcast_to(sky, (h, w, 3)).astype(np.float32).copy()
    bg += rng.normal(0, 6, (h, w, 3)).astype(np.float32)
    bg = np.clip(bg, 0, 255).astype(np.uint8)
    for _ in range(12):  # buildings / blobs
        x0, y0 = int(rng.uniform(0, w)), int(rng.uniform(0, h * 0.45))
        c = tuple(int(v) for v in rng.integers(60, 200, 3))
        cv2.rectangle(bg, (x0, y0), (x0 + int(rng.uniform(w * 0.05, w * 0.2)), int(h * 0.5)), c, -1)
    return bg


def _scale_at(y: float, h: int) -> float:
    """Figure height (px) at foot line y: perspective, farther is smaller."""
    return h * (0.18 + 0.45 * (y / h))


def _box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def synthesize(
    out_dir: str | Path,
    n_frames: int = 60,
    size: tuple[int, int] = (640, 360),
    seed: int = 0,
    n_walkers: int = 8,
    frame_rate: int = 30,
    overwrite: bool = False,
) -> Path:
    """Write a MOT-format sequence to ``out_dir`` (atomically: temp dir + rename; nothing left on failure)."""
    import cv2

    out = Path(out_dir)
    w, h = size
    if n_frames < 1:
        raise DataError(f"--frames {n_frames}: a sequence needs at least 1 frame", "pass --frames N with N >= 1")
    if w < 64 or h < 64:
        raise DataError(f"--size {w}x{h}: too small to draw figures", "use at least 64x64")
    occupied = (out.is_dir() and any(out.iterdir())) or (out.exists() and not out.is_dir())
    if occupied and not overwrite:
        raise DataError(f"{out}: already exists and is not empty", "choose a new directory or pass --force")
    rng = np.random.default_rng(seed)
    if out.exists() and not out.is_dir():
        out.unlink()
    try:
        with staged(out, directory=True) as tmp:  # a failed or killed run leaves no half sequence
            (tmp / "img1").mkdir()
            (tmp / "gt").mkdir()
            (tmp / "det").mkdir()

            bg = _background(w, h, rng)
            ground_lo, ground_hi = h * 0.55, h * 0.98
            walkers = []
            for i in range(n_walkers):
                y = rng.uniform(ground_lo, ground_hi)
                going_right = rng.random() < 0.5
                speed = rng.uniform(0.004, 0.012) * w
                x = rng.uniform(-0.1 * w, 1.1 * w)
                walkers.append(
                    _Walker(
                        tid=i + 1, x=x, y=y, vx=speed if going_right else -speed, vy=rng.uniform(-0.3, 0.3),
                        height=_scale_at(y, h), color=tuple(int(v) for v in rng.integers(20, 235, 3)), phase=rng.uniform(0, 6.28),
                    )
                )
            # Static scene objects: (track id, class, draw fn)
            pillar = (int(w * 0.62), int(h * 0.25), int(w * 0.62 + max(6, w * 0.035)), h)
            static_person = (w * 0.12, h * 0.62, _scale_at(h * 0.62, h))
            poster = (int(w * 0.80), int(h * 0.18), int(w * 0.86), int(h * 0.40))
            car_y = h * 0.74
            car_w, car_h = w * 0.22, h * 0.12

            gt_rows: list[tuple] = []
            det_rows: list[tuple] = []
            for f in range(1, n_frames + 1):
                img = bg.copy()
                labels = np.zeros((h, w), np.int32)  # who owns each pixel (0 = nobody)
                full_masks: dict[int, np.ndarray] = {}
                # static person (ignore class 7), drawn first: farthest
                sp_mask = np.zeros((h, w), np.uint8)
                _draw_figure(sp_mask, static_person[0], static_person[1], static_person[2], None, 0.0, value=1)
                _draw_figure(img, static_person[0], static_person[1], static_person[2], (90, 60, 40), 0.0)
                labels[sp_mask > 0] = 1000
                full_masks[1000] = sp_mask > 0
                # walkers, far (small y) to near
                for wk in sorted(walkers, key=lambda k: k.y):
                    m = np.zeros((h, w), np.uint8)
                    _draw_figure(m, wk.x, wk.y, wk.height, None, wk.phase, value=1)
                    _draw_figure(img, wk.x, wk.y, wk.height, wk.color, wk.phase)
                    labels[m > 0] = wk.tid
                    full_masks[wk.tid] = m > 0
                # a car drives through the lower band (class 3: neither positive nor ignore)
                cx = (f * w * 0.015) % (w + car_w) - car_w
                car = (int(cx), int(car_y), int(cx + car_w), int(car_y + car_h))
                cv2.rectangle(img, car[:2], car[2:], (40, 40, 170), -1)
                labels[max(car[1], 0):car[3], max(car[0], 0):max(car[2], 0)] = 2000
                # pillar in front of everything (occluder, class 9)
                cv2.rectangle(img, pillar[:2], pillar[2:], (120, 120, 120), -1)
                labels[pillar[1]:pillar[3], pillar[0]:pillar[2]] = 3000
                # poster with a printed person (distractor, class 8)
                cv2.rectangle(img, poster[:2], poster[2:], (230, 230, 230), -1)
                ph = poster[3] - poster[1]
                _draw_figure(img, (poster[0] + poster[2]) / 2, poster[3] - ph * 0.05, ph * 0.85, (30, 30, 30), 1.0)

                for tid, full in full_masks.items():
                    box = _box(full)
                    if box is None:
                        continue
                    vis = float((labels[full] == tid).sum()) / float(full.sum())
                    x1, y1, x2, y2 = box
                    if tid == 1000:
                        gt_rows.append((f, tid, x1, y1, x2 - x1, y2 - y1, 0, 7, vis))
                        continue
                    flag = 1 if vis >= MIN_VISIBLE else 0
                    gt_rows.append((f, tid, x1, y1, x2 - x1, y2 - y1, flag, 1, vis))
                    if flag and rng.random() < 0.9:  # noisy public detection
                        jit = rng.normal(0, 0.04, 4) * [x2 - x1, y2 - y1, x2 - x1, y2 - y1]
                        det_rows.append((f, x1 + jit[0], y1 + jit[1], x2 - x1 + jit[2], y2 - y1 + jit[3], rng.uniform(0.3, 1.0)))
                vis_car = (np.clip(car[0], 0, w), car[1], np.clip(car[2], 0, w), min(car[3], h))
                if vis_car[2] > vis_car[0]:
                    gt_rows.append((f, 2000, vis_car[0], vis_car[1], vis_car[2] - vis_car[0], vis_car[3] - vis_car[1], 0, 3, 1.0))
                gt_rows.append((f, 3000, pillar[0], pillar[1], pillar[2] - pillar[0], pillar[3] - pillar[1], 0, 9, 1.0))
                gt_rows.append((f, 4000, poster[0], poster[1], poster[2] - poster[0], poster[3] - poster[1], 0, 8, 1.0))
                for _ in range(rng.poisson(1.0)):  # false positives
                    bw, bh = rng.uniform(10, w * 0.1), rng.uniform(20, h * 0.3)
                    det_rows.append((f, rng.uniform(0, w - bw), rng.uniform(0, h - bh), bw, bh, rng.uniform(0.0, 0.6)))

                if not cv2.imwrite(str(tmp / "img1" / f"{f:06d}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 92]):
                    raise DataError(f"{tmp}: cannot write frames", "check free disk space and permissions")
                for wk in walkers:
                    wk.x += wk.vx
                    wk.y = float(np.clip(wk.y + wk.vy, ground_lo, ground_hi))
                    wk.height = _scale_at(wk.y, h)
                    wk.phase += 0.35

            gt_rows.sort(key=lambda r: (r[1], r[0]))
            (tmp / "gt" / "gt.txt").write_text(
                "".join(f"{r[0]},{r[1]},{r[2]},{r[3]},{r[4]},{r[5]},{r[6]},{r[7]},{r[8]:.4f}\n" for r in gt_rows)
            )
            (tmp / "det" / "det.txt").write_text(
                "".join(f"{r[0]},-1,{r[1]:.2f},{r[2]:.2f},{max(r[3], 1):.2f},{max(r[4], 1):.2f},{r[5]:.4f},-1,-1,-1\n" for r in det_rows)
            )
            (tmp / "seqinfo.ini").write_text(
                "[Sequence]\n"
                f"name=SYNTH-{seed:04d}\nimDir=img1\nframeRate={frame_rate}\nseqLength={n_frames}\n"
                f"imWidth={w}\nimHeight={h}\nimExt=.jpg\n"
            )
    except OSError as e:
        raise storage_error(e, out) from e
    return out


def demo_sequence(n_frames: int, note=None) -> Path:
    """The synthetic demo sequence (1280x720, seed 0, at least 60 frames), generated once into the cache.

    ``note(text)`` is told when it has to be generated (a CLI prints it; library callers may pass nothing).
    """
    from harness import paths

    n = max(n_frames, 60)
    root = paths.cache_dir() / "sequences" / f"synth-1280x720-seed0-{n}f"
    if not (root / "seqinfo.ini").is_file():
        if note:
            note(f"generating the demo sequence ({n} frames) in {root} ...")
        synthesize(root, n_frames=n, size=(1280, 720), seed=0, overwrite=True)
    return root
