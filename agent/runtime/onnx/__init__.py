"""A production model as one ONNX graph (`podium export ARTIFACT --onnx OUT.onnx`, docs/production.md#onnx-export).

Imports only podium's runtime; `onnx` and `onnxruntime` load inside the functions that build and check a graph.
"""

from agent.runtime.onnx.export import OnnxExport, build_onnx, export_onnx, onnx_exportable, schema_refusal
from agent.runtime.onnx.feeds import onnx_feeds

__all__ = ["OnnxExport", "build_onnx", "export_onnx", "onnx_exportable", "onnx_feeds", "schema_refusal"]
