"""The project's own face-expression model (fer-vgg): export, shipped file, reference."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vsa_desktop.core.resources import resource_path
from vsa_desktop.core.vision import local

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = resource_path(*local.VGG_PARTS)
FACES_DEV = ROOT.parent / "shared" / "data" / "faces-dev"
ASTRONAUT = Path(__file__).parent / "data" / "astronaut.png"


def _onnx_weights(path: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """The Conv (weight, bias) pairs in graph order and the final Gemm's weight and bias."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    convs = [(inits[n.input[1]], inits[n.input[2]]) for n in graph.node if n.op_type == "Conv"]
    (gemm,) = [n for n in graph.node if n.op_type in ("Gemm", "MatMul")]
    weight = inits[gemm.input[1]]
    bias = inits[gemm.input[2]] if len(gemm.input) > 2 else np.zeros(weight.shape[0])
    # Gemm is exported with transB=1 (out, in); MatMul would be (in, out).
    if gemm.op_type == "MatMul":
        weight = weight.T
    return convs, weight, bias


def _conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Plain 3x3 convolution, stride 1, zero padding 1; x (C, H, W), w (O, C, 3, 3)."""
    c, h, wd = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    cols = np.stack(
        [padded[:, i : i + h, j : j + wd] for i in range(3) for j in range(3)], axis=1
    )  # (C, 9, H, W)
    out = np.tensordot(w.reshape(w.shape[0], c, 9), cols, axes=([1, 2], [0, 1]))
    return out + b[:, None, None]


def numpy_reference(path: Path, pixels: np.ndarray) -> np.ndarray:
    """fer-vgg re-implemented in NumPy from the ONNX file's weights; pixels (48, 48) 0..255.

    Standardise the face (mean 0, divide by std + 1), then 3x3 conv + ReLU layers with a
    2x2 max pool wherever the channel count grows past the first stage, global average
    pooling, the linear layer and softmax.
    """
    convs, weight, bias = _onnx_weights(path)
    x = pixels.astype(np.float64)[None]
    x = (x - x.mean()) / (x.std(ddof=1) + 1.0)
    for k, (w, b) in enumerate(convs):
        if k and w.shape[0] != convs[k - 1][0].shape[0]:
            c, h, wd = x.shape
            x = x.reshape(c, h // 2, 2, wd // 2, 2).max(axis=(2, 4))
        x = np.maximum(_conv3x3(x, w.astype(np.float64), b.astype(np.float64)), 0.0)
    logits = weight @ x.mean(axis=(1, 2)) + bias
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _faces() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    faces = [
        rng.integers(0, 256, (48, 48)).astype(np.uint8),
        np.full((48, 48), 90, np.uint8),
        np.asarray(Image.open(ASTRONAUT).convert("L").crop((165, 60, 285, 180)).resize((48, 48))),
    ]
    if FACES_DEV.is_dir():
        faces += [
            np.asarray(Image.open(p).convert("L")) for p in sorted(FACES_DEV.glob("*.jpg"))[:6]
        ]
    return faces


def test_shipped_model_matches_the_numpy_reference() -> None:
    session = local._session(str(SHIPPED))
    for face in _faces():
        got = session.run(None, {"input": face.astype(np.float32)[None, None]})[0][0]
        want = numpy_reference(SHIPPED, face)
        assert np.abs(got - want).max() <= 1e-4
        assert math.isclose(float(got.sum()), 1.0, abs_tol=1e-5)


def test_shipped_model_takes_a_batch_of_views() -> None:
    session = local._session(str(SHIPPED))
    faces = np.stack(_faces()[:3]).astype(np.float32)[:, None]
    batch = session.run(None, {"input": faces})[0]
    one_by_one = np.concatenate([session.run(None, {"input": f[None]})[0] for f in faces])
    assert batch.shape == (3, 7)
    assert np.abs(batch - one_by_one).max() <= 1e-5


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_export_matches_torch(tmp_path: Path) -> None:
    import sys

    import torch

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import train_faces
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    torch.manual_seed(0)
    model = train_faces.FerVgg()
    # Non-trivial batch-norm statistics, so folding them into the convolutions is tested.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    ckpt, out = tmp_path / "m.pt", tmp_path / "m.onnx"
    torch.save({"model": model.state_dict()}, ckpt)
    assert train_faces.main(["export", "--ckpt", str(ckpt), "--out", str(out)]) == 0
    wrapped = train_faces.WithSoftmax(model).eval()
    face = _faces()[2]
    with torch.no_grad():
        want = wrapped(torch.from_numpy(face.astype(np.float32))[None, None]).numpy()[0]
    assert np.abs(numpy_reference(out, face) - want).max() <= 1e-4
