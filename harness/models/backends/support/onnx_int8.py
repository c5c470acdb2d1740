"""ONNX INT8 for CPUs: static QDQ quantization with onnxruntime's tools.

Activations are calibrated (MinMax) on frames prepared exactly as the runner's
pre-processing prepares them (square letterbox, RGB, /255). Weights are int8
per channel, activations uint8 -- the combination ONNX Runtime's x86 kernels
run fastest. Only Conv/MatMul are quantized; the decode tail (DFL softmax,
sigmoid, concat) stays float so boxes keep their precision.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from harness.cache import ContentCache
from harness.models.calibration import CalibrationSet
from harness.fsutil import file_sha256
from harness.errors import BenchmarkError


def _input_tensor(path: Path, imgsz: int) -> np.ndarray:
    from harness.mot.letterbox import letterbox
    from harness.mot.sequence import decode_frame

    img, _ = letterbox(decode_frame(path), imgsz)
    return (np.ascontiguousarray(img[..., ::-1].transpose(2, 0, 1))[None].astype(np.float32) / 255.0)


class FramesReader:
    """onnxruntime CalibrationDataReader over calibration frames."""

    def __init__(self, input_name: str, cal: CalibrationSet, imgsz: int) -> None:
        self.input_name, self.imgsz = input_name, imgsz
        self._it = iter(cal.paths)

    def get_next(self):
        p = next(self._it, None)
        return None if p is None else {self.input_name: _input_tensor(p, self.imgsz)}


def quantize_int8(fp32_onnx: Path, cal: CalibrationSet, imgsz: int) -> tuple[Path, dict]:
    """INT8 QDQ model for ``fp32_onnx`` calibrated on ``cal``; cached by (model, calibration set, ORT version)."""
    import onnxruntime
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    cal_hash = cal.sha256
    info = {"calibration": {**cal.describe(), "sha256": cal_hash}}

    def build(tmp: Path) -> None:
        sess = onnxruntime.InferenceSession(str(fp32_onnx), providers=["CPUExecutionProvider"])
        reader = FramesReader(sess.get_inputs()[0].name, cal, imgsz)
        quiet = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)  # its "consider pre-processing" advice is printed on every call
        try:
            quantize_static(str(fp32_onnx), str(tmp), reader, quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            op_types_to_quantize=["Conv", "MatMul"], calibrate_method=CalibrationMethod.MinMax)
        except Exception as e:  # noqa: BLE001 - onnxruntime raises many kinds
            raise BenchmarkError(f"INT8 quantization of {fp32_onnx.name} failed: {type(e).__name__}: {e}",
                                 "see logs/run.log; try another calibration set") from e
        finally:
            logging.getLogger().setLevel(quiet)

    entry = ContentCache("onnx").entry(lambda key: f"{fp32_onnx.stem.split('-fp32')[0]}-int8-{imgsz}-{key}.onnx",
                                       (file_sha256(fp32_onnx), cal_hash, imgsz, f"ort={onnxruntime.__version__}"), build,
                                       label="calibrating and quantizing INT8")
    return entry.path, {**info, **entry.facts()}

