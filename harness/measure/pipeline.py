"""The measured path for one frame: pre-processing, inference, post-processing.

Every variant (PyTorch, ONNX Runtime, TensorRT) runs behind ultralytics'
AutoBackend so that pre/post work is identical across formats: square
letterbox to ``imgsz`` (so static-shape exports and eager models see the same
input), NMS with the ultralytics predict defaults, person class only, boxes
mapped back to frame pixels. ``infer`` synchronises the device before it
returns, so a clock read after it measures finished work.
"""

from __future__ import annotations

import numpy as np

from harness.mot.letterbox import Letterbox, letterbox


class Pipeline:
    """pre -> infer -> post for one loaded backend."""

    def __init__(self, backend, device, fp16: bool, imgsz: int, conf: float, nms_iou: float, person_class: int = 0):
        import torch
        import torchvision  # noqa: F401 - ultralytics' NMS uses torchvision's kernel only once it is imported;
        # without this the post stage would switch implementation (and tie order) with import order.

        self.backend = backend
        self.device = device
        self.fp16 = fp16
        self.imgsz = imgsz
        self.conf = conf
        self.nms_iou = nms_iou
        self.person_class = person_class
        self._cuda = getattr(device, "type", str(device)) == "cuda"
        self._torch = torch

    def sync(self) -> None:
        if self._cuda:
            self._torch.cuda.synchronize(self.device)

    def pre(self, frame: np.ndarray):
        """BGR uint8 frame -> normalised 1x3xSxS tensor on the device (synchronised)."""
        img, lb = letterbox(frame, self.imgsz)
        chw = np.ascontiguousarray(img[..., ::-1].transpose(2, 0, 1))
        t = self._torch.from_numpy(chw).to(self.device, non_blocking=False)
        t = t.float().div_(255.0).unsqueeze_(0)  # scale in fp32: half arithmetic is slow on CPUs
        if self.fp16:
            t = t.half()
        self.sync()
        return t, lb

    def infer(self, tensor):
        with self._torch.inference_mode():
            out = self.backend(tensor)
        self.sync()
        return out

    def post(self, raw, lb: Letterbox) -> tuple[np.ndarray, np.ndarray]:
        """NMS, person class only, boxes back to frame pixels: (xyxy (n,4), conf (n,))."""
        from ultralytics.utils import nms

        det = nms.non_max_suppression(
            raw, self.conf, self.nms_iou, classes=[self.person_class], max_det=300,
            end2end=getattr(self.backend, "end2end", False),
        )[0]
        det = det.float().cpu().numpy()
        boxes = det[:, :4].copy()
        boxes[:, [0, 2]] = (boxes[:, [0, 2]] - lb.pad_x) / lb.gain
        boxes[:, [1, 3]] = (boxes[:, [1, 3]] - lb.pad_y) / lb.gain
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, lb.width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, lb.height)
        return boxes, det[:, 4].copy()
