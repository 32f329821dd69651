"""Exported charts that stand alone: a caption under a PNG/SVG chart, and the PDF report.

A chart sent to someone carries what it is about: the input text, the image (name, and its
thumbnail when the history kept one), when and under which id it was made, the models, the
agreement verdict in words, and whether the numbers are calibrated. The words come from
``core.verdict``, so the export says what the window says.

PDF: one page per result (header, caption, chart); several results get the history summary
page first. A result explained on request (``text.explanation``) also shows its text with the
words highlighted as in the window (``core.explain.render``), under the caption.
Plain matplotlib ``Figure`` objects, no pyplot, no Qt.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from matplotlib.figure import Figure, SubFigure

from vsa_desktop import __version__
from vsa_desktop.core import verdict
from vsa_desktop.core.charts import FIGSIZE, draw_history, draw_result
from vsa_desktop.core.explain.render import printable
from vsa_desktop.core.result import NOTICE, AnalysisResult

CAPTION_FONT = 8.5
LINE_IN = 0.175  # inches per caption line at CAPTION_FONT
WRAP_CHARS = 118  # caption characters per line on an 8-inch figure (thumbnail beside it)
PNG_TEXT_LINES = 3
PDF_TEXT_LINES = 14
PNG_HIGHLIGHT_LINES = 4  # lines of highlighted text under a PNG/SVG chart
PDF_HIGHLIGHT_LINES = 12
HIGHLIGHT_FONT = 9.0
A4_PORTRAIT = (8.27, 11.69)
THUMB_IN = 0.95
Thumbnails = Mapping[str, bytes]
PDF_METADATA = {"Title": "VSA Desktop report", "Creator": f"VSA Desktop {__version__}"}


def _subfigures(figure: Figure, rows: int, height_ratios: list[float]) -> list[SubFigure]:
    return list(cast(Any, figure.subfigures(rows, 1, height_ratios=height_ratios)))


def when(result: AnalysisResult) -> str:
    """The result's time, ``2026-11-30 13:08 UTC``."""
    try:
        moment = datetime.fromisoformat(result.created_at)
    except ValueError:
        return result.created_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _models(result: AnalysisResult) -> str:
    parts = []
    if result.text:
        t = result.text
        parts.append(f"text {t.model} ({t.runtime}, {verdict.calibration_words(t.calibrated)})")
    if result.vision:
        v = result.vision
        parts.append(f"image {v.backend}: {v.model}, {verdict.calibration_words(v.calibrated)}")
    if result.fusion:
        parts.append(f"fusion {verdict.fusion_words(result.fusion)}")
    return "; ".join(parts) or "none"


def _input_text(result: AnalysisResult, max_lines: int) -> list[str]:
    text = printable(" ".join((result.text_input or "").split()))
    if not text:
        return ["Text: none"]
    lines = textwrap.wrap(f"Text: “{text}”", WRAP_CHARS)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: WRAP_CHARS - 30].rstrip() + f"… ({len(text):,} characters in all)"
    return lines


def caption_lines(result: AnalysisResult, max_text_lines: int = PNG_TEXT_LINES) -> list[str]:
    """The caption, one string per printed line (already wrapped)."""
    image = result.image
    lines = _input_text(result, max_text_lines)
    lines.append(f"Image: {image.name} ({image.width}×{image.height})" if image else "Image: none")
    fusion = result.fusion
    if fusion is not None:
        lines += textwrap.wrap(f"Reading: {verdict.headline(result)}", WRAP_CHARS)
        lines += textwrap.wrap(verdict.agreement_sentence(result), WRAP_CHARS)
        meaning = " ".join(
            p for p in (verdict.level_meaning(fusion), verdict.confidence_sentence(fusion)) if p
        )
        lines += textwrap.wrap(meaning, WRAP_CHARS)
    else:
        lines.append("Reading: none")
    lines += textwrap.wrap(f"Models: {_models(result)}", WRAP_CHARS)
    lines.append(f"Result {result.id} · {when(result)} · VSA Desktop {__version__}")
    lines += textwrap.wrap(NOTICE, WRAP_CHARS)
    return lines


def _thumbnail(data: bytes | None) -> Any:
    """The thumbnail as an RGB array for ``imshow`` (None when absent or unreadable)."""
    if not data:
        return None
    try:
        import numpy as np
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, ValueError):
        return None


def captioned_figure(result: AnalysisResult, thumbnail: bytes | None = None) -> Figure:
    """The result chart with its caption underneath (PNG and SVG exports)."""
    lines = caption_lines(result)
    caption_in = LINE_IN * (len(lines) + 1) + 0.1
    width, chart_in = FIGSIZE
    why_in = highlight_height(result, width, PNG_HIGHLIGHT_LINES)
    figure = Figure(figsize=(width, chart_in + caption_in + why_in), dpi=100, layout="constrained")
    if why_in:
        chart, caption, why = _subfigures(figure, 3, height_ratios=[chart_in, caption_in, why_in])
        draw_explanation(why, result, PNG_HIGHLIGHT_LINES, why_in)
    else:
        chart, caption = _subfigures(figure, 2, height_ratios=[chart_in, caption_in])
    draw_result(chart, result)
    _draw_caption_sub(caption, lines, _thumbnail(thumbnail), width, caption_in)
    return figure


