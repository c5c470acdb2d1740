"""What the built-in formats share: ONNX INT8 quantization, the DLA build and placement, the TensorRT engine cache."""
