import numpy as np
import pytest
import torch

from harness.bench.pipeline import Pipeline, letterbox


@pytest.mark.parametrize("shape", [(192, 320), (720, 1280), (300, 200), (640, 640)])
def test_letterbox_matches_ultralytics(shape):
    from ultralytics.data.augment import LetterBox

    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (*shape, 3), dtype=np.uint8)
    ours, lb = letterbox(img, 320)
    ref = LetterBox(new_shape=(320, 320), auto=False, stride=32)(image=img)
    assert ours.shape == (320, 320, 3)
    assert np.array_equal(ours, ref)
    assert lb.width == shape[1] and lb.height == shape[0]


class FakeBackend:
    """Returns one raw YOLO prediction: a person box at a known letterboxed position."""

    end2end = False

    def __init__(self, box_xywh, cls=0, score=0.9, nc=80):
        self.box, self.cls, self.score, self.nc = box_xywh, cls, score, nc
        self.seen = None

    def __call__(self, x):
        self.seen = x
        out = torch.zeros(1, 4 + self.nc, 10)
        out[0, :4, 0] = torch.tensor(self.box, dtype=torch.float32)
        out[0, 4 + self.cls, 0] = self.score
        return out


def test_post_maps_boxes_back_to_frame_pixels():
    frame = np.zeros((180, 320, 3), np.uint8)  # scaled by 1.0 to 320 wide, padded 70 px top/bottom
    be = FakeBackend(box_xywh=(160, 160, 40, 80))  # xyxy in letterbox: 140,120,180,200
    pipe = Pipeline(be, torch.device("cpu"), False, 320, 0.25, 0.7)
    x, lb = pipe.pre(frame)
    assert x.shape == (1, 3, 320, 320) and x.dtype == torch.float32 and float(x.max()) <= 1.0
    boxes, conf = pipe.post(pipe.infer(x), lb)
    assert boxes.tolist() == [[140.0, 50.0, 180.0, 130.0]]
    assert conf.tolist() == pytest.approx([0.9])


def test_post_keeps_only_the_person_class_and_the_confidence_threshold():
    frame = np.zeros((320, 320, 3), np.uint8)
    pipe = Pipeline(FakeBackend((100, 100, 20, 20), cls=2), torch.device("cpu"), False, 320, 0.25, 0.7)
    x, lb = pipe.pre(frame)
    assert pipe.post(pipe.infer(x), lb)[0].shape == (0, 4)
    pipe = Pipeline(FakeBackend((100, 100, 20, 20), score=0.2), torch.device("cpu"), False, 320, 0.25, 0.7)
    assert pipe.post(pipe.infer(x), lb)[0].shape == (0, 4)


def test_fp16_inputs_when_asked():
    pipe = Pipeline(FakeBackend((1, 1, 1, 1)), torch.device("cpu"), True, 64, 0.25, 0.7)
    x, _ = pipe.pre(np.zeros((64, 64, 3), np.uint8))
    assert x.dtype == torch.float16


def test_pre_converts_bgr_to_rgb():
    frame = np.zeros((64, 64, 3), np.uint8)
    frame[..., 0] = 255  # blue in BGR
    pipe = Pipeline(FakeBackend((1, 1, 1, 1)), torch.device("cpu"), False, 64, 0.25, 0.7)
    x, _ = pipe.pre(frame)
    assert float(x[0, 2].mean()) == 1.0 and float(x[0, 0].mean()) == 0.0
