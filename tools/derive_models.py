#!/usr/bin/env python3
"""Derive the text finder's shipped models from the pinned registry files: float16 weights, float32 math.

Issue 14 caps the page's model download at 15 MB; the pinned PP-OCRv4 det + rec are 15.6 MB raw (14.4 MB
gzipped). Decision (brief N): weight-only fp16. Every float32 weight tensor of the graph (in these models
the weights are ``Constant`` nodes, not initializers; both are handled) is stored as float16 and followed by
a ``Cast`` back to float32 under the weight's original name, so every operator still sees float32 inputs and
runs its float32 kernel on the CPU and wasm providers; onnxruntime folds ``Constant -> Cast`` into a float32
initializer when the session is created, so inference costs the same as before.

Kept float32 (a few kilobytes in all):
- tensors of fewer than ``MIN_ELEMENTS`` values: scalars and per-channel vectors (BatchNormalization's
  mean/variance, Clip bounds, Resize scales, biases), where a rounding error is not averaged over a kernel;
- any tensor holding a value float16 cannot represent (|x| > 65504: the det model's BatchNormalization
  variances reach 9.8e7), which would become infinity.

The output is deterministic: the same input and the same ``onnx`` (pinned in pyproject.toml's dev extras)
give the same bytes (protobuf's deterministic serialisation; names derived from the originals). Its sha256 is
pinned in tools/models.lock.json under "derived" and checked by tools/fetch_models.py after deriving.

    python tools/derive_models.py SOURCE.onnx OUT.onnx
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIN_ELEMENTS = 256  # below this a tensor stays float32 (see the module docstring)
FP16_MAX = 65504.0
SUFFIX = "__fp16"


@dataclass(frozen=True)
class DeriveReport:
    converted: int  # tensors stored as float16
    kept_small: int  # float32 tensors under MIN_ELEMENTS
    kept_range: int  # float32 tensors with a value outside float16's range
    bytes_in: int
    bytes_out: int


def _fits_fp16(array: Any) -> bool:
    import numpy as np

    return bool(array.size == 0 or np.all(np.isfinite(array)) and np.abs(array).max() <= FP16_MAX)


def derive_model(model: Any) -> tuple[Any, DeriveReport]:
    """A copy of ``model`` (an onnx.ModelProto) with its float32 weights stored as float16 + Cast."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
                raise ValueError(f"node {node.name!r} has a subgraph: not handled by this tool")
    converted = kept_small = kept_range = 0
    taken = {n for node in graph.node for n in (*node.input, *node.output)} | {
        i.name for i in graph.initializer
    }

    def fresh(name: str) -> str:
        new = name + SUFFIX
        if new in taken:
            raise ValueError(f"the derived name {new!r} is already used in the graph")
        taken.add(new)
        return new

    def decide(tensor: Any) -> Any | None:
        """The float16 array for `tensor`, or None when it stays float32."""
        nonlocal kept_small, kept_range
        if tensor.data_type != onnx.TensorProto.FLOAT:
            return None
        array = numpy_helper.to_array(tensor)
        if array.size < MIN_ELEMENTS:
            kept_small += 1
            return None
        if not _fits_fp16(array):
            kept_range += 1
            return None
        return array.astype(np.float16)

    nodes: list[Any] = []
    for node in graph.node:
        value = next((a for a in node.attribute if a.name == "value"), None)
        half = decide(value.t) if node.op_type == "Constant" and value is not None else None
        if half is None or value is None:
            nodes.append(node)
            continue
        original = node.output[0]
        stored = fresh(original)
        const = helper.make_node("Constant", [], [stored], name=(node.name or original) + SUFFIX,
                                 value=numpy_helper.from_array(half, stored))  # fmt: skip
        cast = helper.make_node("Cast", [stored], [original], name=(node.name or original) + "__cast",
                                to=onnx.TensorProto.FLOAT)  # fmt: skip
        nodes.extend([const, cast])
        converted += 1
    casts: list[Any] = []
    initializers: list[Any] = []
    for init in graph.initializer:
        half = decide(init)
        if half is None:
            initializers.append(init)
            continue
        stored = fresh(init.name)
        initializers.append(numpy_helper.from_array(half, stored))
        casts.append(helper.make_node("Cast", [stored], [init.name], name=init.name + "__cast",
                                      to=onnx.TensorProto.FLOAT))  # fmt: skip
        converted += 1
    if any(i.name in {c.output[0] for c in casts} for i in graph.input):
        raise ValueError("a converted initializer is also a graph input (IR < 4 style): not handled")
    del graph.node[:]
    graph.node.extend([*casts, *nodes])  # a Cast of an initializer before any consumer: topological order
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    onnx.checker.check_model(out)
    report = DeriveReport(converted, kept_small, kept_range, model.ByteSize(), out.ByteSize())
    return out, report


def derive_file(source: Path, dest: Path) -> DeriveReport:
    """Write the derived form of the model `source` to `dest` (deterministic bytes)."""
    import onnx

    model = onnx.load_model(str(source), load_external_data=False)
    derived, report = derive_model(model)
    dest.write_bytes(derived.SerializeToString(deterministic=True))
    return report


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    report = derive_file(Path(args[0]), Path(args[1]))
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
