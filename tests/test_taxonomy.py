"""The seven keys and the alias table."""

from __future__ import annotations

import math

import pytest

from vsa_desktop.core.taxonomy import EMOTIONS, canonical, map_scores, normalize, top, unmapped


def test_canonical_order_is_fixed() -> None:
    assert EMOTIONS == ("happy", "sad", "angry", "fear", "surprise", "disgust", "neutral")


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("joy", "happy"),
        ("Happiness", "happy"),
        ("sadness", "sad"),
        ("anger", "angry"),
        ("ANGRY", "angry"),
        ("rage", "angry"),
        ("contempt", "disgust"),
        ("fearful", "fear"),
        ("surprised", "surprise"),
        ("Neutral", "neutral"),
        ("no_emotion", "neutral"),
    ],
)
def test_aliases_map_onto_canonical_keys(label: str, key: str) -> None:
    assert canonical(label) == key


def test_every_model_label_set_we_support_maps_fully() -> None:
    j_hartmann = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]
    fer = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    for labels in (j_hartmann, fer):
        assert unmapped(labels) == []
        assert sorted({canonical(x) for x in labels}) == sorted(EMOTIONS)


def test_unknown_labels_are_reported_not_guessed() -> None:
    scores, dropped = map_scores({"joy": 0.5, "love": 0.3, "LABEL_3": 0.2})
    assert dropped == ["love", "LABEL_3"]
    assert scores["happy"] == 0.5
    assert math.fsum(scores.values()) == pytest.approx(0.5)


def test_synonyms_add_up() -> None:
    scores, _ = map_scores({"joy": 0.25, "happiness": 0.25, "anger": 0.5})
    assert scores["happy"] == pytest.approx(0.5)
    assert list(scores) == list(EMOTIONS)


def test_normalize_rejects_bad_values() -> None:
    for bad in ({"happy": -1.0}, {"happy": float("nan")}, {"happy": float("inf")}, {}):
        with pytest.raises(ValueError):
            normalize(bad)
    assert math.fsum(normalize({"happy": 3, "sad": 1}).values()) == pytest.approx(1.0)


def test_top_breaks_ties_in_canonical_order() -> None:
    assert top(dict.fromkeys(EMOTIONS, 1 / 7))[0] == "happy"
    assert top({"sad": 0.6, "neutral": 0.4}) == ("sad", 0.6)
