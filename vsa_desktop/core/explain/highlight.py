"""How an explanation is shown: one colour and hatch per emotion, and the marks to paint.

Shared by the GUI's highlighted text, the exported report and the CLI, so a word looks the
same everywhere. Qt-free: the GUI maps ``qt_pattern`` names onto ``Qt.BrushStyle``.
"""

from __future__ import annotations

from dataclasses import dataclass

from vsa_desktop.core.explanation import LOGIT_UNIT, PROBABILITY_UNIT, Span, TextExplanation
from vsa_desktop.core.taxonomy import EMOTIONS

# Okabe-Ito colours (safe for the common colour-vision deficiencies), each with a hatch so
# the emotions stay apart in greyscale print and for readers who cannot tell the colours.
# ``hatch`` is Matplotlib's, ``qt_pattern`` the matching Qt brush style.
EMOTION_STYLE: dict[str, dict[str, str]] = {
    "happy": {"color": "#F0E442", "hatch": "..", "qt_pattern": "Dense6Pattern"},
    "sad": {"color": "#0072B2", "hatch": "//", "qt_pattern": "BDiagPattern"},
    "angry": {"color": "#D55E00", "hatch": "xx", "qt_pattern": "DiagCrossPattern"},
    "fear": {"color": "#CC79A7", "hatch": "\\\\", "qt_pattern": "FDiagPattern"},
    "surprise": {"color": "#E69F00", "hatch": "||", "qt_pattern": "VerPattern"},
    "disgust": {"color": "#009E73", "hatch": "++", "qt_pattern": "CrossPattern"},
    "neutral": {"color": "#56B4E9", "hatch": "--", "qt_pattern": "HorPattern"},
}
LOWERED_COLOR = "#7F7F7F"  # words that lowered the emotion: grey, underlined
MIN_STRENGTH = 0.05  # fainter marks are not drawn, in the window or in reports (only noise)

# The weight at which a word is painted at full strength. The same weight always looks the
# same, whatever the text: a neutral sentence stays pale instead of its strongest word
# being painted in full. A logit of 3 multiplies the odds by 20; 0.3 is 30 points.
FULL_WEIGHT = {LOGIT_UNIT: 3.0, PROBABILITY_UNIT: 0.3}


@dataclass(frozen=True)
class Mark:
    """A piece of text to paint.

    Attributes:
        start, end, text: where (offsets into the analysed text), as in ``Span``.
        emotion: whose colour it takes.
        weight: its weight for that emotion (the explanation's unit).
        strength: ``|weight|`` on the 0..1 scale of ``FULL_WEIGHT``.
        raised: True when it raised the emotion, False when it lowered it.
    """

    start: int
    end: int
    text: str
    emotion: str
    weight: float
    strength: float
    raised: bool


def strength(weight: float, unit: str) -> float:
    """``|weight|`` scaled to 0..1 (1 from ``FULL_WEIGHT[unit]`` on)."""
    full = FULL_WEIGHT.get(unit, FULL_WEIGHT[PROBABILITY_UNIT])
    return min(1.0, abs(weight) / full)


def marks(
    explanation: TextExplanation, emotion: str | None = None, strongest: bool = False
) -> list[Mark]:
    """The spans of ``explanation`` as marks, in text order; spans of weight 0 are left out.

    Args:
        explanation: what to show.
        emotion: the emotion whose weights are shown (default: the explanation's label).
            Another emotion needs per-emotion weights (``explain_every``).
        strongest: instead, paint each span in the colour of the emotion it raised most
            (needs per-emotion weights; spans that raised none are left out).

    Raises:
        ValueError: an emotion other than the label without per-emotion weights.
    """
    key = emotion or explanation.label
    if key not in EMOTIONS:
        raise ValueError(f"unknown emotion {key!r}")
    out: list[Mark] = []
    for span in explanation.spans:
        if strongest:
            best = _strongest(span, explanation.label)
            if best is not None:
                out.append(_mark(span, best[0], best[1], explanation.unit))
            continue
        weight = _weight(span, key, explanation.label)
        if weight != 0.0:
            out.append(_mark(span, key, weight, explanation.unit))
    return out


def _weight(span: Span, key: str, label: str) -> float:
    if key == label:
        return span.weight
    if span.weights is None:
        raise ValueError(f"these words were explained for {label} only, not for {key}")
    return span.weights[key]


def _strongest(span: Span, label: str) -> tuple[str, float] | None:
    weights = span.weights or {label: span.weight}
    key = max(weights, key=lambda k: weights[k])
    return (key, weights[key]) if weights[key] > 0 else None


def _mark(span: Span, emotion: str, weight: float, unit: str) -> Mark:
    return Mark(
        span.start,
        span.end,
        span.text,
        emotion,
        weight,
        strength(weight, unit),
        weight > 0,
    )


def describe(explanation: TextExplanation, n: int = 3) -> str:
    """The top words in one line: ``disgust: "disgusting" +11.07, "hate" +1.19 (log-odds)``."""
    top = explanation.top_words(n)
    words = ", ".join(f'"{w}" {weight:+.2f}' for w, weight in top) or "no word raised it"
    unit = UNIT_WORDS.get(explanation.unit, explanation.unit)
    return f"{explanation.label}: {words} ({unit})"


UNIT_WORDS = {
    "logit": "weights in log-odds",
    "probability": "how much the probability falls without the word",
}
