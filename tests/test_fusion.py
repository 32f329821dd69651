"""Fusion and agreement: unit and property tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vsa_desktop.core.calibration import FusionCalibration
from vsa_desktop.core.fusion import (
    RULES,
    Levels,
    agreement,
    check_rule,
    check_weights,
    fuse,
    js_distance,
    js_distances,
    pool,
)
from vsa_desktop.core.taxonomy import EMOTIONS

distributions = (
    st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=7, max_size=7)
    .filter(lambda xs: sum(xs) > 1e-3)
    .map(lambda xs: {k: x / sum(xs) for k, x in zip(EMOTIONS, xs, strict=False)})
)
text_weights = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
rules = st.sampled_from(RULES)


def one_hot(key: str) -> dict[str, float]:
    return {k: 1.0 if k == key else 0.0 for k in EMOTIONS}


def as_list(d: dict) -> list[float]:
    return [d[k] for k in EMOTIONS]


@given(distributions, distributions, text_weights, rules)
def test_fused_scores_are_a_distribution(a: dict, b: dict, w: float, rule: str) -> None:
    result = fuse(a, b, (w, 1.0 - w), rule)
    assert result is not None
    assert list(result.scores) == list(EMOTIONS)
    assert all(0.0 <= v <= 1.0 for v in result.scores.values())
    assert math.fsum(result.scores.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.confidence == max(result.scores.values())
    assert result.agreement is not None and 0.0 <= result.agreement.score <= 1.0
    assert not result.calibrated and result.probabilities is None


@given(distributions, distributions)
def test_agreement_is_symmetric(a: dict, b: dict) -> None:
    assert agreement(a, b).score == pytest.approx(agreement(b, a).score, abs=1e-12)
    assert agreement(a, b).level == agreement(b, a).level


@given(distributions, distributions, text_weights, rules)
def test_swapping_channels_and_weights_gives_the_same_fusion(
    a: dict, b: dict, w: float, rule: str
) -> None:
    left, right = fuse(a, b, (w, 1 - w), rule), fuse(b, a, (1 - w, w), rule)
    assert left is not None and right is not None
    for k in EMOTIONS:
        assert left.scores[k] == pytest.approx(right.scores[k], abs=1e-9)


@given(distributions, distributions)
def test_vectorised_js_matches_the_scalar_one(a: dict, b: dict) -> None:
    batch = js_distances(np.array([as_list(a), as_list(b)]), np.array([as_list(b), as_list(a)]))
    assert batch[0] == pytest.approx(js_distance(a, b), abs=1e-12)
    assert batch[1] == pytest.approx(batch[0], abs=1e-12)


@given(distributions)
def test_identical_inputs_agree_fully(a: dict) -> None:
    agree = agreement(a, a)
    assert agree.score == pytest.approx(1.0, abs=1e-6)
    assert agree.same_label and agree.level == "consistent" and agree.verdict == "consistent"


@given(distributions, distributions, st.floats(0, 1), st.floats(0, 1))
def test_the_verdict_never_contradicts_the_labels(a: dict, b: dict, mixed: float, strong: float):
    agree = agreement(a, b, Levels(mixed_min=mixed, strong_min=strong))
    if agree.same_label:
        assert agree.level == "consistent"
        assert agree.verdict in ("consistent", "different-strength")
    else:
        assert agree.level in ("mixed", "divergent") and agree.verdict == agree.level


def test_disjoint_one_hot_distributions_diverge_completely() -> None:
    assert js_distance(one_hot("happy"), one_hot("sad")) == pytest.approx(1.0)
    agree = agreement(one_hot("happy"), one_hot("sad"))
    assert agree.score == pytest.approx(0.0) and agree.level == "divergent"
    assert not agree.same_label


def test_levels_by_hand() -> None:
    a = {"happy": 0.6, "sad": 0.4}
    b = {"happy": 0.4, "sad": 0.6}
    # By hand: m = (.5, .5); KL(a||m) = .6 log2 1.2 + .4 log2 .8 = 0.029049 = JSD;
    # distance = sqrt(0.029049) = 0.170438, so the score is 0.829562.
    agree = agreement(a, b, Levels(mixed_min=0.4, strong_min=0.6))
    assert agree.score == pytest.approx(0.829562, abs=1e-6)
    assert not agree.same_label and agree.level == "mixed"
    assert agreement(a, b, Levels(mixed_min=0.9)).level == "divergent"
    close = agreement(a, {"happy": 0.55, "sad": 0.45}, Levels(strong_min=0.6))
    assert close.same_label and close.verdict == "consistent"
    # the example: text happy 38 %, face happy 100 % is the same emotion, not divergent
    text = {"happy": 0.38, "neutral": 0.3, "sad": 0.32}
    weak = agreement(text, one_hot("happy"), Levels(mixed_min=0.4, strong_min=0.6))
    assert weak.score < 0.6 and weak.level == "consistent" and weak.verdict == "different-strength"


def test_product_rule_by_hand() -> None:
    a = {"happy": 0.6, "sad": 0.4}
    b = {"happy": 0.8, "sad": 0.2}
    fused = fuse(a, b, (0.5, 0.5), "product")
    assert fused is not None
    # 0.6*0.8 = 0.48, 0.4*0.2 = 0.08 (the other five are ~1e-24): happy 0.48/0.56
    assert fused.scores["happy"] == pytest.approx(0.48 / 0.56, abs=1e-9)
    weighted = fuse(a, b, (0.5, 0.5), "weighted")
    assert weighted is not None and weighted.scores["happy"] == pytest.approx(0.7)
    # the product pools two agreeing channels more sharply than their average
    assert fused.scores["happy"] > weighted.scores["happy"]


def test_weight_one_gives_that_channel_alone() -> None:
    a, b = {"happy": 0.6, "sad": 0.4}, {"angry": 1.0}
    for rule in RULES:
        fused = fuse(a, b, (1.0, 0.0), rule)
        assert fused is not None
        assert fused.scores["happy"] == pytest.approx(0.6, abs=1e-9)


def test_calibrated_fusion_uses_the_temperature_and_keeps_the_label() -> None:
    a = {"happy": 0.6, "sad": 0.4}
    b = {"happy": 0.7, "sad": 0.3}
    sharpen = FusionCalibration("product", (0.0, 1.0), ((-0.5, 0.0, 0.0), (-0.5, 0.0, 0.0)))
    raw = fuse(a, b, rule="product")
    cal = fuse(a, b, rule="product", calibration=sharpen)
    assert raw is not None and cal is not None
    assert cal.calibrated and cal.calibration == "agreement-temperature-v1"
    assert cal.scores == raw.scores  # the pooled scores stay as they were
    assert cal.probabilities is not None and cal.label == raw.label == "happy"
    assert cal.confidence == cal.probabilities["happy"] > raw.confidence
    expected = np.array([0.42, 0.12]) ** (1 / math.exp(-0.5))
    assert cal.confidence == pytest.approx(expected[0] / expected.sum(), abs=1e-6)


def test_fusion_calibration_interpolates_between_grid_weights() -> None:
    grid = FusionCalibration("weighted", (0.0, 0.5, 1.0), ((0, 0, 0), (1, 2, 3), (3, 0, 0)))
    assert grid.theta(0.25) == pytest.approx((0.5, 1.0, 1.5))
    assert grid.theta(2.0) == pytest.approx((3.0, 0.0, 0.0))  # clamped
    # features: bias, agreement, same label, log overlap, log top product
    features = np.array([[1.0, 0.5, 1.0, -0.2, -0.4]])
    assert grid.temperatures(0.5, features)[0] == pytest.approx(math.exp(1 + 1 + 3 * 1.0))
    longer = FusionCalibration("weighted", (0.0,), ((0.1, 0, 0, 2.0, -1.0),))
    assert longer.temperatures(0.0, features)[0] == pytest.approx(math.exp(0.1 - 0.4 + 0.4))


def test_pool_accepts_batches() -> None:
    a = np.array([[0.6, 0.4, 0, 0, 0, 0, 0], [0.1, 0.9, 0, 0, 0, 0, 0]])
    b = np.array([[0.8, 0.2, 0, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0, 0, 0]])
    for rule in RULES:
        pooled = pool(a, b, 0.5, rule)
        assert pooled.shape == (2, 7)
        np.testing.assert_allclose(pooled.sum(axis=1), 1.0)


def test_default_weights_are_half_and_half() -> None:
    result = fuse(one_hot("happy"), one_hot("sad"), rule="weighted")
    assert result is not None
    assert result.weights == {"text": 0.5, "vision": 0.5}
    assert result.scores["happy"] == pytest.approx(0.5)
    assert result.scores["sad"] == pytest.approx(0.5)


def test_single_channel_results_are_marked() -> None:
    text_only = fuse(one_hot("sad"), None, single_calibrated=True)
    assert text_only is not None
    assert text_only.single_channel == "text" and text_only.agreement is None
    assert text_only.label == "sad" and text_only.confidence == 1.0 and text_only.calibrated
    vision_only = fuse(None, one_hot("fear"))
    assert vision_only is not None and vision_only.single_channel == "vision"
    assert not vision_only.calibrated
    assert fuse(None, None) is None


@pytest.mark.parametrize("weights", [(0.7, 0.7), (-0.5, 1.5), (float("nan"), 0.5)])
def test_bad_weights_are_refused(weights: tuple[float, float]) -> None:
    with pytest.raises(ValueError):
        check_weights(*weights)


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fusion rule"):
        check_rule("average")
