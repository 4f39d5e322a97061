"""A LightGBM booster as one ai.onnx.ml TreeEnsemble in double precision, from `booster.dump_model()`.

Written by hand rather than with onnxmltools so the graph is exact: thresholds, leaf values and sums stay doubles
(LightGBM's own precision), and LightGBM's decision rules map one to one (its Tree::NumericalDecision and
CategoricalDecision):
- numeric `<=`: NaN goes the default side when missing_type is NaN; with missing_type None LightGBM reads NaN
  as 0, so NaN goes where 0 would; missing_type Zero (zero_as_missing) is refused, podium never trains it;
- categorical `==` on a set of codes: a MEMBER node, NaN and negative codes go right (not a member).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.errors import InputError
from agent.runtime.onnx.graph import ML, Graph

BRANCH_LEQ, BRANCH_MEMBER = 0, 6  # TreeEnsemble's nodes_modes


@dataclass
class Trees:
    """TreeEnsemble's flat attributes, filled tree by tree."""

    roots: list[int] = field(default_factory=list)
    features: list[int] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)
    splits: list[float] = field(default_factory=list)
    true_ids: list[int] = field(default_factory=list)
    true_leaf: list[int] = field(default_factory=list)
    false_ids: list[int] = field(default_factory=list)
    false_leaf: list[int] = field(default_factory=list)
    missing_true: list[int] = field(default_factory=list)
    members: list[float] = field(default_factory=list)
    leaf_targets: list[int] = field(default_factory=list)
    leaf_weights: list[float] = field(default_factory=list)

    def leaf(self, value: float, target: int) -> int:
        self.leaf_targets.append(target)
        self.leaf_weights.append(float(value))
        return len(self.leaf_weights) - 1

    def branch(self, node: dict[str, Any]) -> int:
        """Add a split node (children filled in later) and return its index."""
        self.features.append(int(node["split_feature"]))
        if node["decision_type"] == "==":
            self.modes.append(BRANCH_MEMBER)
            self.splits.append(float("nan"))
            self.members += [float(code) for code in str(node["threshold"]).split("||")] + [float("nan")]
            self.missing_true.append(0)
        elif node["decision_type"] == "<=":
            threshold = float(node["threshold"])
            self.modes.append(BRANCH_LEQ)
            self.splits.append(threshold)
            self.missing_true.append(int(_nan_goes_left(node, threshold)))
        else:
            raise _refused(f"a split of kind {node['decision_type']!r}")
        for column in (self.true_ids, self.true_leaf, self.false_ids, self.false_leaf):
            column.append(0)
        return len(self.features) - 1

    def tree(self, structure: dict[str, Any], target: int) -> None:
        if "leaf_value" in structure:  # a one-leaf tree: a split whose two sides are the same leaf
            leaf = self.leaf(structure["leaf_value"], target)
            node = self.branch({"split_feature": 0, "decision_type": "<=", "threshold": 0.0, "missing_type": "NaN",
                                "default_left": True})
            self._link(node, True, leaf, True)
            self._link(node, False, leaf, True)
            self.roots.append(node)
            return
        self.roots.append(self._walk(structure, target))

    def _walk(self, node: dict[str, Any], target: int) -> int:
        index = self.branch(node)
        for side, child in ((True, node["left_child"]), (False, node["right_child"])):
            if "leaf_value" in child:
                self._link(index, side, self.leaf(child["leaf_value"], target), True)
            else:
                self._link(index, side, self._walk(child, target), False)
        return index

    def _link(self, node: int, side: bool, child: int, is_leaf: bool) -> None:
        ids, leafs = (self.true_ids, self.true_leaf) if side else (self.false_ids, self.false_leaf)
        ids[node], leafs[node] = child, int(is_leaf)


def _nan_goes_left(node: dict[str, Any], threshold: float) -> bool:
    missing = node.get("missing_type", "None")
    if missing == "NaN":
        return bool(node["default_left"])
    if missing == "None":
        return threshold >= 0.0
    raise _refused(f"missing_type {missing!r} (zero_as_missing)")


def _refused(what: str) -> InputError:
    return InputError(f"This LightGBM model holds {what}, which the ONNX export does not convert",
                      fix="export a model trained by podium's production search, or serve it with podium serve")


def tree_scores(graph: Graph, matrix: str, dump: dict[str, Any]) -> tuple[str, int]:
    """The booster's raw score, (N, K) doubles with K the trees per iteration (1 unless multiclass)."""
    from onnx import numpy_helper

    if dump.get("average_output"):
        raise _refused("an averaged (random forest) output")
    per_iteration = int(dump.get("num_tree_per_iteration", 1))
    trees = Trees()
    for info in dump["tree_info"]:
        if info.get("is_linear") or "leaf_coeff" in info.get("tree_structure", {}):
            raise _refused("linear trees")
        trees.tree(info["tree_structure"], int(info["tree_index"]) % per_iteration)

    def tensor(values: list[float], dtype: Any = np.float64):
        return numpy_helper.from_array(np.asarray(values, dtype=dtype))

    attributes = dict(aggregate_function=1, post_transform=0, n_targets=per_iteration, tree_roots=trees.roots,
                      nodes_featureids=trees.features, nodes_modes=tensor(trees.modes, np.uint8),
                      nodes_splits=tensor(trees.splits), nodes_truenodeids=trees.true_ids,
                      nodes_trueleafs=trees.true_leaf, nodes_falsenodeids=trees.false_ids,
                      nodes_falseleafs=trees.false_leaf, nodes_missing_value_tracks_true=trees.missing_true,
                      leaf_targetids=trees.leaf_targets, leaf_weights=tensor(trees.leaf_weights))
    if trees.members:
        attributes["membership_values"] = tensor(trees.members)
    return graph.op("TreeEnsemble", [matrix], "trees", domain=ML, **attributes), per_iteration
