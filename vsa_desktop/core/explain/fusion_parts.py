"""What moved the fused reading: each channel's part per emotion (a pure function).

- Rule ``weighted``: the fused scores are ``w·p_text + (1 - w)·p_vision``, so the parts are
  ``w·p_text`` and ``(1 - w)·p_vision`` and they add up to the fused scores.
- Rule ``product``: the fused scores are ``softmax(a·log p_text + b·log p_vision)``. The parts
  are each channel's log-evidence ``a·(log p_text - mean log p_text)`` (and the same for the
  image): positive where the channel pushes an emotion above its average, and
  ``softmax(text + vision)`` is the fused scores. A calibrated fused temperature divides both
  parts alike, so it changes neither their signs nor their ratio.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from vsa_desktop.core import fusion
from vsa_desktop.core.calibration import as_array, log_probs
from vsa_desktop.core.explanation import LOG_EVIDENCE, WEIGHTED_SCORE, FusionParts
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.taxonomy import EMOTIONS


def fusion_parts(
    text: Mapping[str, float],
    vision: Mapping[str, float],
    weights: tuple[float, float],
    rule: str,
) -> FusionParts:
    """Split a fused reading into the text's and the image's parts (see the module docstring).

    Args:
        text, vision: the channels' shown probabilities, as fused.
        weights: (text, vision) weights, summing to 1.
        rule: ``weighted`` or ``product``.

    Raises:
        ValueError: bad weights or an unknown rule.
    """
    wt, wv = fusion.check_weights(*weights)
    fusion.check_rule(rule)
    pt, pv = as_array(text), as_array(vision)
    if rule == "weighted":
        return FusionParts(WEIGHTED_SCORE, _keys(wt * pt), _keys(wv * pv))
    a, b = fusion.product_exponents(wt)
    lt, lv = log_probs(pt), log_probs(pv)
    return FusionParts(LOG_EVIDENCE, _keys(a * (lt - lt.mean())), _keys(b * (lv - lv.mean())))


def parts_of(result: AnalysisResult) -> FusionParts | None:
    """The fusion parts of a stored result; None when it has one channel (nothing was fused)."""
    fused = result.fusion
    if fused is None or result.text is None or result.vision is None or fused.single_channel:
        return None
    weights = (fused.weights.get("text", 0.5), fused.weights.get("vision", 0.5))
    return fusion_parts(result.text.shown_scores, result.vision.shown_scores, weights, fused.rule)


def _keys(values: np.ndarray) -> dict[str, float]:
    return {k: float(v) for k, v in zip(EMOTIONS, values, strict=True)}
