"""tools/derive_models.py: float32 weights stored as float16 and cast back (the page's 15 MB budget); the
graph still computes in float32, the output is deterministic, and tools/fetch_models.py pins the result."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_{name}", ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


derive_models = _tool("derive_models")
fetch_models = _tool("fetch_models")


def _tiny_model(weight_scale: float = 1.0) -> object:
    """x -> Conv(W as a Constant node, 16x16x1x1) -> Add(bias initializer, 256 values) -> Mul(scalar),
    plus a Constant whose values float16 cannot hold (a BatchNormalization variance of 9.8e7)."""
    rng = np.random.default_rng(14)
    w = (rng.standard_normal((16, 16, 1, 1)) * weight_scale).astype(np.float32)
    bias = rng.standard_normal((1, 16, 4, 4)).astype(np.float32)
    huge = np.full((16, 16), 9.8e7, dtype=np.float32)
    nodes = [
        helper.make_node("Constant", [], ["w"], value=numpy_helper.from_array(w, "w")),
        helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(np.float32(0.5), "k")),
        helper.make_node("Constant", [], ["huge"], value=numpy_helper.from_array(huge, "huge")),
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("Add", ["c", "bias"], ["a"]),
        helper.make_node("Mul", ["a", "k"], ["y"]),
        helper.make_node("ReduceMax", ["huge"], ["h"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 4, 4])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 4, 4]),
            helper.make_tensor_value_info("h", TensorProto.FLOAT, []),
        ],
        [numpy_helper.from_array(bias, "bias")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=8)


def _run(model_bytes: bytes, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return list(session.run(None, {"x": x}))


def test_weights_become_float16_with_a_cast_and_the_math_stays_float32() -> None:
    model = _tiny_model()
    derived, report = derive_models.derive_model(model)
    assert (report.converted, report.kept_small, report.kept_range) == (2, 1, 1)
    consts = {n.output[0]: n.attribute[0].t.data_type for n in derived.graph.node if n.op_type == "Constant"}
    assert consts == {
        "w__fp16": TensorProto.FLOAT16,
        "k": TensorProto.FLOAT,  # a scalar stays float32
        "huge": TensorProto.FLOAT,  # 9.8e7 would be infinity as float16
    }
    assert {i.name: i.data_type for i in derived.graph.initializer} == {"bias__fp16": TensorProto.FLOAT16}
    casts = {n.output[0]: n.input[0] for n in derived.graph.node if n.op_type == "Cast"}
    assert casts == {"w": "w__fp16", "bias": "bias__fp16"}
    assert all(
        a.i == TensorProto.FLOAT for n in derived.graph.node if n.op_type == "Cast" for a in n.attribute
    )

    x = np.random.default_rng(1).standard_normal((1, 16, 4, 4)).astype(np.float32)
    before = _run(model.SerializeToString(), x)  # type: ignore[attr-defined]
    after = _run(derived.SerializeToString(), x)
    assert after[0].dtype == np.float32
    np.testing.assert_allclose(after[0], before[0], rtol=0, atol=5e-3)
    assert not np.array_equal(after[0], before[0])  # the weights really were rounded
    assert after[1] == before[1] == np.float32(9.8e7)


def test_the_output_is_deterministic(tmp_path: Path) -> None:
    model = _tiny_model()
    src = tmp_path / "m.onnx"
    src.write_bytes(model.SerializeToString())  # type: ignore[attr-defined]
    derive_models.derive_file(src, tmp_path / "a.onnx")
    derive_models.derive_file(src, tmp_path / "b.onnx")
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()


def test_a_subgraph_is_refused() -> None:
    inner = helper.make_graph([], "g", [], [])
    node = helper.make_node("If", ["c"], ["y"], then_branch=inner, else_branch=inner)
    graph = helper.make_graph([node], "m", [helper.make_tensor_value_info("c", TensorProto.BOOL, [])], [])
    with pytest.raises(ValueError, match="subgraph"):
        derive_models.derive_model(helper.make_model(graph))


def _lock_with_derived(tmp_path: Path, sha256: str) -> tuple[Path, Path]:
    """A lock pinning one tiny 'registry' model already present, and its derived form."""
    folder = tmp_path / "models"
    folder.mkdir()
    src = folder / "tiny.onnx"
    src.write_bytes(_tiny_model().SerializeToString())  # type: ignore[attr-defined]
    lock = tmp_path / "lock.json"
    lock.write_text(
        json.dumps(
            {
                "packages": [
                    {
                        "name": "x",
                        "version": "1",
                        "integrity": "sha512-",
                        "files": {"package/tiny.onnx": {"sha256": fetch_models.sha256_of(src)}},
                    }
                ],
                "derived": {"tiny.fp16.onnx": {"from": "tiny.onnx", "sha256": sha256}},
            }
        )
    )
    return folder, lock


def test_fetch_models_derives_and_checks_the_pinned_sha256(tmp_path: Path) -> None:
    scratch = tmp_path / "s"
    scratch.mkdir()
    derive_models.derive_file(_lock_with_derived(scratch, "0" * 64)[0] / "tiny.onnx", tmp_path / "want.onnx")
    want = fetch_models.sha256_of(tmp_path / "want.onnx")

    folder, lock = _lock_with_derived(tmp_path, want)
    paths = fetch_models.ensure_models(folder, lock)
    assert [p.name for p in paths] == ["tiny.onnx", "tiny.fp16.onnx"]
    assert fetch_models.sha256_of(folder / "tiny.fp16.onnx") == want
    (folder / "tiny.fp16.onnx").write_bytes(b"tampered")  # replaced by a fresh derivation, checked again
    fetch_models.ensure_models(folder, lock)
    assert fetch_models.sha256_of(folder / "tiny.fp16.onnx") == want


def test_a_derivation_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    folder, lock = _lock_with_derived(tmp_path, "0" * 64)
    with pytest.raises(fetch_models.ModelFetchError, match="sha256 mismatch for tiny.fp16.onnx"):
        fetch_models.ensure_models(folder, lock)
    assert not (folder / "tiny.fp16.onnx").exists()


def test_the_lock_pins_the_derived_det_and_rec_models(tmp_path: Path) -> None:
    """The real models: deriving the registry files here gives the pinned bytes (skipped without them)."""
    pinned = {d.name: d for d in fetch_models.load_derived()}
    assert set(pinned) == {"ch_PP-OCRv4_det_infer.fp16.onnx", "ch_PP-OCRv4_rec_infer.fp16.onnx"}
    vendor = ROOT / "vendor-models"
    for d in pinned.values():
        if not (vendor / d.source).is_file():
            pytest.skip(f"{d.source} not fetched (tools/fetch_models.py)")
        shutil.copyfile(vendor / d.source, tmp_path / d.source)
        derive_models.derive_file(tmp_path / d.source, tmp_path / d.name)
        assert fetch_models.sha256_of(tmp_path / d.name) == d.sha256
