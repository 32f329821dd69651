"""Why a reading came out as it did: word attributions, fusion parts (computed on request).

- ``explain_text(analyzer, text)``: which words raised or lowered an emotion. Exact for the
  built-in lite model (``explain.lite``), occlusion for any other analyzer
  (``explain.occlusion``).
- ``explain_result(result)``: a result with ``text.explanation`` and ``fusion.parts`` added;
  what the pipeline runs for ``AnalysisRequest(explain=True)`` and the GUI runs after it has
  shown a result.

Per-face shares are not here: the local vision backend records them with every reading.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Protocol

import numpy as np

from vsa_desktop.core.explanation import (
    LITE_METHOD,
    LOGIT_UNIT,
    OCCLUSION_METHOD,
    PROBABILITY_UNIT,
    Span,
    TextExplanation,
)
from vsa_desktop.core.taxonomy import EMOTIONS

if TYPE_CHECKING:
    from vsa_desktop.core.cancel import CancelToken
    from vsa_desktop.core.result import AnalysisResult
    from vsa_desktop.core.text.base import TextAnalyzer
    from vsa_desktop.core.text.lite import LiteTextAnalyzer

LONG_WORDS = 32  # texts with more words (and 2+ sentences) also get per-sentence weights
MAX_SPANS = 2000  # a longer text keeps its strongest spans (and sentences) only


def explain_text(
    analyzer: TextAnalyzer,
    text: str,
    *,
    label: str | None = None,
    every: bool = False,
    cancel: CancelToken | None = None,
    max_words: int | None = None,
) -> TextExplanation:
    """Explain ``analyzer``'s reading of ``text``: each word's effect on ``label``.

    Args:
        analyzer: any text analyzer; the built-in lite model is explained exactly, others by
            occlusion.
        text: the text as analysed.
        label: the emotion to explain; default the analyzer's own top label.
        every: also give each span's weight for all seven emotions (``Span.weights``).
        cancel: checked between occlusion batches.
        max_words: occlusion's budget of word variants (default: set by the text's length,
            ``occlusion.budget_for``).

    Raises:
        InputError: empty or over-long text.
        ValueError: ``label`` is not one of the seven emotions.
        Cancelled: ``cancel`` was set.
    """
    from vsa_desktop.core.cancel import check
    from vsa_desktop.core.text.base import check_text
    from vsa_desktop.core.text.lite import LiteTextAnalyzer

    check_text(text)
    check(cancel)
    if label is not None and label not in EMOTIONS:
        raise ValueError(f"unknown emotion {label!r}")
    if isinstance(analyzer, LiteTextAnalyzer):
        found = _explain_lite(analyzer, text, label, every)
    else:
        found = _explain_occlusion(analyzer, text, label, every, cancel, max_words)
    return _capped(found)


def _capped(explanation: TextExplanation) -> TextExplanation:
    """At most ``MAX_SPANS`` spans and sentences, the strongest, in text order."""
    if len(explanation.spans) <= MAX_SPANS and len(explanation.sentences) <= MAX_SPANS:
        return explanation

    def strongest(spans: tuple[Span, ...]) -> tuple[Span, ...]:
        if len(spans) <= MAX_SPANS:
            return spans
        kept = sorted(spans, key=lambda s: abs(s.weight), reverse=True)[:MAX_SPANS]
        return tuple(sorted(kept, key=lambda s: s.start))

    return dataclasses.replace(
        explanation,
        spans=strongest(explanation.spans),
        sentences=strongest(explanation.sentences),
        complete=False,
    )


def _explain_lite(
    analyzer: LiteTextAnalyzer, text: str, label: str | None, every: bool
) -> TextExplanation:
    from vsa_desktop.core.explain import lite, segment

    attribution = lite.attribute(analyzer, text)
    if label is None:
        label = EMOTIONS[int(np.argmax(analyzer.calibrate(attribution.logits()[None, :])[0]))]
    k = EMOTIONS.index(label)
    weights = attribution.centred()
    units = attribution.units
    spans = tuple(_span(u, w, k, every) for u, w in zip(units, weights, strict=True))
    sentences: tuple[Span, ...] = ()
    if sum(u.kind == segment.WORD for u in units) > LONG_WORDS:
        found = segment.sentences(text, units)
        if len(found) >= 2:
            sentences = tuple(_span(s, weights[list(s.units)].sum(axis=0), k, every) for s in found)
    return TextExplanation(LITE_METHOD, label, LOGIT_UNIT, spans, sentences)


def _explain_occlusion(
    analyzer: TextAnalyzer,
    text: str,
    label: str | None,
    every: bool,
    cancel: CancelToken | None,
    max_words: int | None,
) -> TextExplanation:
    from vsa_desktop.core.explain import occlusion

    def score(texts: list[str]) -> np.ndarray:
        return np.array([[r.scores[k] for k in EMOTIONS] for r in analyzer.analyze_batch(texts)])

    focus = EMOTIONS.index(label) if label is not None else None
    found = occlusion.occlude(
        score,
        text,
        focus=focus,
        cancel=cancel,
        max_words=max_words,
    )
    if label is None:
        label = EMOTIONS[int(np.argmax(found.base))]
    k = EMOTIONS.index(label)
    spans = tuple(
        _span(found.units[u], w, k, every) for u, w in zip(found.scored, found.weights, strict=True)
    )
    sentences = tuple(
        _span(_Piece(start, end, text[start:end]), w, k, every)
        for (start, end), w in zip(found.segments, found.segment_weights, strict=True)
    )
    return TextExplanation(
        OCCLUSION_METHOD, label, PROBABILITY_UNIT, spans, sentences, complete=found.complete
    )


class _Located(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...


@dataclasses.dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    text: str


def _span(piece: _Located, weights: np.ndarray, k: int, every: bool) -> Span:
    return Span(
        start=piece.start,
        end=piece.end,
        text=piece.text,
        weight=float(weights[k]),
        weights={e: float(w) for e, w in zip(EMOTIONS, weights, strict=True)} if every else None,
    )


def explain_result(
    result: AnalysisResult,
    *,
    analyzer: TextAnalyzer | None = None,
    text_model: str | None = None,
    text_runtime: str = "auto",
    every: bool = False,
    cancel: CancelToken | None = None,
) -> AnalysisResult:
    """Return ``result`` with ``text.explanation`` (of its text label) and ``fusion.parts``.

    Args:
        result: a finished analysis.
        analyzer: the analyzer that read the text; default: the one the loader has for
            ``text_model`` on ``text_runtime`` (a cache hit right after an analysis).
        text_model: as in the request; default: the model named in the result.
        text_runtime: as in the request.
        every: weights for all seven emotions per span too.
        cancel: checked between occlusion batches.

    Raises:
        ModelError: the text model cannot be loaded, or it is not the one that read the text.
        Cancelled: ``cancel`` was set.
    """
    from vsa_desktop.core.errors import ModelError
    from vsa_desktop.core.explain.fusion_parts import parts_of

    text = result.text
    if text is not None and result.text_input is not None:
        if analyzer is None:
            from vsa_desktop.core.text.loader import load_text_analyzer

            analyzer = load_text_analyzer(text_model or text.model, text_runtime)
        if analyzer.model_id != text.model:
            raise ModelError(
                f"The text was read by {text.model}, which is not the text model now in use "
                f"({analyzer.model_id}): its words cannot be explained.",
                kind="explain_model",
            )
        explanation = explain_text(
            analyzer, result.text_input, label=text.label, every=every, cancel=cancel
        )
        text = dataclasses.replace(text, explanation=explanation)
    fused = result.fusion
    parts = parts_of(result)
    if fused is not None and parts is not None:
        fused = dataclasses.replace(fused, parts=parts)
    return dataclasses.replace(result, text=text, fusion=fused)
