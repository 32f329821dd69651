"""Text channel on Hugging Face transformers + torch, with windowing past 512 tokens."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vsa_desktop.core.errors import ModelLabelsError, ModelNotAvailableError
from vsa_desktop.core.result import TextResult
from vsa_desktop.core.taxonomy import EMOTIONS, canonical, top
from vsa_desktop.core.text.base import check_text

log = logging.getLogger(__name__)

MAX_TOKENS = 512
WINDOW_OVERLAP = 64
BATCH_SIZE = 8


def missing_model_message(model_id: str) -> str:
    """The one sentence that says how to get a model that is not on disk."""
    return (
        f"The text model {model_id} is not on this computer: download it with "
        f"`vsa models download {model_id}` or point --text-model at a local model folder."
    )


def label_map(id2label: dict[int, str]) -> list[int]:
    """Map a model's class indices onto canonical emotion indices.

    Raises:
        ModelLabelsError: when any label maps onto no canonical emotion.
    """
    labels = [str(id2label[i]) for i in sorted(id2label)]
    mapped = [canonical(label) for label in labels]
    if any(m is None for m in mapped):
        raise ModelLabelsError(
            "This model's labels cannot be mapped onto the seven emotions: "
            f"it has {', '.join(labels)}.",
            kind="model_labels",
        )
    return [EMOTIONS.index(m) for m in mapped if m is not None]


def windows(ids: Sequence[int], size: int, overlap: int) -> list[list[int]]:
    """Split token ids into overlapping windows of at most ``size`` tokens."""
    if len(ids) <= size:
        return [list(ids)]
    step = size - overlap
    out = []
    for start in range(0, len(ids), step):
        out.append(list(ids[start : start + size]))
        if start + size >= len(ids):
            break
    return out


def combine(window_probs: Sequence[Sequence[float]], lengths: Sequence[int]) -> list[float]:
    """Average per-window class probabilities weighted by window length."""
    total = float(sum(lengths))
    n = len(window_probs[0])
    return [
        sum(p[i] * w for p, w in zip(window_probs, lengths, strict=True)) / total for i in range(n)
    ]


def to_scores(class_probs: Sequence[float], mapping: Sequence[int]) -> dict[str, float]:
    """Fold model-class probabilities onto the seven keys (renormalised)."""
    out = [0.0] * len(EMOTIONS)
    for p, idx in zip(class_probs, mapping, strict=True):
        out[idx] += float(p)
    total = sum(out)
    return {k: v / total for k, v in zip(EMOTIONS, out, strict=True)}


def make_result(model_id: str, runtime: str, scores: dict[str, float], chunks: int) -> TextResult:
    """Build a TextResult from canonical scores."""
    label, confidence = top(scores)
    return TextResult(
        model=model_id,
        runtime=runtime,
        scores=scores,
        label=label,
        confidence=confidence,
        chunks=chunks,
    )


class TokenWindows:
    """Tokenizes text into model-ready windows (shared by the torch and ONNX runtimes)."""

    def __init__(self, tokenizer: Any, max_tokens: int = MAX_TOKENS) -> None:
        self.tokenizer = tokenizer
        model_max = getattr(tokenizer, "model_max_length", max_tokens) or max_tokens
        self.max_tokens = min(max_tokens, int(model_max)) if model_max < 10**6 else max_tokens
        self.prefix, self.suffix = _special_template(tokenizer)
        self.n_special = len(self.prefix) + len(self.suffix)

    def encode(self, text: str) -> list[list[int]]:
        """Return the windows of ``text`` as token id lists, special tokens included."""
        ids = self.tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)[
            "input_ids"
        ]
        size = self.max_tokens - self.n_special
        return [self.prefix + w + self.suffix for w in windows(ids, size, WINDOW_OVERLAP)]

    @property
    def pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return int(pad) if pad is not None else 0


def _special_template(tokenizer: Any) -> tuple[list[int], list[int]]:
    """Find the special tokens the tokenizer puts before and after one sequence."""
    probe = "x"
    full = list(tokenizer(probe, add_special_tokens=True)["input_ids"])
    plain = list(tokenizer(probe, add_special_tokens=False)["input_ids"])
    for i in range(len(full) - len(plain) + 1):
        if full[i : i + len(plain)] == plain:
            return full[:i], full[i + len(plain) :]
    return [], []


def pad_batch(
    batch: Sequence[Sequence[int]], pad_id: int
) -> tuple[list[list[int]], list[list[int]]]:
    """Pad id lists to the batch's longest; return (input_ids, attention_mask)."""
    width = max(len(ids) for ids in batch)
    ids = [list(x) + [pad_id] * (width - len(x)) for x in batch]
    mask = [[1] * len(x) + [0] * (width - len(x)) for x in batch]
    return ids, mask


