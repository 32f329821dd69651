"""Fusion of the text and vision distributions, and the agreement between them (pure functions).

Agreement score: ``1 - JSD`` where JSD is the Jensen-Shannon *distance* in base 2 (the square
root of the divergence), so the score lies in [0, 1] and is 1 for identical distributions.

Levels (documented thresholds, also in the README):
    consistent  same top label and score >= 0.60
    divergent   score < 0.40
    mixed       everything else ("mixed signals")

Fused confidence is ``p ** (1.5 - a)`` where ``p`` is the fused top probability and ``a`` the
agreement score, halved when the two channels' top labels differ. Agreement above 0.5 raises
the confidence (to ``sqrt(p)`` at full agreement), below 0.5 lowers it (to ``p ** 1.5``); two
channels with different top labels never raise it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from vsa_desktop.core.result import Agreement, FusionResult, Scores
from vsa_desktop.core.taxonomy import EMOTIONS, top

CONSISTENT_MIN = 0.60
DIVERGENT_BELOW = 0.40
DEFAULT_WEIGHTS = (0.5, 0.5)


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


def weighted_sum(a: Mapping[str, float], b: Mapping[str, float], wa: float, wb: float) -> Scores:
    """Return ``wa * a + wb * b`` over the seven keys, renormalised against rounding."""
    raw = [wa * a.get(k, 0.0) + wb * b.get(k, 0.0) for k in EMOTIONS]
    total = math.fsum(raw)
    return {k: v / total for k, v in zip(EMOTIONS, raw, strict=True)}


def _kl2(p: list[float], m: list[float]) -> float:
    # mi == 0 with pi > 0 only happens for subnormal pi (m = p / 2 underflows): negligible.
    return math.fsum(
        pi * math.log2(pi / mi) for pi, mi in zip(p, m, strict=True) if pi > 0 and mi > 0
    )


def js_distance(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Jensen-Shannon distance in base 2 between two distributions over the seven keys."""
    p = [max(0.0, float(a.get(k, 0.0))) for k in EMOTIONS]
    q = [max(0.0, float(b.get(k, 0.0))) for k in EMOTIONS]
    m = [(pi + qi) / 2 for pi, qi in zip(p, q, strict=True)]
    divergence = (_kl2(p, m) + _kl2(q, m)) / 2
    return math.sqrt(min(1.0, max(0.0, divergence)))


def agreement(a: Mapping[str, float], b: Mapping[str, float]) -> Agreement:
    """Compare two distributions: same top label, ``1 - JS distance`` and a level."""
    same = top(a)[0] == top(b)[0]
    score = 1.0 - js_distance(a, b)
    if same and score >= CONSISTENT_MIN:
        level = "consistent"
    elif score < DIVERGENT_BELOW:
        level = "divergent"
    else:
        level = "mixed"
    return Agreement(same_label=same, score=score, level=level)


def fused_confidence(
    top_probability: float, agreement_score: float, same_label: bool = True
) -> float:
    """Confidence of the fused label, raised by agreement and lowered by divergence."""
    effective = agreement_score if same_label else agreement_score / 2
    return float(top_probability ** (1.5 - effective))


def fuse(
    text: Mapping[str, float] | None,
    vision: Mapping[str, float] | None,
    weights: tuple[float, float] = DEFAULT_WEIGHTS,
    text_confidence: float | None = None,
    vision_confidence: float | None = None,
) -> FusionResult | None:
    """Fuse the two channels; with one missing, return that channel marked single-channel.

    Returns:
        The fused reading, or None when neither channel has scores.
    """
    wt, wv = check_weights(*weights)
    if text is None and vision is None:
        return None
    if text is None or vision is None:
        channel, scores = ("text", text) if text is not None else ("vision", vision)
        assert scores is not None
        label, p = top(scores)
        given = text_confidence if channel == "text" else vision_confidence
        return FusionResult(
            weights={
                "text": 1.0 if channel == "text" else 0.0,
                "vision": 1.0 if channel == "vision" else 0.0,
            },
            scores={k: float(scores.get(k, 0.0)) for k in EMOTIONS},
            label=label,
            confidence=float(given if given is not None else p),
            agreement=None,
            single_channel=channel,
        )
    scores = weighted_sum(text, vision, wt, wv)
    agree = agreement(text, vision)
    label, p = top(scores)
    return FusionResult(
        weights={"text": wt, "vision": wv},
        scores=scores,
        label=label,
        confidence=fused_confidence(p, agree.score, agree.same_label),
        agreement=agree,
    )
