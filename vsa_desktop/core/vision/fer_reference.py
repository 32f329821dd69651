"""Read the Keras 2 mini-Xception HDF5 without TensorFlow and run it in plain NumPy.

This is the reference the ONNX conversion (``scripts/convert_fer.py``) is checked against:
every layer is re-implemented here from its Keras definition (TensorFlow's ``same`` padding
rule, NHWC layout, batch normalisation as its own step), independently of the ONNX graph
builder, which folds batch normalisation and works in NCHW. The app itself never uses this
module at run time; it needs ``h5py``, a development dependency.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SUPPORTED = (
    "InputLayer",
    "Conv2D",
    "SeparableConv2D",
    "BatchNormalization",
    "Activation",
    "MaxPooling2D",
    "Add",
    "GlobalAveragePooling2D",
)


@dataclass(frozen=True)
class KerasLayer:
    """One layer of a Keras functional model.

    Attributes:
        kind: the Keras class name (``Conv2D``, ``Add``...).
        name: the layer's unique name.
        inputs: names of the layers feeding it.
        config: the layer's Keras config.
        weights: arrays by short name (``kernel``, ``bias``, ``depthwise_kernel``,
            ``pointwise_kernel``, ``gamma``, ``beta``, ``moving_mean``, ``moving_variance``),
            in Keras layout.
    """

    kind: str
    name: str
    inputs: tuple[str, ...]
    config: dict[str, Any]
    weights: dict[str, np.ndarray]


@dataclass(frozen=True)
class KerasGraph:
    """A Keras functional model: layers in file order (already topological)."""

    layers: tuple[KerasLayer, ...]
    input_name: str
    output_name: str
    input_shape: tuple[int, int, int]  # height, width, channels

    def consumers(self, name: str) -> list[KerasLayer]:
        """Return the layers that take ``name`` as an input."""
        return [layer for layer in self.layers if name in layer.inputs]


def load_keras_h5(path: str | Path) -> KerasGraph:
    """Read a Keras 2 HDF5 model's layer graph and weights.

    Raises:
        ValueError: when the file holds a layer type this reader does not know.
    """
    import h5py

    with h5py.File(path, "r") as f:
        config = json.loads(_text(f.attrs["model_config"]))["config"]
        layers = tuple(_read_layer(spec, f["model_weights"]) for spec in config["layers"])
    first = layers[0]
    _, height, width, channels = first.config["batch_input_shape"]
    return KerasGraph(
        layers=layers,
        input_name=config["input_layers"][0][0],
        output_name=config["output_layers"][0][0],
        input_shape=(int(height), int(width), int(channels)),
    )


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _read_layer(spec: dict[str, Any], weights_group: Any) -> KerasLayer:
    kind, name = spec["class_name"], spec["config"]["name"]
    if kind not in SUPPORTED:
        raise ValueError(f"unsupported Keras layer {kind} ({name})")
    inputs = tuple(node[0] for nodes in spec["inbound_nodes"] for node in nodes)
    weights: dict[str, np.ndarray] = {}
    if name in weights_group:
        group = weights_group[name]
        for full in group.attrs.get("weight_names", []):
            full_name = _text(full)
            short = full_name.rsplit("/", 1)[-1].split(":")[0]
            weights[short] = np.asarray(group[full_name], dtype=np.float64)
    return KerasLayer(kind, name, inputs, spec["config"], weights)


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """Return TensorFlow's ``same`` padding (before, after) for one spatial axis.

    The output has ``ceil(size / stride)`` positions; an odd total puts the extra pixel
    after (bottom/right), which is what ONNX calls ``SAME_UPPER``.
    """
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def forward(graph: KerasGraph, x: np.ndarray) -> np.ndarray:
    """Run the model on a batch in NHWC layout, in float64.

    Args:
        graph: the model from ``load_keras_h5``.
        x: input of shape (N, H, W, C), already scaled as the model expects.

    Returns:
        The output layer's values, shape (N, classes).
    """
    values: dict[str, np.ndarray] = {}
    for layer in graph.layers:
        args = [values[name] for name in layer.inputs]
        values[layer.name] = _run(layer, args, np.asarray(x, dtype=np.float64))
    return values[graph.output_name]


def _run(layer: KerasLayer, args: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    kind, cfg, w = layer.kind, layer.config, layer.weights
    if kind == "InputLayer":
        return x
    if kind == "Add":
        return np.sum(args, axis=0)
    if kind == "Activation":
        return _activate(args[0], cfg["activation"])
    if kind == "BatchNormalization":
        scale = w["gamma"] / np.sqrt(w["moving_variance"] + cfg["epsilon"])
        return (args[0] - w["moving_mean"]) * scale + w["beta"]
    if kind == "GlobalAveragePooling2D":
        return args[0].mean(axis=(1, 2))
    if kind == "MaxPooling2D":
        return _max_pool(args[0], cfg)
    if kind == "Conv2D":
        y = _conv(args[0], w["kernel"], cfg)
    else:  # SeparableConv2D: depthwise (with the layer's stride and padding), then 1x1
        y = _depthwise(args[0], w["depthwise_kernel"], cfg)
        y = np.einsum("nhwc,cf->nhwf", y, w["pointwise_kernel"][0, 0])
    if "bias" in w:
        y = y + w["bias"]
    return _activate(y, cfg.get("activation", "linear"))


def _activate(x: np.ndarray, name: str) -> np.ndarray:
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(f"unsupported activation {name}")


def _windows(
    x: np.ndarray, kernel: tuple[int, int], cfg: dict[str, Any], fill: float = 0.0
) -> np.ndarray:
    """Return the (N, H', W', C, kh, kw) patches under Keras padding and strides."""
    sh, sw = cfg["strides"]
    if cfg["padding"] == "same":
        ph = same_padding(x.shape[1], kernel[0], sh)
        pw = same_padding(x.shape[2], kernel[1], sw)
        x = np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=fill)
    patches = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(1, 2))
    return patches[:, ::sh, ::sw]


def _conv(x: np.ndarray, kernel: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    patches = _windows(x, kernel.shape[:2], cfg)
    return np.einsum("nhwcij,ijcf->nhwf", patches, kernel)


def _depthwise(x: np.ndarray, kernel: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    patches = _windows(x, kernel.shape[:2], cfg)
    y = np.einsum("nhwcij,ijcm->nhwcm", patches, kernel)
    return y.reshape(*y.shape[:3], -1)  # channel c, multiplier m -> c * M + m


def _max_pool(x: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    patches = _windows(x, tuple(cfg["pool_size"]), cfg, fill=-np.inf)
    return patches.max(axis=(-2, -1))
