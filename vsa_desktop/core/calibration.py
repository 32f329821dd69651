"""Calibrated probabilities: what a shown percentage means, fitted on validation data.

Two maps, both fitted by ``scripts/calibrate.py`` on the validation splits only (FER2013
PublicTest faces, GoEmotions dev texts, and text+face pairs drawn from them) and shipped in
``resources/calibration/calibration.json``:

- **Channels** (``temperature-v1``): temperature scaling, ``q ∝ exp(log p / T + b)`` with the
  per-emotion offsets ``b`` the file format allows left at 0 (validation chose plain
  temperature: offsets changed the face model's labels and cost accuracy), fitted by log-loss
  on the channel's validation split as it is. A channel read alone keeps its model's label
  with a calibrated confidence. When two channels are compared and fused, each is first moved
  to equal emotion priors (``q / prior``, renormalised, ``prior`` being the channel's mean
  calibrated output on its split; ``temperature-v1+equal-priors``), so that what a model learnt
  about how common an emotion is (Reddit comments: 41 % joy; FER2013: 1.5 % disgust) does not
  pass for evidence about this post.
- **Fusion** (``agreement-temperature-v1``): the pooled distribution is sharpened or flattened
  by a temperature that depends on how far the channels agree,
  ``T = exp(θ · features)`` (agreement, same label, the channels' overlap and how sure each
  is: ``fusion_features``), fitted by log-loss of the top label on
  text+face pairs (see ``scripts/calibrate.py`` for the share of mixed posts it assumes), one θ
  per text weight on a grid (interpolated in between).

A calibration applies only to the exact model files it was fitted on (their sha256); any other
model (DistilRoBERTa, a Groq VLM, a changed file) keeps its raw numbers and is marked
``calibrated: false``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vsa_desktop.core.resources import resource_path
from vsa_desktop.core.taxonomy import EMOTIONS

log = logging.getLogger(__name__)

SCHEMA = "vsa.calibration/1"
CHANNEL_METHOD = "temperature-v1"
EQUAL_PRIORS_METHOD = "temperature-v1+equal-priors"
FUSION_METHOD = "agreement-temperature-v1"
CALIBRATION_PARTS = ("calibration", "calibration.json")
EPS = 1e-12

Scores = dict[str, float]


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for any finite logits."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


def log_probs(probs: np.ndarray) -> np.ndarray:
    """``log p`` with zeros clipped to a tiny floor (a model may say exactly 0)."""
    return np.log(np.clip(probs, EPS, 1.0))


def as_array(scores: Mapping[str, float]) -> np.ndarray:
    """Seven scores in canonical order."""
    return np.array([float(scores.get(k, 0.0)) for k in EMOTIONS], dtype=np.float64)


def as_scores(values: Sequence[float] | np.ndarray) -> Scores:
    """Seven values in canonical order as a dict that sums to 1."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr / arr.sum()
    return {k: float(v) for k, v in zip(EMOTIONS, arr, strict=True)}


def temperature_scale(
    probs: np.ndarray, temperature: float, bias: np.ndarray | None = None
) -> np.ndarray:
    """``softmax(log p / T + b)`` for one distribution (7,) or a batch (n, 7)."""
    logits = log_probs(probs) / temperature
    if bias is not None:
        logits = logits + bias
    return softmax_rows(logits)


@dataclass(frozen=True)
class ChannelCalibration:
    """Temperature scaling (with optional per-emotion offsets) for one channel's model, and
    its emotion prior.

    ``apply`` calibrates the model's output on the kind of data it was validated on (the
    emotion mix of that split, ``prior``). ``equal_priors`` moves a calibrated distribution
    to equal emotion priors (Bayes: divide by the prior, renormalise), which is how two
    channels are read when they are compared and fused.
    """

    fingerprint: str
    temperature: float
    bias: tuple[float, ...]
    prior: tuple[float, ...] | None = None
    method: str = CHANNEL_METHOD
    figures: dict[str, Any] = field(default_factory=dict)

    def apply_array(self, probs: np.ndarray) -> np.ndarray:
        """Calibrate a (7,) or (n, 7) array of probabilities in canonical order."""
        return temperature_scale(probs, self.temperature, np.array(self.bias))

    def apply(self, scores: Mapping[str, float]) -> Scores:
        """Calibrate one distribution."""
        return as_scores(self.apply_array(as_array(scores)))

    def equal_priors_array(self, calibrated: np.ndarray) -> np.ndarray:
        """Calibrated (7,) or (n, 7) probabilities moved to equal emotion priors."""
        if self.prior is None:
            return calibrated
        swapped = calibrated / np.array(self.prior)
        return np.asarray(swapped / swapped.sum(axis=-1, keepdims=True))

    def equal_priors(self, calibrated: Mapping[str, float]) -> Scores:
        """One calibrated distribution moved to equal emotion priors."""
        return as_scores(self.equal_priors_array(as_array(calibrated)))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "fingerprint": self.fingerprint,
            "method": self.method,
            "temperature": self.temperature,
            "bias": dict(zip(EMOTIONS, self.bias, strict=True)),
        }
        if self.prior is not None:
            d["prior"] = dict(zip(EMOTIONS, self.prior, strict=True))
        d["figures"] = self.figures
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChannelCalibration:
        bias = d.get("bias") or {}
        prior_d = d.get("prior")
        prior = None
        if prior_d:
            prior = tuple(float(prior_d[k]) for k in EMOTIONS)
            if not all(math.isfinite(p) and p > 0 for p in prior):
                raise ValueError("a prior must be positive")
        return cls(
            fingerprint=str(d["fingerprint"]),
            temperature=_positive(d["temperature"]),
            bias=tuple(float(bias.get(k, 0.0)) for k in EMOTIONS),
            prior=prior,
            method=str(d.get("method", CHANNEL_METHOD)),
            figures=dict(d.get("figures") or {}),
        )


