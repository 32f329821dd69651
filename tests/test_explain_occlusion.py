"""Occlusion explanations: a toy analyzer, cancelling, long texts, and the real ONNX/torch paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from tests.test_explain_segment import texts
from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import Cancelled
from vsa_desktop.core.explain import explain_text, occlusion
from vsa_desktop.core.explain.segment import remove, units
from vsa_desktop.core.explanation import OCCLUSION_METHOD, PROBABILITY_UNIT
from vsa_desktop.core.result import TextResult
from vsa_desktop.core.taxonomy import EMOTIONS, top
from vsa_desktop.core.text import convert, loader
from vsa_desktop.core.text.onnx_backend import OnnxTextAnalyzer
from vsa_desktop.core.text.transformers_backend import TransformersTextAnalyzer


class KeywordAnalyzer:
    """Angry when the text holds the word "furious", else mostly neutral; counts its calls."""

    model_id = "toy"
    runtime = "test"

    def __init__(self, cancel_on_call: tuple[CancelToken, int] | None = None) -> None:
        self.calls: list[list[str]] = []
        self._cancel_on_call = cancel_on_call

    def analyze(self, text: str) -> TextResult:
        return self.analyze_batch([text])[0]

    def analyze_batch(self, texts: list[str]) -> list[TextResult]:
        self.calls.append(list(texts))
        if self._cancel_on_call and len(self.calls) == self._cancel_on_call[1]:
            self._cancel_on_call[0].cancel()  # the user pressed Esc while this batch ran
        out = []
        for text in texts:
            angry = "furious" in text.lower().split()
            raw = {k: 0.05 for k in EMOTIONS}
            raw["angry" if angry else "neutral"] = 0.7
            scores = {k: v / sum(raw.values()) for k, v in raw.items()}
            out.append(TextResult("toy", "test", scores, *top(scores)))
        return out


FILLER = "the bus came late and we all waited in the cold rain"


def test_occlusion_recovers_the_one_word_that_matters() -> None:
    text = "Honestly I am furious about the late train today"
    explanation = explain_text(KeywordAnalyzer(), text)
    assert explanation.method == OCCLUSION_METHOD
    assert explanation.unit == PROBABILITY_UNIT
    assert explanation.label == "angry"
    assert explanation.complete
    weights = {s.text: s.weight for s in explanation.spans}
    assert len(weights) == len(text.split())
    assert max(weights, key=lambda w: weights[w]) == "furious"
    assert weights["furious"] == pytest.approx(0.7 / 1.0 - 0.05, abs=1e-9)
    assert all(w == 0.0 for word, w in weights.items() if word != "furious")


def test_variants_are_scored_in_batches_as_one_pass() -> None:
    analyzer = KeywordAnalyzer()
    text = "I am furious"
    explain_text(analyzer, text)
    scored = [t for call in analyzer.calls for t in call]
    assert scored == [text, "am furious", "I furious", "I am"]
    assert len(analyzer.calls) == 1 + 1  # the whole text, then one batch of three


def test_a_one_word_text_compares_with_no_evidence() -> None:
    explanation = explain_text(KeywordAnalyzer(), "furious")
    (span,) = explanation.spans
    assert span.weight == pytest.approx(0.7 - 1 / 7)


def test_long_text_goes_sentence_first_then_into_the_strongest() -> None:
    sentences = [f"{FILLER}." for _ in range(3)]
    sentences.insert(2, "Then the driver told us he was furious with the company.")
    text = " ".join(sentences)
    analyzer = KeywordAnalyzer()
    explanation = explain_text(analyzer, text, max_words=16)
    assert not explanation.complete
    assert [s.text for s in explanation.sentences] == sentences
    weights = [s.weight for s in explanation.sentences]
    assert weights[2] == max(weights) and weights[2] > 0.5
    assert {s.text for s in explanation.spans} >= {"furious"}
    assert explanation.top(1)[0].text == "furious"
    # every word scored lies in the strongest sentence, and the budget held
    strong = explanation.sentences[2]
    assert all(strong.start <= s.start < strong.end for s in explanation.spans)
    scored = sum(len(call) for call in analyzer.calls)
    assert scored <= 1 + len(sentences) + 16
    for span in (*explanation.spans, *explanation.sentences):
        assert text[span.start : span.end] == span.text


def test_one_long_sentence_is_cut_into_runs_then_refined() -> None:
    words = (FILLER + " " + FILLER).split()
    words.insert(17, "furious")
    text = " ".join(words)
    analyzer = KeywordAnalyzer()
    found = occlusion.occlude(
        lambda ts: np.array([[r.scores[k] for k in EMOTIONS] for r in analyzer.analyze_batch(ts)]),
        text,
        focus=EMOTIONS.index("angry"),
        max_words=6,
    )
    assert found.variants <= 1 + occlusion.MAX_SEGMENTS + 6 + occlusion.MAX_SPLIT_VARIANTS
    assert len(found.segments) == 3  # 25 pieces -> runs of at most CHUNK
    best = found.scored[int(np.argmax(found.weights[:, EMOTIONS.index("angry")]))]
    assert found.units[best].text == "furious"


def test_explanations_are_cancellable_between_batches() -> None:
    token = CancelToken()
    words = [f"word{i}" for i in range(20)]
    analyzer = KeywordAnalyzer(cancel_on_call=(token, 2))
    with pytest.raises(Cancelled):
        explain_text(analyzer, " ".join(words), cancel=token)
    # the whole text, then the first batch (during which Esc came): nothing after
    assert [len(c) for c in analyzer.calls] == [1, occlusion.BATCH]

    token = CancelToken()
    token.cancel()
    idle = KeywordAnalyzer()
    with pytest.raises(Cancelled):
        explain_text(idle, "I am furious", cancel=token)
    assert idle.calls == []


# --- the real analyzers --------------------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_home(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    home = tmp_path_factory.mktemp("explain-onnx-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VSA_HOME", str(home))
        convert.ensure_onnx(str(tiny_model_dir), probes=["a probe", "another probe text"])
    return home


@pytest.fixture
def int8(onnx_home: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VSA_HOME", str(onnx_home))
    loader.clear_cache()
    report = convert.cached_report(str(tiny_model_dir))
    assert report is not None
    yield OnnxTextAnalyzer(report.folder, str(tiny_model_dir), int8=True)
    loader.clear_cache()


def test_onnx_occlusion_is_the_probability_change_of_each_removal(
    onnx_home: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fp32, so that scoring a text inside a batch or alone agrees to float precision (int8
    # quantizes activations with one scale per batch: ~1e-3 apart, a fidelity matter).
    monkeypatch.setenv("VSA_HOME", str(onnx_home))
    report = convert.cached_report(str(tiny_model_dir))
    assert report is not None
    analyzer = OnnxTextAnalyzer(report.folder, str(tiny_model_dir), int8=False)
    text = "Wow, I did not expect that at all! 🎉 これは素晴らしい"
    explanation = explain_text(analyzer, text, every=True)
    full = analyzer.analyze(text).scores
    assert explanation.label == top(full)[0]
    assert explanation.complete
    assert [s.text for s in explanation.spans] == [
        u.text for u in units(text) if occlusion.occludable(u)
    ]
    for span in explanation.spans:
        assert text[span.start : span.end] == span.text
        without = analyzer.analyze(remove(text, [(span.start, span.end)])).scores
        assert span.weights is not None
        for key in EMOTIONS:
            assert span.weights[key] == pytest.approx(full[key] - without[key], abs=1e-6)
    assert max(abs(w) for s in explanation.spans for w in (s.weights or {}).values()) > 1e-4


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts)
def test_onnx_spans_slice_any_text(int8, text: str) -> None:
    if not text.strip():
        return
    explanation = explain_text(int8, text, max_words=8)
    for span in (*explanation.spans, *explanation.sentences):
        assert text[span.start : span.end] == span.text


def test_torch_analyzer_is_explained_by_occlusion_too(tiny_model_dir: Path) -> None:
    analyzer = TransformersTextAnalyzer(str(tiny_model_dir))
    text = "I miss her so much it hurts."
    explanation = explain_text(analyzer, text, label="sad", every=True)
    assert explanation.method == OCCLUSION_METHOD and explanation.label == "sad"
    full = analyzer.analyze(text).scores
    for span in explanation.spans:
        without = analyzer.analyze(remove(text, [(span.start, span.end)])).scores
        assert span.weights is not None
        for key in EMOTIONS:
            assert span.weights[key] == pytest.approx(full[key] - without[key], abs=1e-6)
    # the random tiny model still reacts to its words far above that tolerance
    assert max(abs(w) for s in explanation.spans for w in (s.weights or {}).values()) > 1e-4


def test_a_book_length_text_still_narrows_down_to_its_word() -> None:
    sentences = [f"Line {i} of {FILLER}." for i in range(3000)]
    sentences[1234] = "Then the driver told us he was furious with the company."
    text = " ".join(sentences)
    analyzer = KeywordAnalyzer()
    explanation = explain_text(analyzer, text)
    scored = sum(len(call) for call in analyzer.calls)
    budget = occlusion.budget_for(text)
    assert scored <= 1 + occlusion.MAX_SEGMENTS + budget + occlusion.MAX_SPLIT_VARIANTS
    assert len(explanation.sentences) == occlusion.MAX_SEGMENTS
    assert not explanation.complete
    assert explanation.top(1)[0].text == "furious"
    for span in (*explanation.spans, *explanation.sentences):
        assert text[span.start : span.end] == span.text


def test_a_very_long_text_keeps_its_strongest_spans() -> None:
    from vsa_desktop.core.explain import MAX_SPANS
    from vsa_desktop.core.text.lite import load_lite

    text = " ".join(["the bus came late and we waited."] * 400) + " I am furious!"
    explanation = explain_text(load_lite(), text, label="angry")
    assert len(explanation.spans) == MAX_SPANS and not explanation.complete
    assert [s.start for s in explanation.spans] == sorted(s.start for s in explanation.spans)
    assert explanation.top(1)[0].text == "furious"
