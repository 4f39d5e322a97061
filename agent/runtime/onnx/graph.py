"""A small builder over onnx.helper: unique names, constants and single-output nodes, so the converters read as
the arithmetic they write rather than as protobuf plumbing."""

from __future__ import annotations

from typing import Any

import numpy as np

OPSET = 21      # the default domain: RegexFullMatch (20) and axes-as-input reductions (18)
ML_OPSET = 5    # ai.onnx.ml: TreeEnsemble (categorical MEMBER splits, double thresholds) and LabelEncoder 4
IR_VERSION = 10  # readable by ONNX Runtime releases older than the one tested (1.31)
ML = "ai.onnx.ml"


class Graph:
    """Nodes and constants of one graph under construction; every internal name is prefixed so no column
    (a graph input named as the column) can clash with one."""

    PREFIX = "podium/"

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{self.PREFIX}{hint}_{self._count}"

    def const(self, value: Any, hint: str = "const", dtype: Any = None) -> str:
        """A constant tensor (numpy array or scalar; strings as object arrays) under a fresh name."""
        from onnx import numpy_helper

        array = np.asarray(value, dtype=dtype)
        if array.dtype.kind == "U":
            array = array.astype(object)
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, domain: str = "", **attributes: Any) -> str:
        """Add one node with one output and return the output's name."""
        from onnx import helper

        output = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=output, domain=domain, **attributes))
        return output

    def ops(self, op_type: str, inputs: list[str], outputs: int, hint: str, domain: str = "",
            **attributes: Any) -> list[str]:
        """Add one node with several outputs and return their names."""
        from onnx import helper

        names = [self.name(f"{hint}{i}") for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=names[0], domain=domain, **attributes))
        return names

    def input(self, name: str, elem_type: int, doc: str) -> str:
        from onnx import helper

        info = helper.make_tensor_value_info(name, elem_type, [None, 1])
        info.doc_string = doc
        self.inputs.append(info)
        return name

    def output(self, source: str, name: str, elem_type: int, shape: list[Any], doc: str) -> None:
        """Expose `source` as the graph output `name` (an Identity keeps the internal name free)."""
        from onnx import helper

        self.nodes.append(helper.make_node("Identity", [source], [name], name=self.name("out")))
        info = helper.make_tensor_value_info(name, elem_type, shape)
        info.doc_string = doc
        self.outputs.append(info)

    def model(self, graph_name: str, metadata: dict[str, str], doc: str) -> Any:
        """The finished ModelProto, checked by onnx's own checker (shapes and types included)."""
        import onnx
        from onnx import helper

        graph = helper.make_graph(self.nodes, graph_name, self.inputs, self.outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                        helper.make_opsetid(ML, ML_OPSET)],
                                  producer_name="podium", doc_string=doc)
        model.ir_version = IR_VERSION
        helper.set_model_props(model, metadata)
        onnx.checker.check_model(model, full_check=True)
        return model
