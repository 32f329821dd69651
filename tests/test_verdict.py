"""The words people read: the verdict table, and that the words always match the labels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vsa_desktop.core import verdict
from vsa_desktop.core.fusion import Levels, fuse
from vsa_desktop.core.result import AnalysisResult, TextResult, VisionResult
from vsa_desktop.core.taxonomy import EMOTIONS, top

distributions = (
    st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=7, max_size=7)
    .filter(lambda xs: sum(xs) > 1e-3)
    .map(lambda xs: {k: x / sum(xs) for k, x in zip(EMOTIONS, xs, strict=False)})
)


def result_for(text: dict, vision: dict, levels: Levels | None = None) -> AnalysisResult:
    t = TextResult("builtin:lite", "numpy", text, *top(text))
    v = VisionResult("local", "fer", vision, *top(vision))
    fused = fuse(text, vision, levels=levels)
    return AnalysisResult("multimodal", "x", None, t, v, fused)


def one_hot(key: str, p: float = 1.0) -> dict[str, float]:
    rest = (1 - p) / (len(EMOTIONS) - 1)
    return {k: p if k == key else rest for k in EMOTIONS}


LEVELS = Levels(mixed_min=0.4, strong_min=0.6)

# (text, image, verdict, headline, start of the agreement sentence)
TABLE = [
    (one_hot("happy", 0.9), one_hot("happy", 0.95), "consistent", "Happy", "Consistent: the text "
     "and the image both read happy"),
    (one_hot("happy", 0.38), one_hot("happy", 1.0), "different-strength", "Happy",
     "Same emotion, different strength: both read happy, the text at 38 %, the image at 100 %"),
    ({**one_hot("sad", 0.0), "sad": 0.5, "fear": 0.5 - 1e-3, "happy": 1e-3},
     {**one_hot("fear", 0.0), "fear": 0.55, "sad": 0.45}, "mixed",
     "Mixed signals: text sad, image fear", "Mixed signals: the text reads sad, the image reads fear"),
    (one_hot("sad", 0.95), one_hot("happy", 0.99), "divergent", "Divergent: text sad, image happy",
     "Divergent: the text reads sad, the image reads happy; they probably express different"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "image", "key", "headline", "sentence"), TABLE)
def test_the_verdict_table(text, image, key, headline, sentence) -> None:
    result = result_for(text, image, LEVELS)
    assert result.fusion is not None and result.fusion.agreement is not None
    assert result.fusion.agreement.verdict == key
    assert verdict.headline(result).startswith(headline)
    assert verdict.agreement_sentence(result).startswith(sentence)


@given(distributions, distributions, st.floats(0, 1), st.floats(0, 1))
def test_the_words_always_match_the_labels(text: dict, image: dict, mixed: float, strong: float):
    result = result_for(text, image, Levels(mixed_min=mixed, strong_min=strong))
    assert result.text and result.vision and result.fusion
    words = verdict.agreement_sentence(result) + " " + verdict.headline(result)
    same = result.text.label == result.vision.label
    if same:
        assert (
            "Mixed" not in words and "Divergent" not in words and "different emotions" not in words
        )
        assert f"read {result.text.label}" in words
    else:
        assert "Consistent" not in words and "Same emotion" not in words
        assert f"text reads {result.text.label}" in words
        assert f"image reads {result.vision.label}" in words
        third = result.fusion.label not in (result.text.label, result.vision.label)
        # a fused label neither channel chose is always explained, and only then
        assert ("neither channel's first choice" in words) == third
    assert verdict.percent(result.fusion.confidence) in verdict.headline(result)


def test_a_third_label_is_explained_with_both_channels_weights() -> None:
    zero = dict.fromkeys(EMOTIONS, 1e-4)
    text = {**zero, "fear": 0.52, "disgust": 0.476}
    image = {**zero, "happy": 0.969, "disgust": 0.015, "fear": 0.002, "neutral": 0.013}
    result = result_for(text, image, LEVELS)
    assert result.fusion is not None and result.fusion.label == "disgust"
    sentence = verdict.agreement_sentence(result)
    assert "The fused reading, disgust, is neither channel's first choice" in sentence
    assert "(text 48 %, image 2 %)" in sentence


def test_old_results_that_said_divergent_with_the_same_label_read_consistent() -> None:
    doc = result_for(one_hot("happy", 0.38), one_hot("happy"), LEVELS).to_dict()
    doc["fusion"]["agreement"] = {"same_label": True, "score": 0.2, "level": "divergent"}
    old = AnalysisResult.from_dict(doc)
    assert old.fusion is not None and old.fusion.agreement is not None
    assert verdict.verdict_of(old.fusion.agreement) == "consistent"
    assert not verdict.is_mixed(old)


def test_percent_is_one_format_everywhere() -> None:
    assert verdict.percent(0.655) == "66 %"
    assert verdict.percent(0.0) == "0 %" and verdict.percent(1.0) == "100 %"
    # a calibrated probability short of certainty is never written as certainty
    assert verdict.percent(0.9996) == "> 99 %" and verdict.percent(0.0004) == "< 1 %"
    assert verdict.percent(0.994) == "99 %" and verdict.percent(0.006) == "1 %"


def test_level_meaning_needs_measured_figures() -> None:
    result = result_for(one_hot("happy", 0.9), one_hot("happy", 0.95), LEVELS)
    assert result.fusion is not None
    assert verdict.level_meaning(result.fusion) == ""  # not measured for these toy models
    assert "not calibrated" in verdict.confidence_sentence(result.fusion)


def test_fusion_is_described_in_words_for_one_and_two_channels() -> None:
    both = result_for(one_hot("happy", 0.9), one_hot("sad", 0.6))
    assert both.fusion is not None
    assert verdict.fusion_words(both.fusion) == "product, text 50 % / image 50 %"
    alone = fuse(one_hot("sad", 0.9), None)
    assert alone is not None and verdict.fusion_words(alone) == "text only"
