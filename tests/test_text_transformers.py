"""The transformers text channel on a tiny RoBERTa built on the spot."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.tiny_model import build_tiny_model
from vsa_desktop.core.errors import InputError, ModelLabelsError, ModelNotAvailableError
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.text.loader import load_text_analyzer, model_on_disk
from vsa_desktop.core.text.transformers_backend import (
    TransformersTextAnalyzer,
    combine,
    windows,
)


@pytest.fixture(scope="module")
def analyzer(tiny_model_dir: Path) -> TransformersTextAnalyzer:
    return TransformersTextAnalyzer(str(tiny_model_dir))


def test_all_seven_probabilities(analyzer: TransformersTextAnalyzer) -> None:
    r = analyzer.analyze("I can't believe we won!")
    assert list(r.scores) == list(EMOTIONS)
    assert math.fsum(r.scores.values()) == pytest.approx(1.0, abs=1e-6)
    assert r.label == max(r.scores, key=r.scores.__getitem__)
    assert r.confidence == r.scores[r.label]
    assert r.runtime == "torch" and r.chunks == 1


def test_scores_follow_the_model_not_a_constant(analyzer: TransformersTextAnalyzer) -> None:
    a = analyzer.analyze("I can't believe we won the game tonight!")
    b = analyzer.analyze("The meeting is at three o'clock.")
    assert a.scores != b.scores


def test_labels_are_mapped_by_name_not_position(
    tmp_path: Path, analyzer: TransformersTextAnalyzer
) -> None:
    """A model whose classes come in another order maps each onto the right key."""
    import torch

    shuffled = ["surprise", "sadness", "neutral", "joy", "fear", "disgust", "anger"]
    folder = build_tiny_model(tmp_path / "shuffled", labels=shuffled)
    other = TransformersTextAnalyzer(str(folder))
    text = "What a wonderful, happy day"
    probs = other.class_probs(other.windows.encode(text))[0]
    r = other.analyze(text)
    assert r.scores["happy"] == pytest.approx(probs[shuffled.index("joy")], abs=1e-6)
    assert r.scores["angry"] == pytest.approx(probs[shuffled.index("anger")], abs=1e-6)
    assert torch.is_inference_mode_enabled() is False


def test_unmappable_model_is_refused_with_its_labels(tmp_path: Path) -> None:
    folder = build_tiny_model(tmp_path / "sentiment", labels=["positive", "negative", "joy"])
    with pytest.raises(ModelLabelsError, match="positive, negative, joy"):
        TransformersTextAnalyzer(str(folder))


def test_long_text_is_windowed_not_truncated(analyzer: TransformersTextAnalyzer) -> None:
    text = "I miss her so much. " * 600  # thousands of tokens
    ids = analyzer.windows.encode(text)
    assert len(ids) > 1 and all(len(w) <= 512 for w in ids)
    r = analyzer.analyze(text)
    assert r.chunks == len(ids)
    assert math.fsum(r.scores.values()) == pytest.approx(1.0, abs=1e-6)
    # the combination is the length-weighted mean of the windows' own results
    per_window = analyzer.class_probs(ids)
    expected = combine(per_window, [len(w) for w in ids])
    from vsa_desktop.core.text.transformers_backend import to_scores

    assert r.scores == pytest.approx(to_scores(expected, analyzer.mapping), abs=1e-5)


def test_windows_overlap_and_cover_everything() -> None:
    ids = list(range(1200))
    ws = windows(ids, 510, 64)
    assert all(len(w) <= 510 for w in ws)
    assert ws[0][0] == 0 and ws[-1][-1] == 1199
    assert ws[1][0] == 510 - 64
    assert set().union(*map(set, ws)) == set(ids)
    assert windows([1, 2, 3], 510, 64) == [[1, 2, 3]]


@pytest.mark.parametrize(
    "text",
    ["😀🎉🔥", "これは素晴らしい", "¡Qué sorpresa!", "Привет мир", "a" * 100_000, "word " * 20_000],
)
def test_any_script_emoji_and_huge_inputs(analyzer: TransformersTextAnalyzer, text: str) -> None:
    r = analyzer.analyze(text)
    assert math.fsum(r.scores.values()) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_an_input_error(analyzer: TransformersTextAnalyzer, text: str) -> None:
    with pytest.raises(InputError, match="empty"):
        analyzer.analyze(text)


def test_batch_equals_one_by_one(analyzer: TransformersTextAnalyzer) -> None:
    texts = ["We won!", "I am scared of the dark and of what comes next.", "ok " * 700]
    batch = analyzer.analyze_batch(texts)
    for text, r in zip(texts, batch, strict=False):
        single = analyzer.analyze(text)
        assert r.chunks == single.chunks
        assert r.scores == pytest.approx(single.scores, abs=1e-5)


def test_missing_folder_and_missing_hub_model_say_how_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match="No model folder"):
        TransformersTextAnalyzer(str(tmp_path / "nope"))
    with pytest.raises(ModelNotAvailableError, match="vsa models download someone/not-cached"):
        TransformersTextAnalyzer("someone/not-cached")
    assert not model_on_disk("someone/not-cached")


def test_loader_caches_one_instance_per_model(tiny_model_dir: Path) -> None:
    a = load_text_analyzer(str(tiny_model_dir), "torch")
    assert load_text_analyzer(str(tiny_model_dir), "torch") is a
    assert model_on_disk(str(tiny_model_dir))
