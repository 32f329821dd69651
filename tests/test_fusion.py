"""Fusion and agreement: unit and property tests."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vsa_desktop.core.fusion import agreement, check_weights, fuse, fused_confidence, js_distance
from vsa_desktop.core.taxonomy import EMOTIONS

distributions = (
    st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=7, max_size=7)
    .filter(lambda xs: sum(xs) > 1e-3)
    .map(lambda xs: {k: x / sum(xs) for k, x in zip(EMOTIONS, xs, strict=False)})
)
text_weights = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def one_hot(key: str) -> dict[str, float]:
    return {k: 1.0 if k == key else 0.0 for k in EMOTIONS}


@given(distributions, distributions, text_weights)
def test_fused_scores_are_a_distribution(a: dict, b: dict, w: float) -> None:
    result = fuse(a, b, (w, 1.0 - w))
    assert result is not None
    assert list(result.scores) == list(EMOTIONS)
    assert all(0.0 <= v <= 1.0 for v in result.scores.values())
    assert math.fsum(result.scores.values()) == pytest.approx(1.0, abs=1e-6)
    assert 0.0 <= result.confidence <= 1.0
    assert result.agreement is not None and 0.0 <= result.agreement.score <= 1.0


@given(distributions, distributions)
def test_agreement_is_symmetric(a: dict, b: dict) -> None:
    assert agreement(a, b).score == pytest.approx(agreement(b, a).score, abs=1e-12)
    assert agreement(a, b).level == agreement(b, a).level


@given(distributions, distributions, text_weights)
def test_swapping_channels_and_weights_gives_the_same_fusion(a: dict, b: dict, w: float) -> None:
    left, right = fuse(a, b, (w, 1 - w)), fuse(b, a, (1 - w, w))
    assert left is not None and right is not None
    for k in EMOTIONS:
        assert left.scores[k] == pytest.approx(right.scores[k], abs=1e-9)


@given(distributions)
def test_identical_inputs_agree_fully(a: dict) -> None:
    agree = agreement(a, a)
    assert agree.score == pytest.approx(1.0, abs=1e-6)
    assert agree.same_label and agree.level == "consistent"


def test_disjoint_one_hot_distributions_diverge_completely() -> None:
    assert js_distance(one_hot("happy"), one_hot("sad")) == pytest.approx(1.0)
    agree = agreement(one_hot("happy"), one_hot("sad"))
    assert agree.score == pytest.approx(0.0) and agree.level == "divergent"
    assert not agree.same_label


def test_mixed_level_between_the_thresholds() -> None:
    a = {"happy": 0.6, "sad": 0.4}
    b = {"happy": 0.4, "sad": 0.6}
    # By hand: m = (.5, .5); KL(a||m) = .6 log2 1.2 + .4 log2 .8 = 0.029049 = JSD;
    # distance = sqrt(0.029049) = 0.170438, so the score is 0.829562.
    agree = agreement(a, b)
    assert agree.score == pytest.approx(0.829562, abs=1e-6)
    assert not agree.same_label and agree.level == "mixed"
    close = agreement(a, {"happy": 0.55, "sad": 0.45})
    assert close.same_label and close.level == "consistent"


def test_agreement_raises_confidence_and_divergence_lowers_it() -> None:
    p = 0.5
    assert fused_confidence(p, 1.0) > p > fused_confidence(p, 0.0)
    assert fused_confidence(p, 0.5) == pytest.approx(p)
    agree = fuse(one_hot("happy"), one_hot("happy"))
    part = fuse({"happy": 0.7, "sad": 0.3}, {"happy": 0.3, "sad": 0.7})
    assert agree is not None and part is not None
    assert agree.confidence == pytest.approx(1.0)
    # different top labels: never more confident than the fused top probability
    assert part.confidence < max(part.scores.values())
    assert fused_confidence(0.5, 0.9, same_label=False) < fused_confidence(0.5, 0.9)


def test_default_weights_are_half_and_half() -> None:
    result = fuse(one_hot("happy"), one_hot("sad"))
    assert result is not None
    assert result.weights == {"text": 0.5, "vision": 0.5}
    assert result.scores["happy"] == pytest.approx(0.5) and result.scores["sad"] == pytest.approx(
        0.5
    )


def test_single_channel_results_are_marked() -> None:
    text_only = fuse(one_hot("sad"), None, text_confidence=0.9)
    assert text_only is not None
    assert text_only.single_channel == "text" and text_only.agreement is None
    assert text_only.label == "sad" and text_only.confidence == 0.9
    vision_only = fuse(None, one_hot("fear"))
    assert vision_only is not None and vision_only.single_channel == "vision"
    assert fuse(None, None) is None


@pytest.mark.parametrize("weights", [(0.7, 0.7), (-0.5, 1.5), (float("nan"), 0.5)])
def test_bad_weights_are_refused(weights: tuple[float, float]) -> None:
    with pytest.raises(ValueError):
        check_weights(*weights)
