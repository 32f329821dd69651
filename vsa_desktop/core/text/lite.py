"""The built-in offline text model: n-gram features and a linear classifier, NumPy only."""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vsa_desktop.core.errors import ModelError, ModelLabelsError, ModelNotAvailableError
from vsa_desktop.core.resources import resource_path
from vsa_desktop.core.result import TextResult
from vsa_desktop.core.taxonomy import EMOTIONS, canonical, top
from vsa_desktop.core.text.base import check_text
from vsa_desktop.core.text.lite_features import FeatureConfig, Vocabulary, featurize

MODEL_ID = "builtin:lite"
RUNTIME = "numpy"
FORMAT = "vsa.text-lite/1"


def default_model_path() -> Path:
    """Return where the shipped lite model lives (``resources/models/text-lite/model.npz``)."""
    return resource_path("models", "text-lite", "model.npz")


def model_files() -> list[Path]:
    """Return the files whose bytes determine the shipped lite model's output.

    Hash these to key anything fitted on top of ``builtin:lite`` probabilities (a
    calibration layer, say): a retrained model changes them. The featuriser's settings and
    version live inside ``model.npz``, so that one file is all of it.
    """
    return [default_model_path()]


@dataclass(frozen=True)
class LiteModel:
    """The parts of a lite model file.

    Attributes:
        vocab: featuriser config, n-gram vocabularies and IDF weights.
        weights: (features, classes) float matrix, columns in ``labels`` order.
        bias: (classes,) intercepts.
        temperature: logits are divided by this before the softmax (calibration).
        labels: the model's own class names (GoEmotions Ekman names).
        meta: anything else worth keeping (training settings, metrics).
        top_label: the top-label calibration after the temperature (see ``TopLabelMap``).
    """

    vocab: Vocabulary
    weights: np.ndarray
    bias: np.ndarray
    temperature: float
    labels: tuple[str, ...]
    meta: Mapping[str, Any]
    top_label: TopLabelMap | None = None


@dataclass(frozen=True)
class TopLabelMap:
    """Top-label calibration: Platt scaling of the top class's log-odds, per predicted class.

    A model trained with class weights is over-confident on the classes it was pushed
    towards and under-confident on the others, which one temperature cannot undo. This map
    sets the top probability to ``sigmoid(slope * log-odds + intercept[top class])`` and
    shares the rest among the other classes in their old proportions. The top class stays
    the top class (the new log-odds are floored just above the runner-up's), so the label
    never changes; only how sure the scores say it is.

    Attributes:
        slope: shared slope on the top class's log-odds (1 = unchanged).
        intercepts: (classes,) intercept for each class when it is the top one, in the
            model's label order.
    """

    slope: float
    intercepts: tuple[float, ...]

    def apply(self, z: np.ndarray) -> np.ndarray:
        """Return calibrated probabilities for tempered logits ``z`` of shape (rows, classes).

        Computed from the logits in log space, so a top probability that rounds to 1.0 in
        float64 still gets a finite log-odds.
        """
        rows = np.arange(z.shape[0])
        top = z.argmax(axis=1)
        others = z.copy()
        others[rows, top] = -np.inf
        peak = others.max(axis=1, keepdims=True)
        share = np.exp(others - peak)
        share_sum = share.sum(axis=1, keepdims=True)
        share /= share_sum
        log_odds = z[rows, top] - (peak[:, 0] + np.log(share_sum[:, 0]))
        new = self.slope * log_odds + np.asarray(self.intercepts)[top]
        # Keep the top on top: q / (1 - q) must exceed the runner-up's share of 1 - q.
        new = np.maximum(new, np.log(share.max(axis=1)) + 1e-6)
        q = 1.0 / (1.0 + np.exp(-new))
        out = share * (1.0 - q)[:, None]
        out[rows, top] = q
        return out


def _text_array(items: Sequence[str]) -> np.ndarray:
    """Pack strings (none containing a newline) into one uint8 array."""
    return np.frombuffer("\n".join(items).encode("utf-8"), dtype=np.uint8)


