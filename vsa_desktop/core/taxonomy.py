"""The seven canonical emotions and the one alias table that maps other labels onto them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

EMOTIONS: tuple[str, ...] = ("happy", "sad", "angry", "fear", "surprise", "disgust", "neutral")

# Every label any model may say, lower-cased, mapped onto a canonical key. Labels that are not
# here map to nothing: they are dropped and reported by ``map_scores``, never guessed.
ALIASES: dict[str, str] = {
    # happy
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "joyful": "happy",
    "amusement": "happy",
    "amused": "happy",
    "content": "happy",
    "contentment": "happy",
    "delight": "happy",
    "delighted": "happy",
    "excitement": "happy",
    "excited": "happy",
    "cheerful": "happy",
    "glad": "happy",
    "pleased": "happy",
    "elation": "happy",
    "smile": "happy",
    "smiling": "happy",
    # sad
    "sad": "sad",
    "sadness": "sad",
    "sorrow": "sad",
    "grief": "sad",
    "unhappy": "sad",
    "melancholy": "sad",
    "disappointment": "sad",
    "disappointed": "sad",
    "crying": "sad",
    "despair": "sad",
    "upset": "sad",
    # angry
    "angry": "angry",
    "anger": "angry",
    "rage": "angry",
    "fury": "angry",
    "furious": "angry",
    "annoyance": "angry",
    "annoyed": "angry",
    "irritation": "angry",
    "irritated": "angry",
    "mad": "angry",
    "frustration": "angry",
    "frustrated": "angry",
    # fear
    "fear": "fear",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "anxiety": "fear",
    "anxious": "fear",
    "terror": "fear",
    "nervous": "fear",
    "nervousness": "fear",
    "worry": "fear",
    "worried": "fear",
    "panic": "fear",
    # surprise
    "surprise": "surprise",
    "surprised": "surprise",
    "astonishment": "surprise",
    "astonished": "surprise",
    "amazement": "surprise",
    "amazed": "surprise",
    "shock": "surprise",
    "shocked": "surprise",
    "startled": "surprise",
    # disgust
    "disgust": "disgust",
    "disgusted": "disgust",
    "revulsion": "disgust",
    "contempt": "disgust",
    "contemptuous": "disgust",
    "repulsed": "disgust",
    # neutral
    "neutral": "neutral",
    "calm": "neutral",
    "none": "neutral",
    "no emotion": "neutral",
    "neutrality": "neutral",
    "indifferent": "neutral",
}


def canonical(label: str) -> str | None:
    """Return the canonical key for ``label``, or None when it maps to nothing."""
    key = label.strip().lower().replace("_", " ").replace("-", " ")
    return ALIASES.get(key) or ALIASES.get(key.replace(" ", ""))


def unmapped(labels: Iterable[str]) -> list[str]:
    """Return the labels in ``labels`` that map onto no canonical emotion."""
    return [label for label in labels if canonical(label) is None]


def map_scores(raw: Mapping[str, float]) -> tuple[dict[str, float], list[str]]:
    """Fold a label->score mapping onto the seven keys.

    Scores of labels that share a canonical key are added. Missing keys become 0.

    Returns:
        The seven scores (not renormalised) and the labels that mapped to nothing.
    """
    scores = dict.fromkeys(EMOTIONS, 0.0)
    dropped: list[str] = []
    for label, value in raw.items():
        key = canonical(str(label))
        if key is None:
            dropped.append(str(label))
            continue
        scores[key] += float(value)
    return scores, dropped


def normalize(scores: Mapping[str, float]) -> dict[str, float]:
    """Return the seven scores renormalised to sum to 1.

    Raises:
        ValueError: when a value is negative or not finite, or all are zero.
    """
    values = [float(scores.get(key, 0.0)) for key in EMOTIONS]
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError("scores must be finite and non-negative")
    total = math.fsum(values)
    if total <= 0:
        raise ValueError("scores are all zero")
    return {key: v / total for key, v in zip(EMOTIONS, values, strict=True)}


def top(scores: Mapping[str, float]) -> tuple[str, float]:
    """Return the label with the highest score (ties: canonical order) and that score."""
    label = max(EMOTIONS, key=lambda key: (scores.get(key, 0.0), -EMOTIONS.index(key)))
    return label, float(scores.get(label, 0.0))