class TransformersTextAnalyzer:
    """A Hugging Face sequence-classification model run with torch.

    Args:
        model: an HF hub id (must already be in the local cache) or a local folder.
        display_id: what to record as ``text.model`` (defaults to ``model``).
    """

    runtime = "torch"

    def __init__(self, model: str, display_id: str | None = None) -> None:
        self.source = model
        self.model_id = display_id or model
        self._lock = threading.Lock()
        self._tokenizer, self._model = _load(model, self.model_id)
        self.mapping = label_map(self._model.config.id2label)
        self.windows = TokenWindows(self._tokenizer)

    def analyze(self, text: str) -> TextResult:
        """Analyze one text; long text is windowed, never truncated."""
        return self.analyze_batch([text])[0]

    def analyze_batch(self, texts: list[str]) -> list[TextResult]:
        """Analyze many texts, batching windows of similar length together."""
        encoded = [self.windows.encode(check_text(t)) for t in texts]
        flat = [(i, w) for i, ws in enumerate(encoded) for w in ws]
        order = sorted(range(len(flat)), key=lambda k: len(flat[k][1]))
        probs: list[list[float]] = [[] for _ in flat]
        for start in range(0, len(order), BATCH_SIZE):
            chunk = order[start : start + BATCH_SIZE]
            out = self.class_probs([flat[k][1] for k in chunk])
            for k, p in zip(chunk, out, strict=True):
                probs[k] = p
        results = []
        for i, ws in enumerate(encoded):
            mine = [probs[k] for k, (owner, _) in enumerate(flat) if owner == i]
            combined = combine(mine, [len(w) for w in ws])
            results.append(
                make_result(self.model_id, self.runtime, to_scores(combined, self.mapping), len(ws))
            )
        return results

    def class_probs(self, batch: Sequence[Sequence[int]]) -> list[list[float]]:
        """Softmax probabilities of the model's classes for a batch of id lists."""
        import torch

        ids, mask = pad_batch(batch, self.windows.pad_id)
        with self._lock, torch.inference_mode():
            logits = self._model(
                input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)
            ).logits
            return torch.softmax(logits.float(), dim=-1).tolist()


def _load(model: str, model_id: str) -> tuple[Any, Any]:
    try:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise ModelNotAvailableError(
            "This model needs torch, which this installation does not have: use the built-in "
            "lite model, or convert the model once with `vsa models convert` in a source "
            "install with the [torch] extra (the ONNX copy then runs here).",
            detail=str(exc),
        ) from None
    hf_logging.disable_progress_bar()
    path = Path(model).expanduser()
    if _looks_like_path(model) and not (path / "config.json").is_file():
        raise ModelNotAvailableError(
            f"No model folder at {model}: it must hold config.json, the weights and the "
            "tokenizer files.",
            kind="model_missing",
        )
    source = str(path) if path.is_dir() else model
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
        loaded = AutoModelForSequenceClassification.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as exc:
        log.info("could not load %s: %s", model_id, exc)
        raise ModelNotAvailableError(missing_model_message(model_id), detail=str(exc)) from None
    loaded.eval()
    return tokenizer, loaded


def _looks_like_path(model: str) -> bool:
    return model.startswith((".", "/", "~")) or "\\" in model or Path(model).expanduser().exists()
