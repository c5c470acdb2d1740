import numpy as np
import pytest
import torch

from harness.measure.pipeline import Pipeline


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


@pytest.mark.slow
def test_onnx_detections_equal_ultralytics_predict(tmp_path, small_seq):
    """Our pre -> infer -> post on a static-shape ONNX model gives exactly the boxes
    ultralytics' own predictor gives (same letterbox, NMS and rescaling)."""
    from ultralytics import YOLO

    from harness.mot.sequence import decode_frame
    from harness.models.variants import load_variant
    from harness.models.weights import resolve_weights
    from harness.config.suite import Cell

    yolo = YOLO(str(resolve_weights("yolov8n", "random").path))
    with torch.no_grad():  # random weights detect nothing: make class 0 (person) fire everywhere
        for branch in yolo.model.model[-1].cv3:
            branch[-1].bias[0] = 2.0
    biased = tmp_path / "biased.pt"
    yolo.save(str(biased))
    v = load_variant(Cell("t", str(biased), "onnx", "fp32"), 160, "cpu", "auto")
    pipe = Pipeline(v.backend, v.device, v.fp16, 160, 0.5, 0.7, v.person_class)
    frame = decode_frame(small_seq / "img1" / "000005.jpg")
    x, lb = pipe.pre(frame)
    boxes, conf = pipe.post(pipe.infer(x), lb)
    ref = YOLO(str(v.artifact), task="detect").predict(frame, imgsz=160, conf=0.5, iou=0.7, classes=[0], verbose=False)[0]
    assert len(boxes) > 10
    ours = sorted(zip(map(tuple, np.round(boxes, 3)), np.round(conf, 5)))
    theirs = sorted(zip(map(tuple, np.round(ref.boxes.xyxy.numpy(), 3)), np.round(ref.boxes.conf.numpy(), 5)))
    assert ours == theirs