FUSION_FEATURES = ("bias", "agreement", "same_label", "log_overlap", "log_top_product")


def fusion_features(
    text: np.ndarray, vision: np.ndarray, agreement: np.ndarray, same_label: np.ndarray
) -> np.ndarray:
    """What the fused temperature depends on, per reading (rows of ``FUSION_FEATURES``).

    ``agreement`` (1 - JS distance) and ``same_label`` describe how far the channels agree;
    ``log_overlap`` is ``log Σ p_text·p_vision``, the chance that the two would name the same
    emotion if each drew one, which on the validation pairs best tells one-emotion posts from
    mixed ones; ``log_top_product`` (the sum of the channels' log top probabilities) says how
    sure both are.

    Args:
        text, vision: (n, 7) or (7,) channel probabilities (as fused: on equal priors).
        agreement, same_label: per reading.
    """
    t, v = np.atleast_2d(text), np.atleast_2d(vision)
    overlap = np.log(np.clip((t * v).sum(axis=1), EPS, None))
    tops = np.log(np.clip(t.max(axis=1), EPS, None)) + np.log(np.clip(v.max(axis=1), EPS, None))
    columns = [
        np.ones(len(t)),
        np.atleast_1d(agreement).astype(np.float64),
        np.atleast_1d(same_label).astype(np.float64),
        overlap,
        tops,
    ]
    return np.column_stack(columns)


def agreement_temperatures(theta: np.ndarray, features: np.ndarray) -> np.ndarray:
    """``exp(θ · features)`` per row (a shorter θ uses the first features)."""
    return np.asarray(np.exp(features[:, : len(theta)] @ theta))


@dataclass(frozen=True)
class FusionCalibration:
    """Agreement-aware temperature for one fusion rule, on a grid of text weights.

    ``T = exp(θ · features)`` with the features of ``fusion_features`` (a θ shorter than the
    feature list uses the first ones).
    """

    rule: str
    weights: tuple[float, ...]  # text weights of the grid, ascending
    thetas: tuple[tuple[float, ...], ...]  # one θ per grid weight
    method: str = FUSION_METHOD

    def theta(self, text_weight: float) -> tuple[float, ...]:
        """θ at ``text_weight``, linearly interpolated between grid points (clamped)."""
        w = min(max(text_weight, self.weights[0]), self.weights[-1])
        columns = np.array(self.thetas).T
        return tuple(float(np.interp(w, self.weights, col)) for col in columns)

    def temperatures(self, text_weight: float, features: np.ndarray) -> np.ndarray:
        """The fused temperature of each row of ``features``."""
        return agreement_temperatures(np.array(self.theta(text_weight)), features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "grid": [
                {"text_weight": w, "theta": list(t)}
                for w, t in zip(self.weights, self.thetas, strict=True)
            ],
        }

    @classmethod
    def from_dict(cls, rule: str, d: Mapping[str, Any]) -> FusionCalibration:
        grid = sorted(d["grid"], key=lambda g: float(g["text_weight"]))
        if not grid:
            raise ValueError("empty fusion grid")
        thetas = []
        for g in grid:
            theta = tuple(float(x) for x in g["theta"])
            if not theta or len(theta) > len(FUSION_FEATURES):
                raise ValueError(f"a theta has {len(theta)} values")
            if not all(math.isfinite(x) for x in theta):
                raise ValueError("non-finite theta")
            thetas.append(theta)
        if len({len(t) for t in thetas}) != 1:
            raise ValueError("thetas of different lengths")
        return cls(
            rule=rule,
            weights=tuple(float(g["text_weight"]) for g in grid),
            thetas=tuple(thetas),
            method=str(d.get("method", FUSION_METHOD)),
        )


