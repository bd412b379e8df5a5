"""Deployment: ONNX export of fitted estimators, verified against PyTorch, and a small
onnxruntime-only classifier to run the exported file.

Layer 8 of data → nn → cost → train → sparse → prune → estimators → **export** → bench →
report → cli.
"""

from .onnx import ExportError, OnnxClassifier, export_onnx, inference_graph

__all__ = ["ExportError", "OnnxClassifier", "export_onnx", "inference_graph"]