def highlight_height(result: AnalysisResult, width_in: float, max_lines: int) -> float:
    """Inches the highlighted text needs (0 when the result carries no explanation)."""
    text, explanation = result.text_input, result.text.explanation if result.text else None
    if not text or explanation is None:
        return 0.0
    per_line = width_in * 72 * 0.94 / (HIGHLIGHT_FONT * 0.52)  # average glyph ~0.52 em
    wrapped = sum(1 + int(len(part) / per_line) for part in text.splitlines() or [""])
    line_in = HIGHLIGHT_FONT * 1.55 / 72
    # title, the text's lines (a long text may wrap a little sooner than estimated), legend
    lines = min(max_lines, wrapped + (1 if wrapped > 1 else 0))
    return line_in * (lines + 1.3) + 0.4  # 0.3 in for the title


def draw_explanation(
    target: SubFigure, result: AnalysisResult, max_lines: int, height_in: float
) -> None:
    """The analysed text with its words highlighted by their weight, under a title."""
    from vsa_desktop.core.explain.render import draw_highlighted

    explanation = result.text.explanation if result.text else None
    assert explanation is not None and result.text_input is not None
    title_in = 0.3
    ax = target.add_axes((0.02, 0.0, 0.96, max(0.1, 1 - title_in / height_in)))
    draw_highlighted(
        ax, result.text_input, explanation, font_size=HIGHLIGHT_FONT, max_lines=max_lines
    )
    target.text(
        0.02,
        1 - 0.06 / height_in,
        f"Why this reading: the words that raised or lowered {explanation.label} "
        f"({explanation.method})",
        ha="left",
        va="top",
        fontsize=CAPTION_FONT + 0.5,
        weight="bold",
        color="#222222",
        gid="explanation-title",
    )


def _draw_caption_sub(
    target: SubFigure, lines: list[str], thumb: Any, width_in: float, height_in: float
) -> None:
    left = 0.02
    if thumb is not None:
        side = min(THUMB_IN, height_in - 0.15)
        ax = target.add_axes(
            (0.015, 1 - (side + 0.08) / height_in, side / width_in, side / height_in)
        )
        ax.imshow(thumb)
        ax.set_axis_off()
        left = (side + 0.2) / width_in
    target.text(
        left,
        1 - 0.08 / height_in,
        "\n".join(lines),
        ha="left",
        va="top",
        fontsize=CAPTION_FONT,
        linespacing=1.35,
        color="#222222",
        gid="caption",
    )


def report_page(result: AnalysisResult, thumbnail: bytes | None = None) -> Figure:
    """One A4 page for one result: header, the caption in full, the chart."""
    lines = caption_lines(result, PDF_TEXT_LINES)
    width, height = A4_PORTRAIT
    header_in = 0.75
    caption_in = LINE_IN * (len(lines) + 1) + 0.2
    why_in = highlight_height(result, width, PDF_HIGHLIGHT_LINES)
    chart_in = min(7.0, height - header_in - caption_in - why_in - 0.8)
    rest = height - header_in - caption_in - why_in - chart_in
    figure = Figure(figsize=A4_PORTRAIT, dpi=100, layout="constrained")
    header, caption, why, chart, _ = _subfigures(
        figure,
        5,
        height_ratios=[header_in, caption_in, max(why_in, 0.01), chart_in, max(rest, 0.01)],
    )
    if why_in:
        draw_explanation(why, result, PDF_HIGHLIGHT_LINES, why_in)
    header.text(0.02, 0.62, "VSA Desktop — emotion reading", fontsize=15, weight="bold")
    header.text(0.02, 0.18, f"{when(result)} · result {result.id}", fontsize=9, color="#444444")
    _draw_caption_sub(caption, lines, _thumbnail(thumbnail), width, caption_in)
    draw_result(chart, result)
    return figure


def summary_page(results: Sequence[AnalysisResult], pages_follow: bool = False) -> Figure:
    """The history summary of several results, with what it covers (A4 landscape).

    ``pages_follow``: the PDF report, where one page per result comes after this one.
    """
    figure = Figure(figsize=(A4_PORTRAIT[1], A4_PORTRAIT[0]), dpi=100, layout="constrained")
    chart, caption = _subfigures(figure, 2, height_ratios=[6.6, 1.0])
    draw_history(chart, results)
    times = sorted(when(r) for r in results)
    lines = [
        f"{len(results)} analyses from {times[0]} to {times[-1]}"
        + ("; one page per result follows." if pages_follow else "."),
        f"Exported {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by VSA Desktop "
        f"{__version__}. {NOTICE}",
    ]
    _draw_caption_sub(caption, lines, None, A4_PORTRAIT[1], 1.0)
    return figure


def report_pages(
    results: Sequence[AnalysisResult], thumbnails: Thumbnails | None = None
) -> list[Figure]:
    """The PDF's pages: the summary first when there are several, then one page per result."""
    thumbs = thumbnails or {}
    pages = [summary_page(results, pages_follow=True)] if len(results) > 1 else []
    return pages + [report_page(r, thumbs.get(r.id)) for r in results]