def _text_items(array: np.ndarray) -> list[str]:
    raw = array.tobytes().decode("utf-8")
    return raw.split("\n") if raw else []


def save_model(path: Path, model: LiteModel) -> None:
    """Write ``model`` as a compressed ``.npz`` (float16 weights, no pickles).

    Args:
        path: the file to write; its folder must exist.
        model: the model; vocabulary indices must be ``0..n-1`` (words) then chars.
    """
    words = sorted(model.vocab.words, key=model.vocab.words.__getitem__)
    chars = sorted(model.vocab.chars, key=model.vocab.chars.__getitem__)
    header = {
        "format": FORMAT,
        "features": model.vocab.config.to_dict(),
        "labels": list(model.labels),
        "temperature": model.temperature,
        "meta": dict(model.meta),
    }
    if model.top_label is not None:
        header["top_label"] = {
            "slope": model.top_label.slope,
            "intercepts": list(model.top_label.intercepts),
        }
    np.savez_compressed(
        path,
        header=_text_array([json.dumps(header, sort_keys=True)]),
        words=_text_array(words),
        chars=_text_array(chars),
        idf=model.vocab.idf.astype(np.float16),
        weights=model.weights.astype(np.float16),
        bias=model.bias.astype(np.float32),
    )


def read_model(path: Path) -> LiteModel:
    """Read a lite model file written by ``save_model``.

    Raises:
        ModelNotAvailableError: the file does not exist.
        ModelError: the file is not a lite model of this format.
    """
    if not path.is_file():
        raise ModelNotAvailableError(
            "The built-in text model file is missing: reinstall VSA Desktop.", detail=str(path)
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(_text_items(data["header"])[0])
            words = _text_items(data["words"])
            chars = _text_items(data["chars"])
            idf = data["idf"].astype(np.float64)
            weights = data["weights"].astype(np.float32)
            bias = data["bias"].astype(np.float32)
        if header.get("format") != FORMAT:
            raise ValueError(f"format {header.get('format')!r} is not {FORMAT!r}")
        config = FeatureConfig.from_dict(header["features"])
        top_label = _read_top_label(header, len(header["labels"]))
    except (OSError, KeyError, IndexError, TypeError, ValueError, zipfile.BadZipFile) as exc:
        raise ModelError(
            "The built-in text model file is damaged: reinstall VSA Desktop.",
            detail=f"{path}: {exc}",
        ) from exc
    vocab = Vocabulary(
        config=config,
        words=dict(zip(words, range(len(words)), strict=True)),
        chars=dict(zip(chars, range(len(chars)), strict=True)),
        idf=idf,
    )
    labels = tuple(str(label) for label in header["labels"])
    if weights.shape != (vocab.size, len(labels)) or idf.shape != (vocab.size,):
        raise ModelError(
            "The built-in text model file is damaged: reinstall VSA Desktop.",
            detail=f"{path}: weights {weights.shape}, idf {idf.shape}, {vocab.size} features",
        )
    return LiteModel(
        vocab,
        weights,
        bias,
        float(header["temperature"]),
        labels,
        header.get("meta", {}),
        top_label,
    )


def _read_top_label(header: Mapping[str, Any], classes: int) -> TopLabelMap | None:
    """Return the header's top-label map (None in files from before it existed).

    Raises:
        ValueError: the map is malformed.
    """
    raw = header.get("top_label")
    if raw is None:
        return None
    intercepts = tuple(float(b) for b in raw["intercepts"])
    slope = float(raw["slope"])
    if len(intercepts) != classes or not all(map(np.isfinite, (slope, *intercepts))):
        raise ValueError(f"bad top-label map {raw!r}")
    return TopLabelMap(slope, intercepts)


def _canonical_order(labels: Sequence[str]) -> list[int]:
    """Return, for each canonical emotion, the column of the model label that maps to it.

    Raises:
        ModelLabelsError: when the labels do not map one-to-one onto the seven emotions.
    """
    mapped = [canonical(label) for label in labels]
    if sorted(str(key) for key in mapped) != sorted(EMOTIONS):
        raise ModelLabelsError(
            "The built-in text model has unexpected labels: reinstall VSA Desktop.",
            detail=f"labels {list(labels)} map to {mapped}",
        )
    return [mapped.index(key) for key in EMOTIONS]


class LiteTextAnalyzer:
    """The built-in lite text model: a calibrated linear classifier on n-gram features.

    Lighter and less accurate than DistilRoBERTa; needs nothing but NumPy.
    """

    model_id = MODEL_ID
    runtime = RUNTIME

    def __init__(self, model: LiteModel) -> None:
        order = _canonical_order(model.labels)
        self._vocab = model.vocab
        self._weights = np.ascontiguousarray(model.weights[:, order], dtype=np.float32)
        self._bias = model.bias[order].astype(np.float64)
        self._inv_temperature = 1.0 / model.temperature
        self.temperature = model.temperature
        self.meta = model.meta
        self._top_label = (
            None
            if model.top_label is None
            else TopLabelMap(
                model.top_label.slope, tuple(model.top_label.intercepts[i] for i in order)
            )
        )

    @classmethod
    def from_file(cls, path: Path | None = None) -> LiteTextAnalyzer:
        """Load the analyzer from ``path`` (default: the shipped model)."""
        return cls(read_model(path or default_model_path()))

    @property
    def vocab(self) -> Vocabulary:
        """The featuriser's settings and vocabulary (explanations map features back to words)."""
        return self._vocab

    def contributions(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return each feature's part of the seven raw logits, for explanations.

        Returns:
            (feature indices, parts of shape (features, 7) in ``EMOTIONS`` order, bias):
            ``parts.sum(axis=0) + bias`` is ``logits(text)``, since the model is linear in
            its features.
        """
        idx, values = featurize(text, self._vocab)
        parts = values[:, None] * self._weights[idx].astype(np.float64)
        return idx, parts, self._bias.copy()

    def logits(self, text: str) -> np.ndarray:
        """Return the seven raw logits (before calibration), in ``EMOTIONS`` order."""
        idx, values = featurize(text, self._vocab)
        return values @ self._weights[idx].astype(np.float64) + self._bias

    def probabilities(self, text: str) -> np.ndarray:
        """Return the seven calibrated probabilities, in ``EMOTIONS`` order, for any text."""
        return self.calibrate(self.logits(text)[None, :])[0]

    def calibrate(self, logits: np.ndarray) -> np.ndarray:
        """Turn raw logits (rows, seven, ``EMOTIONS`` order) into calibrated probabilities.

        Temperature first, then the top-label map when the model has one.
        """
        z = logits * self._inv_temperature
        if self._top_label is not None:
            return self._top_label.apply(z)
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def analyze(self, text: str) -> TextResult:
        """Analyze one text.

        Raises:
            InputError: empty, whitespace-only or over-long text.
        """
        check_text(text)
        probs = self.probabilities(text)
        scores = {key: float(p) for key, p in zip(EMOTIONS, probs, strict=True)}
        label, confidence = top(scores)
        return TextResult(
            model=self.model_id,
            runtime=self.runtime,
            scores=scores,
            label=label,
            confidence=confidence,
            chunks=1,
        )

    def analyze_batch(self, texts: list[str]) -> list[TextResult]:
        """Analyze many texts; the same answers as ``analyze`` on each.

        Raises:
            InputError: when any text is empty or over-long (checked before any work).
        """
        for text in texts:
            check_text(text)
        return [self.analyze(text) for text in texts]


_CACHE: dict[Path, LiteTextAnalyzer] = {}
_CACHE_LOCK = threading.Lock()


def load_lite(path: Path | str | None = None) -> LiteTextAnalyzer:
    """Return the lite analyzer for ``path`` (default: shipped), loaded once per process.

    Thread-safe: concurrent first calls load the file once.

    Raises:
        ModelNotAvailableError: the model file is missing.
        ModelError: the model file is damaged.
    """
    key = Path(path).resolve() if path is not None else default_model_path().resolve()
    with _CACHE_LOCK:
        analyzer = _CACHE.get(key)
        if analyzer is None:
            analyzer = LiteTextAnalyzer.from_file(key)
            _CACHE[key] = analyzer
        return analyzer
