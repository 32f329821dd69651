"""Fusion of the text and vision distributions, and the agreement between them (pure functions).

Rules (``--fusion`` / Settings), both on the channels' shown (calibrated when possible)
probabilities, with the text weight ``w`` (default 0.5):

    weighted   w·p_text + (1 - w)·p_vision                   (linear pool, the seed's rule)
    product    p_text^a · p_vision^b, normalised, with a = min(1, 2w), b = min(1, 2(1 - w))
               (log-linear pool: at 50/50 the plain product of the two channels, which is how
               two independent pieces of evidence combine when every emotion is equally likely
               beforehand; moving the weight discounts the other channel, down to one channel
               alone at 0 or 1)

The pooled distribution is ``fusion.scores``. When both channels are calibrated, the pooled
distribution is then sharpened or flattened by the fitted agreement-aware temperature
(``core.calibration``): that is ``fusion.probabilities``, its top value is the one confidence
shown everywhere (``fusion.confidence``).

Agreement: ``1 - JSD`` (Jensen-Shannon *distance*, base 2) between the two channels, in [0, 1],
plus whether their top labels match. The verdict can never contradict the labels it names:

    same top label       consistent ("Consistent" when agreement >= strong_min, else "Same
                         emotion, different strength")
    different top labels mixed ("Mixed signals") when agreement >= mixed_min, else divergent

The thresholds come from the validation pairs (``scripts/calibrate.py``; defaults below).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from vsa_desktop.core.calibration import (
    FusionCalibration,
    LevelStats,
    as_array,
    as_scores,
    fusion_features,
    log_probs,
    softmax_rows,
)
from vsa_desktop.core.result import Agreement, FusionResult, Scores
from vsa_desktop.core.taxonomy import EMOTIONS, top

DEFAULT_WEIGHTS = (0.5, 0.5)
RULES = ("weighted", "product")
DEFAULT_RULE = "product"
MIXED_MIN = 0.40  # different labels: mixed at or above, divergent below
STRONG_MIN = 0.60  # same label: "consistent" at or above, "same emotion, different strength" below


@dataclass(frozen=True)
class Levels:
    """Agreement thresholds and, when measured, how often each verdict's label was right."""

    mixed_min: float = MIXED_MIN
    strong_min: float = STRONG_MIN
    stats: Mapping[str, LevelStats] | None = None


def check_weights(text: float, vision: float) -> tuple[float, float]:
    """Validate a pair of channel weights.

    Raises:
        ValueError: when a weight is negative or not finite, or they do not sum to 1.
    """
    if not all(math.isfinite(w) and w >= 0 for w in (text, vision)):
        raise ValueError("weights must be non-negative numbers")
    if abs(text + vision - 1.0) > 1e-6:
        raise ValueError(f"weights must sum to 1 (got {text:g} + {vision:g})")
    return float(text), float(vision)


def check_rule(rule: str) -> str:
    """Validate a fusion rule name.

    Raises:
        ValueError: for a name that is not one of ``RULES``.
    """
    if rule not in RULES:
        raise ValueError(f"unknown fusion rule {rule!r} (choose {' or '.join(RULES)})")
    return rule


def pool(text: np.ndarray, vision: np.ndarray, text_weight: float, rule: str) -> np.ndarray:
    """Pool two (7,) or (n, 7) distributions by ``rule``; rows sum to 1."""
    if rule == "weighted":
        mixed = text_weight * text + (1.0 - text_weight) * vision
        return np.asarray(mixed / mixed.sum(axis=-1, keepdims=True))
    check_rule(rule)
    a, b = product_exponents(text_weight)
    return softmax_rows(a * log_probs(text) + b * log_probs(vision))


def product_exponents(text_weight: float) -> tuple[float, float]:
    """The exponents of the product rule: both 1 at 50/50, one channel alone at 0 or 1."""
    return min(1.0, 2.0 * text_weight), min(1.0, 2.0 * (1.0 - text_weight))


