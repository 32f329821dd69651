"""What an explanation holds in the ``vsa.result/1`` JSON: word spans, visual cues, fusion parts.

Every key here is optional in a result document: files written before explanations existed
read as results without them. The computing side lives in ``core.explain``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vsa_desktop.core.taxonomy import EMOTIONS

Scores = dict[str, float]

LITE_METHOD = "lite-exact"
OCCLUSION_METHOD = "occlusion"
LOGIT_UNIT = "logit"
PROBABILITY_UNIT = "probability"
LOG_EVIDENCE = "log-evidence"
WEIGHTED_SCORE = "weighted-score"


def _seven(data: Any) -> Scores:
    data = data if isinstance(data, dict) else {}
    return {key: float(data.get(key, 0.0)) for key in EMOTIONS}


@dataclass(frozen=True)
class Span:
    """A piece of the input text and how much it raised (+) or lowered (-) an emotion.

    Attributes:
        start, end: character offsets (Python string indices) into the analysed text, so
            ``text[start:end] == self.text``.
        text: the piece itself.
        weight: its contribution to the explained emotion (the explanation's ``label``), in
            the explanation's ``unit``.
        weights: its contribution to each of the seven emotions, when every emotion was asked
            for (``weight`` is then ``weights[label]``).
    """

    start: int
    end: int
    text: str
    weight: float
    weights: Scores | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "weight": self.weight,
        }
        if self.weights is not None:
            d["weights"] = dict(self.weights)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Span:
        weights = d.get("weights")
        return cls(
            start=int(d["start"]),
            end=int(d["end"]),
            text=str(d["text"]),
            weight=float(d["weight"]),
            weights=_seven(weights) if weights else None,
        )


@dataclass(frozen=True)
class TextExplanation:
    """Which words of the text drove the text channel's reading (``text.explanation``).

    Attributes:
        method: ``lite-exact`` (the built-in model's linear weights, mapped back onto the
            words) or ``occlusion`` (the text scored again with each piece removed).
        label: the emotion explained (the text channel's label unless another was asked for).
        unit: ``logit`` (lite-exact: each word's exact share of the label's centred logit,
            after the model's temperature) or ``probability`` (occlusion: the label's
            probability with the text minus its probability without the piece).
        spans: the words (and emoji, and expressive punctuation), in text order.
        sentences: for long texts, each sentence's contribution in the same unit.
        complete: False when some words have no span: a long text's words were scored
            inside its strongest sentences only (occlusion's budget), or a very long text kept
            its 2,000 strongest spans only.
    """

    method: str
    label: str
    unit: str
    spans: tuple[Span, ...]
    sentences: tuple[Span, ...] = ()
    complete: bool = True

    def top(self, n: int = 3, emotion: str | None = None) -> list[Span]:
        """The ``n`` spans that raised ``emotion`` (default: the label) most, strongest first."""
        key = emotion or self.label

        def weight(span: Span) -> float:
            if key == self.label:
                return span.weight
            return span.weights.get(key, 0.0) if span.weights else 0.0

        raised = [s for s in self.spans if weight(s) > 0]
        return sorted(raised, key=weight, reverse=True)[:n]

    def top_words(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` words that raised the label most, each word once (its spans' weights
        added up, compared case-folded; shown as first written), strongest first."""
        totals: dict[str, float] = {}
        shown: dict[str, str] = {}
        for span in self.spans:
            key = span.text.casefold()
            totals[key] = totals.get(key, 0.0) + span.weight
            shown.setdefault(key, span.text)
        ranked = sorted((k for k in totals if totals[k] > 0), key=lambda k: -totals[k])
        return [(shown[k], totals[k]) for k in ranked[:n]]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "method": self.method,
            "label": self.label,
            "unit": self.unit,
            "spans": [s.to_dict() for s in self.spans],
        }
        if self.sentences:
            d["sentences"] = [s.to_dict() for s in self.sentences]
        if not self.complete:
            d["complete"] = False
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TextExplanation:
        return cls(
            method=str(d["method"]),
            label=str(d["label"]),
            unit=str(d.get("unit", PROBABILITY_UNIT)),
            spans=tuple(Span.from_dict(s) for s in d.get("spans", [])),
            sentences=tuple(Span.from_dict(s) for s in d.get("sentences", [])),
            complete=bool(d.get("complete", True)),
        )


@dataclass(frozen=True)
class Cue:
    """A visual cue a vision-language model named ("open smile") and the emotion it supports."""

    text: str
    emotion: str

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "emotion": self.emotion}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cue:
        return cls(text=str(d["text"]), emotion=str(d["emotion"]))


@dataclass(frozen=True)
class FusionParts:
    """What each channel put into the fused reading, per emotion (``fusion.parts``).

    Attributes:
        kind: ``log-evidence`` (rule ``product``: each channel's exponent times its centred
            log-probability; the fused scores are the softmax of text + vision, before the
            calibrated temperature, which scales both alike) or ``weighted-score`` (rule
            ``weighted``: weight times score; the fused scores are text + vision).
        text, vision: the two parts, seven keys each.
    """

    kind: str
    text: Scores
    vision: Scores

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": dict(self.text), "vision": dict(self.vision)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FusionParts:
        return cls(kind=str(d["kind"]), text=_seven(d.get("text")), vision=_seven(d.get("vision")))