@dataclass(frozen=True)
class LevelStats:
    """What one verdict meant on the validation pairs.

    Attributes:
        accuracy: how often the fused label was right, on the pairs that expressed one emotion.
        same_share: how many of the pairs with this verdict expressed one emotion.
        share: this verdict's share of all validation pairs.
        count: validation pairs with this verdict.
    """

    accuracy: float
    same_share: float
    share: float
    count: int


@dataclass(frozen=True)
class CalibrationSet:
    """Everything in one calibration file.

    Attributes:
        channels: ``{"text:builtin:lite": ChannelCalibration, "vision:local": ...}``.
        fusion: per fusion rule, for the calibrated channel pair ``pair``.
        pair: the (text key, vision key) the fusion maps were fitted for.
        levels: agreement-level thresholds (``mixed_min``, ``strong_min``).
        level_stats: per rule, per level word, how often the fused label was right.
        default_rule: the fusion rule validation chose.
    """

    channels: dict[str, ChannelCalibration] = field(default_factory=dict)
    fusion: dict[str, FusionCalibration] = field(default_factory=dict)
    pair: tuple[str, str] = ("", "")
    levels: dict[str, float] = field(default_factory=dict)
    level_stats: dict[str, dict[str, LevelStats]] = field(default_factory=dict)
    default_rule: str = "weighted"
    provenance: dict[str, Any] = field(default_factory=dict)

    def channel(self, key: str, files: Sequence[Path]) -> ChannelCalibration | None:
        """The calibration for channel ``key`` when it was fitted on exactly ``files``."""
        entry = self.channels.get(key)
        if entry is None:
            return None
        actual = files_fingerprint(files)
        if actual != entry.fingerprint:
            log.warning(
                "calibration for %s was fitted on other model files (%s, these are %s); "
                "its numbers are shown uncalibrated",
                key,
                entry.fingerprint,
                actual,
            )
            return None
        return entry

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CalibrationSet:
        if d.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} file")
        channels = {k: ChannelCalibration.from_dict(v) for k, v in d.get("channels", {}).items()}
        fusion_d = d.get("fusion") or {}
        rules = fusion_d.get("rules") or {}
        fusion = {rule: FusionCalibration.from_dict(rule, v) for rule, v in rules.items()}
        pair = fusion_d.get("pair") or ["", ""]
        stats = {
            rule: {
                level: LevelStats(
                    float(s["accuracy"]),
                    float(s.get("same_share", 1.0)),
                    float(s["share"]),
                    int(s["count"]),
                )
                for level, s in per_level.items()
            }
            for rule, per_level in (d.get("level_stats") or {}).items()
        }
        return cls(
            channels=channels,
            fusion=fusion,
            pair=(str(pair[0]), str(pair[1])),
            levels={k: float(v) for k, v in (d.get("levels") or {}).items()},
            level_stats=stats,
            default_rule=str(d.get("default_rule", "weighted")),
            provenance=dict(d.get("provenance") or {}),
        )


def _positive(value: Any) -> float:
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"temperature must be a positive number, got {value!r}")
    return number


_fingerprints: dict[tuple[str, ...], str] = {}
_fp_lock = threading.Lock()


def files_fingerprint(files: Sequence[Path]) -> str:
    """sha256 over the bytes of ``files`` in order, first 16 hex digits (cached per process)."""
    key = tuple(str(p) for p in files)
    with _fp_lock:
        cached = _fingerprints.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    for path in files:
        digest.update(Path(path).read_bytes())
    value = digest.hexdigest()[:16]
    with _fp_lock:
        _fingerprints[key] = value
    return value


_loaded: dict[str, CalibrationSet] = {}
_load_lock = threading.Lock()


def load_calibration(path: Path | None = None) -> CalibrationSet:
    """The shipped calibration (cached); an empty set when the file is missing or broken.

    An empty set means every reading is shown uncalibrated (``calibrated: false``), never that
    the analysis fails.
    """
    path = path or resource_path(*CALIBRATION_PARTS)
    with _load_lock:
        cached = _loaded.get(str(path))
        if cached is not None:
            return cached
        try:
            found = CalibrationSet.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            log.warning("no calibration file at %s; readings are shown uncalibrated", path)
            found = CalibrationSet()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "calibration file %s is unusable (%s); readings are uncalibrated", path, exc
            )
            found = CalibrationSet()
        _loaded[str(path)] = found
        return found


def clear_cache() -> None:
    """Forget loaded calibration files and fingerprints (tests, after a model change)."""
    with _load_lock:
        _loaded.clear()
    with _fp_lock:
        _fingerprints.clear()