def js_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (base 2) between rows of two (n, 7) arrays (or two (7,))."""
    p = np.clip(np.asarray(a, dtype=np.float64), 0.0, None)
    q = np.clip(np.asarray(b, dtype=np.float64), 0.0, None)
    m = (p + q) / 2.0

    def kl2(x: np.ndarray) -> np.ndarray:
        # terms with x == 0 are 0; m == 0 with x > 0 only happens for subnormal x: negligible
        safe = (x > 0) & (m > 0)
        ratio = np.divide(x, m, out=np.ones_like(x), where=safe)
        return np.asarray(np.sum(np.where(safe, x * np.log2(ratio), 0.0), axis=-1))

    divergence = (kl2(p) + kl2(q)) / 2.0
    return np.asarray(np.sqrt(np.clip(divergence, 0.0, 1.0)))


def js_distance(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Jensen-Shannon distance in base 2 between two distributions over the seven keys."""
    return float(js_distances(as_array(a), as_array(b)))


def verdict_key(same_label: bool, score: float, levels: Levels) -> str:
    """``consistent``, ``different-strength``, ``mixed`` or ``divergent``."""
    if same_label:
        return "consistent" if score >= levels.strong_min else "different-strength"
    return "mixed" if score >= levels.mixed_min else "divergent"


LEVEL_OF_VERDICT = {
    "consistent": "consistent",
    "different-strength": "consistent",
    "mixed": "mixed",
    "divergent": "divergent",
}


def agreement(
    a: Mapping[str, float], b: Mapping[str, float], levels: Levels | None = None
) -> Agreement:
    """Compare two distributions: same top label, ``1 - JS distance``, level and verdict."""
    levels = levels or Levels()
    same = top(a)[0] == top(b)[0]
    score = 1.0 - js_distance(a, b)
    key = verdict_key(same, score, levels)
    stats = levels.stats.get(key) if levels.stats else None
    return Agreement(
        same_label=same,
        score=score,
        level=LEVEL_OF_VERDICT[key],
        verdict=key,
        validated_accuracy=stats.accuracy if stats else None,
        validated_same_share=stats.same_share if stats else None,
    )


def fuse(
    text: Mapping[str, float] | None,
    vision: Mapping[str, float] | None,
    weights: tuple[float, float] = DEFAULT_WEIGHTS,
    rule: str = DEFAULT_RULE,
    *,
    calibration: FusionCalibration | None = None,
    levels: Levels | None = None,
    single_calibrated: bool = False,
) -> FusionResult | None:
    """Fuse the two channels' shown probabilities; with one missing, return that channel's.

    Args:
        text, vision: each channel's shown (calibrated when possible) probabilities.
        weights: (text, vision), summing to 1.
        rule: ``weighted`` or ``product``.
        calibration: the fitted temperature for this rule and channel pair; None when the
            channels are not the calibrated pair (the pooled scores are then shown as they are).
        levels: agreement thresholds and their validation figures.
        single_calibrated: for a single-channel reading, whether that channel is calibrated.

    Returns:
        The fused reading, or None when neither channel has scores.
    """
    wt, wv = check_weights(*weights)
    check_rule(rule)
    if text is None and vision is None:
        return None
    if text is None or vision is None:
        channel, scores = ("text", text) if text is not None else ("vision", vision)
        assert scores is not None
        shown = {k: float(scores.get(k, 0.0)) for k in EMOTIONS}
        label, p = top(shown)
        return FusionResult(
            weights={"text": float(channel == "text"), "vision": float(channel == "vision")},
            scores=shown,
            label=label,
            confidence=p,
            agreement=None,
            single_channel=channel,
            rule=rule,
            calibrated=single_calibrated,
            calibration="channel" if single_calibrated else None,
        )
    pt, pv = as_array(text), as_array(vision)
    pooled = pool(pt, pv, wt, rule)
    agree = agreement(text, vision, levels)
    probabilities: Scores | None = None
    if calibration is not None:
        features = fusion_features(pt, pv, np.array([agree.score]), np.array([agree.same_label]))
        temperature = float(calibration.temperatures(wt, features)[0])
        probabilities = as_scores(softmax_rows(log_probs(pooled) / temperature))
    scores = as_scores(pooled)
    label, p = top(probabilities or scores)
    return FusionResult(
        weights={"text": wt, "vision": wv},
        scores=scores,
        label=label,
        confidence=p,
        agreement=agree,
        rule=rule,
        probabilities=probabilities,
        calibrated=calibration is not None,
        calibration=calibration.method if calibration is not None else None,
    )
