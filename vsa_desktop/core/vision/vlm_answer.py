"""Read a vision-language model's answer: find the JSON, validate the scores, never invent any."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vsa_desktop.core import taxonomy
from vsa_desktop.core.errors import VisionError
from vsa_desktop.core.explanation import Cue

DESCRIPTION_CHARS = 500
CUE_CHARS = 40  # a cue is a few words; longer ones are cut
MAX_CUES = 8  # the prompt asks for at most five; more than this are dropped
UNUSABLE = "The vision model's answer could not be used."

_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_SCORE_KEYS = ("scores", "emotions", "emotion_scores")
_LABEL_FIELDS = ("label", "emotion", "name")
_VALUE_FIELDS = ("score", "value", "probability", "confidence")
_CUE_KEYS = ("cues", "visual_cues")
_CUE_TEXT_FIELDS = ("cue", "text", "name", "description")
_CUE_EMOTION_FIELDS = ("emotion", "supports", "label")


@dataclass(frozen=True)
class Answer:
    """A validated answer.

    Attributes:
        scores: the seven scores, summing to 1.
        description: the model's short description of the visible cues (may be empty).
        cues: the visual cues the model named, each with the emotion it supports; empty when
            it named none (never made up here).
    """

    scores: dict[str, float]
    description: str
    cues: tuple[Cue, ...] = ()


def parse_answer(text: str | None, warnings: list[str]) -> Answer:
    """Turn the model's text into seven normalised scores and a description.

    Labels outside the taxonomy and invalid values (negative, NaN, infinite, not a
    number) are dropped and reported in ``warnings``; missing emotions count as 0.

    Raises:
        VisionError: (kind ``unusable_answer``) when no usable score remains.
    """
    obj = find_json_object(text or "")
    if obj is None:
        raise VisionError(
            UNUSABLE, detail=f"no JSON object in: {(text or '')[:200]!r}", kind="unusable_answer"
        )
    raw = list(_score_items(obj))
    valid, invalid = _valid_numbers(raw)
    if invalid:
        warnings.append(
            "The vision model gave scores that are not valid numbers, ignored: "
            + ", ".join(invalid)
            + "."
        )
    mapped, dropped = taxonomy.map_scores(valid)
    if dropped:
        warnings.append(
            "The vision model used labels outside the seven emotions, ignored: "
            + ", ".join(dropped)
            + "."
        )
    try:
        scores = taxonomy.normalize(mapped)
    except ValueError:
        raise VisionError(
            UNUSABLE, detail=f"no usable score in {raw[:10]!r}", kind="unusable_answer"
        ) from None
    return Answer(
        scores=scores,
        description=_description(obj.get("description")),
        cues=parse_cues(next((obj[k] for k in _CUE_KEYS if k in obj), None), warnings),
    )


def parse_cues(value: Any, warnings: list[str]) -> tuple[Cue, ...]:
    """Validate the answer's ``cues``: a list of ``{"cue": ..., "emotion": ...}``.

    A cue is kept when its text is a non-empty string (whitespace folded, control characters
    removed, cut to ``CUE_CHARS``) and its emotion maps onto the seven. Anything else is
    dropped and reported in ``warnings``, like scores; duplicates are dropped silently, and at
    most ``MAX_CUES`` are kept. None (no cues in the answer) gives no cues and no warning.
    """
    if value is None:
        return ()
    if not isinstance(value, list):
        warnings.append("The vision model's cues were not a list, ignored.")
        return ()
    cues: list[Cue] = []
    unreadable = 0
    off_taxonomy: list[str] = []
    for entry in value:
        text, emotion = _cue_fields(entry)
        if not text or emotion is None:
            unreadable += 1
            continue
        key = taxonomy.canonical(emotion)
        if key is None:
            off_taxonomy.append(f"{text} ({' '.join(emotion.split())[:24]})")
            continue
        cue = Cue(text, key)
        if all((c.text.casefold(), c.emotion) != (text.casefold(), key) for c in cues):
            cues.append(cue)
    if unreadable:
        noun = "cue" if unreadable == 1 else "cues"
        warnings.append(
            f"The vision model gave {unreadable} {noun} that could not be read, ignored."
        )
    if off_taxonomy:
        warnings.append(
            "The vision model gave cues for emotions outside the seven, ignored: "
            + ", ".join(off_taxonomy)
            + "."
        )
    if len(cues) > MAX_CUES:
        warnings.append(f"The vision model named {len(cues)} cues; the first {MAX_CUES} are kept.")
    return tuple(cues[:MAX_CUES])


def _cue_fields(entry: Any) -> tuple[str, str | None]:
    """(cleaned cue text, emotion name or None) from a dict or a ``[cue, emotion]`` pair."""
    if isinstance(entry, dict):
        raw = next((entry[f] for f in _CUE_TEXT_FIELDS if f in entry), None)
        emotion = next((entry[f] for f in _CUE_EMOTION_FIELDS if f in entry), None)
    elif isinstance(entry, list) and len(entry) == 2:
        raw, emotion = entry
    else:
        return "", None
    if not isinstance(raw, str) or not isinstance(emotion, str):
        return "", None
    # Control characters split words; format characters (bidi overrides...) just go.
    text = " ".join("".join(_visible(c) for c in raw).split())
    if len(text) > CUE_CHARS:
        text = text[: CUE_CHARS - 1].rstrip() + "…"
    return text, emotion.strip()


def _visible(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cc":
        return " "
    return "" if category in ("Cf", "Co", "Cs") else char


def find_json_object(text: str) -> dict[str, Any] | None:
    """Return the JSON object in ``text`` (bare, fenced or inside prose), or None.

    An object with a ``scores`` key wins over other objects.
    """
    text = _THINK.sub("", text).strip()
    found: list[dict[str, Any]] = []
    for candidate in [text, *_FENCE.findall(text)]:
        obj = _loads(candidate.strip())
        if isinstance(obj, dict):
            found.append(obj)
    found.extend(_embedded_objects(text))
    for obj in found:
        if any(key in obj for key in _SCORE_KEYS):
            return obj
    return found[0] if found else None


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _embedded_objects(text: str, limit: int = 20) -> Iterable[dict[str, Any]]:
    decoder = json.JSONDecoder()
    count = 0
    for match in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(obj, dict):
            yield obj
            count += 1
            if count >= limit:
                return


def _score_items(obj: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    """Yield (label, value) pairs from the usual shapes of an answer."""
    container = next((obj[key] for key in _SCORE_KEYS if key in obj), None)
    if isinstance(container, dict):
        yield from ((str(k), v) for k, v in container.items())
    elif isinstance(container, list):
        for entry in container:
            if isinstance(entry, dict):
                label = next((entry[f] for f in _LABEL_FIELDS if f in entry), None)
                value = next((entry[f] for f in _VALUE_FIELDS if f in entry), None)
                if label is not None:
                    yield str(label), value
    elif container is None:
        # A flat answer {"happy": 0.7, ...}: only emotion-like keys count; others are fields.
        yield from ((k, v) for k, v in obj.items() if taxonomy.canonical(str(k)) is not None)


def _valid_numbers(items: list[tuple[str, Any]]) -> tuple[dict[str, float], list[str]]:
    valid: dict[str, float] = {}
    invalid: list[str] = []
    for label, value in items:
        number = _number(value)
        if number is None:
            invalid.append(f"{label} ({_short(value)})")
        else:
            valid[label] = valid.get(label, 0.0) + number
    return valid, invalid


def _number(value: Any) -> float | None:
    """A finite non-negative number from a JSON value, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().rstrip("%"))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _description(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    text = " ".join(value.split())
    if len(text) <= DESCRIPTION_CHARS:
        return text
    return text[: DESCRIPTION_CHARS - 1].rstrip() + "…"
