"""Text channel on ONNX Runtime and the ``tokenizers`` library: no torch, no transformers."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vsa_desktop.core.errors import ModelError
from vsa_desktop.core.result import TextResult
from vsa_desktop.core.text.base import check_text
from vsa_desktop.core.text.transformers_backend import (
    BATCH_SIZE,
    WINDOW_OVERLAP,
    combine,
    label_map,
    make_result,
    pad_batch,
    to_scores,
    windows,
)

FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "meta.json"

ClassProbs = Callable[[Sequence[Sequence[int]]], list[list[float]]]


def make_session(path: Path) -> Any:
    """Open an ONNX Runtime CPU session: all graph optimisations, one thread per core.

    ``InferenceSession.run`` is thread-safe, so one session serves every thread.
    ``VSA_ONNX_THREADS`` caps the threads (a batch worker that shares the machine with
    other workers sets it to the cores it was given).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = _threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def _threads() -> int:
    try:
        asked = int(os.environ.get("VSA_ONNX_THREADS", "0"))
    except ValueError:
        asked = 0
    return asked if asked > 0 else (os.cpu_count() or 1)


def read_meta(folder: Path) -> dict[str, Any]:
    """Read the ``meta.json`` written beside the ONNX files by the converter."""
    data = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{folder / META_FILE} is not a JSON object")
    return data


def run_windows(
    encoded: list[list[list[int]]], class_probs: ClassProbs, batch_size: int = BATCH_SIZE
) -> list[tuple[list[float], int]]:
    """Run every window of every text, batching windows of similar length together.

    Returns:
        per text: (window-length-weighted class probabilities, number of windows).
    """
    flat = [(i, w) for i, ws in enumerate(encoded) for w in ws]
    order = sorted(range(len(flat)), key=lambda k: len(flat[k][1]))
    probs: list[list[float]] = [[] for _ in flat]
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        for k, p in zip(chunk, class_probs([flat[k][1] for k in chunk]), strict=True):
            probs[k] = p
    per_text: list[list[list[float]]] = [[] for _ in encoded]
    for (owner, _), p in zip(flat, probs, strict=True):
        per_text[owner].append(p)
    return [(combine(per_text[i], [len(w) for w in ws]), len(ws)) for i, ws in enumerate(encoded)]


class OnnxTextAnalyzer:
    """A sequence classifier exported to ONNX (fp32 or int8), run with ONNX Runtime.

    Args:
        folder: a converted-model folder (``model.onnx``, ``tokenizer.json``, ``meta.json``).
        model_id: what to record as ``text.model``.
        int8: use ``model.int8.onnx`` instead of ``model.onnx``.
    """

    def __init__(self, folder: Path, model_id: str, int8: bool = False) -> None:
        self.folder = Path(folder)
        self.model_id = model_id
        self.runtime = "onnx-int8" if int8 else "onnx"
        try:
            meta = read_meta(self.folder)
            self._tokenizer = _load_tokenizer(self.folder / TOKENIZER_FILE)
            self._session = make_session(self.folder / (INT8_FILE if int8 else FP32_FILE))
        except Exception as exc:  # onnxruntime raises its own (non-OSError) types
            raise ModelError(
                f"The converted model in {self.folder} cannot be opened: run "
                "`vsa models convert` again to rebuild it.",
                detail=repr(exc),
            ) from None
        self.mapping = label_map(dict(enumerate(meta["labels"])))
        self.prefix: list[int] = list(meta["prefix"])
        self.suffix: list[int] = list(meta["suffix"])
        self.pad_id = int(meta["pad_id"])
        self.max_tokens = int(meta["max_tokens"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    def encode(self, text: str) -> list[list[int]]:
        """Return the windows of ``text`` as token id lists, special tokens included."""
        ids = self._tokenizer.encode(text, add_special_tokens=False).ids
        size = self.max_tokens - len(self.prefix) - len(self.suffix)
        return [self.prefix + w + self.suffix for w in windows(ids, size, WINDOW_OVERLAP)]

    def analyze(self, text: str) -> TextResult:
        """Analyze one text; long text is windowed, never truncated."""
        return self.analyze_batch([text])[0]

    def analyze_batch(self, texts: list[str]) -> list[TextResult]:
        """Analyze many texts, batching windows of similar length together."""
        encoded = [self.encode(check_text(t)) for t in texts]
        return [
            make_result(self.model_id, self.runtime, to_scores(probs, self.mapping), n)
            for probs, n in run_windows(encoded, self.class_probs)
        ]

    def class_probs(self, batch: Sequence[Sequence[int]]) -> list[list[float]]:
        """Softmax probabilities of the model's classes for a batch of id lists."""
        import numpy as np

        ids, mask = pad_batch(batch, self.pad_id)
        feed = {
            "input_ids": np.asarray(ids, dtype=np.int64),
            "attention_mask": np.asarray(mask, dtype=np.int64),
        }
        logits = self._session.run(
            ["logits"], {k: v for k, v in feed.items() if k in self._inputs}
        )[0]
        return [_softmax(row) for row in logits.astype(np.float64).tolist()]


def _softmax(row: Sequence[float]) -> list[float]:
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    total = sum(exps)
    return [e / total for e in exps]


def _load_tokenizer(path: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
