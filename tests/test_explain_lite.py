"""Exact word attributions of the built-in lite text model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from tests.test_explain_segment import texts
from vsa_desktop.core.explain import LONG_WORDS, explain_text
from vsa_desktop.core.explain import lite as explain_lite
from vsa_desktop.core.explain.segment import units
from vsa_desktop.core.explanation import LITE_METHOD, LOGIT_UNIT
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.text import lite_features
from vsa_desktop.core.text.lite import LiteTextAnalyzer, load_lite

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "goemotions-ekman" / "dev.tsv"
NEUTRAL = [
    "The meeting is at three o'clock.",
    "The train leaves from platform four.",
    "Please send me the report by Friday.",
    "I bought bread and milk at the store.",
    "The package arrived this morning.",
]
LARGE = 1.0  # a logit: the word alone multiplies the label's odds by e against the rest


@pytest.fixture(scope="module")
def lite() -> LiteTextAnalyzer:
    return load_lite()


def _dev_texts(n: int) -> list[str]:
    if not DEV.is_file():
        pytest.skip("GoEmotions dev split not on this machine (/work/shared)")
    rows = DEV.read_text(encoding="utf-8").splitlines()[:n]
    return [row.split("\t")[0] for row in rows]


def _grams(lite: LiteTextAnalyzer, text: str) -> tuple[Counter[str], Counter[str]]:
    units_ = units(text)
    found = explain_lite._tokens(text, lite.vocab.config, explain_lite._Placer(text, units_))
    words = Counter(t for t in found.tokens if t[0].isalnum() or t[0] == "_")
    return Counter(g for g, _ in found.grams), words


def _assert_exact(lite: LiteTextAnalyzer, text: str) -> explain_lite.LiteAttribution:
    attribution = explain_lite.attribute(lite, text)
    np.testing.assert_allclose(attribution.logits(), lite.logits(text), atol=1e-9)
    return attribution


@settings(max_examples=300, deadline=None)
@given(texts)
def test_position_tracking_featuriser_finds_the_models_own_features(text: str) -> None:
    lite = load_lite()
    grams, words = _grams(lite, text)
    analysis = lite_features.analyse(text, lite.vocab.config)
    assert grams == Counter(analysis.grams)
    assert words == analysis.words


@settings(max_examples=300, deadline=None)
@given(texts)
def test_parts_add_up_to_the_logits_and_spans_slice_the_text(text: str) -> None:
    lite = load_lite()
    attribution = _assert_exact(lite, text)
    if not text.strip():
        return
    explanation = explain_text(lite, text, every=True)
    for span in explanation.spans:
        assert text[span.start : span.end] == span.text
        assert span.weights is not None
        assert span.weight == span.weights[explanation.label]
    # the centred parts of the label add up to its centred, tempered logit (bias aside)
    k = EMOTIONS.index(explanation.label)
    z = (attribution.logits() - attribution.logits().mean()) / lite.temperature
    bias = (attribution.bias - attribution.bias.mean()) / lite.temperature
    residual = (attribution.residual - attribution.residual.mean()) / lite.temperature
    total = sum(s.weight for s in explanation.spans) + bias[k] + residual[k]
    assert total == pytest.approx(z[k], abs=1e-9)


def test_parts_are_exact_on_dev_texts_and_nothing_is_left_unplaced(lite) -> None:
    for text in _dev_texts(600):
        attribution = _assert_exact(lite, text)
        assert np.abs(attribution.residual).max() < 1e-12, text
        assert _grams(lite, text)[0] == Counter(
            lite_features.analyse(text, lite.vocab.config).grams
        )


def test_negated_word_shares_its_feature_with_the_negator(lite) -> None:
    text = "I am not happy"
    attribution = explain_lite.attribute(lite, text)
    # "not_happy" exists only because of both words: take "not" away and it is gone
    index = lite.vocab.words.get("not_happy")
    assert index is not None
    alone = explain_lite.attribute(lite, "I am happy")
    sad = EMOTIONS.index("sad")
    c = attribution.centred()
    assert c[2, sad] > 0  # "not" raises sadness here
    assert c[3, sad] > alone.centred()[2, sad]  # "happy" after "not" is sadder than alone


def test_hate_and_disgusting_lead_their_label(lite) -> None:
    explanation = explain_text(lite, "I hate this, it is disgusting")
    assert explanation.method == LITE_METHOD and explanation.unit == LOGIT_UNIT
    assert explanation.label == lite.analyze("I hate this, it is disgusting").label
    top = [s.text for s in explanation.top(3)]
    assert top[0] in ("hate", "disgusting")
    assert {"hate", "disgusting"} & set(top[:2])
    assert max(s.weight for s in explanation.spans) > LARGE


@pytest.mark.parametrize("text", NEUTRAL)
def test_neutral_sentence_has_no_word_with_a_large_weight(lite, text: str) -> None:
    explanation = explain_text(lite, text)
    assert explanation.label == "neutral"
    assert max(abs(s.weight) for s in explanation.spans) < LARGE


def test_any_emotion_can_be_explained(lite) -> None:
    text = "I love you but I am scared"
    happy = explain_text(lite, text, label="happy")
    fear = explain_text(lite, text, label="fear")
    assert happy.label == "happy" and fear.label == "fear"
    assert happy.top(1)[0].text == "love"
    assert fear.top(1)[0].text == "scared"
    every = explain_text(lite, text, every=True)
    assert every.top(1, emotion="fear")[0].text == "scared"
    with pytest.raises(ValueError):
        explain_text(lite, text, label="contempt")


def test_emoji_and_emoticons_carry_their_weight(lite) -> None:
    explanation = explain_text(lite, "ok 😢 :(", label="sad")
    weights = {s.text: s.weight for s in explanation.spans}
    assert weights["😢"] > LARGE / 2 and weights[":("] > LARGE / 2
    assert weights["ok"] < weights["😢"]


def test_long_texts_get_sentence_weights_that_add_up(lite) -> None:
    sentences = [
        "The bus was late again this morning and the driver did not say a word.",
        "I sat at the back and read my book until the stop.",
        "Then I found out my best friend got the job, I am so happy for her!",
    ]
    text = " ".join(sentences)
    assert len(text.split()) > LONG_WORDS
    explanation = explain_text(lite, text, label="happy")
    assert [s.text for s in explanation.sentences] == sentences
    for sentence in explanation.sentences:
        inside = [s.weight for s in explanation.spans if sentence.start <= s.start < sentence.end]
        assert sentence.weight == pytest.approx(sum(inside), abs=1e-9)
    strongest = max(explanation.sentences, key=lambda s: s.weight)
    assert strongest.text == sentences[2]
    short = explain_text(lite, sentences[2])
    assert short.sentences == ()
