"""Read a vision-language model's answer: find the JSON, validate the scores, never invent any."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vsa_desktop.core import taxonomy
from vsa_desktop.core.errors import VisionError

DESCRIPTION_CHARS = 500
UNUSABLE = "The vision model's answer could not be used."

_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_SCORE_KEYS = ("scores", "emotions", "emotion_scores")
_LABEL_FIELDS = ("label", "emotion", "name")
_VALUE_FIELDS = ("score", "value", "probability", "confidence")


@dataclass(frozen=True)
class Answer:
    """A validated answer.

    Attributes:
        scores: the seven scores, summing to 1.
        description: the model's short description of the visible cues (may be empty).
    """

    scores: dict[str, float]
    description: str


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
    return Answer(scores=scores, description=_description(obj.get("description")))


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
