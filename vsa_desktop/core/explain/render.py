"""The highlighted text drawn with Matplotlib, for exported reports (no pyplot, no Qt).

Words are laid out in lines like the window shows them, each marked word on a box in its
emotion's colour and hatch (``highlight.EMOTION_STYLE``), words that lowered it underlined in
grey, and a legend underneath.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextToPath

from vsa_desktop.core.explain.highlight import (
    EMOTION_STYLE,
    LOWERED_COLOR,
    MIN_STRENGTH,
    Mark,
    marks,
)
from vsa_desktop.core.explanation import LOGIT_UNIT, TextExplanation
from vsa_desktop.core.taxonomy import EMOTIONS

LINE_SPACING = 1.55  # line height / font size
_SPACE = re.compile(r"(\s+)")


@dataclass(frozen=True)
class Piece:
    """A run of text drawn in one go, with the mark it belongs to (None: plain text)."""

    text: str
    mark: Mark | None


@functools.cache
def _font_chars() -> frozenset[int]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    font = FT2Font(font_manager.findfont(FontProperties(family=["sans-serif"])))
    return frozenset(font.get_charmap())


def printable(text: str) -> str:
    """``text`` with the characters the font lacks (emoji, most CJK) shown as ``▯``."""
    chars = _font_chars()
    return "".join(c if ord(c) in chars or c.isspace() else "▯" for c in text)


def pieces(text: str, shown: list[Mark]) -> list[Piece]:
    """``text`` cut at the marks' edges and at whitespace, in order; joined back it is ``text``."""
    out: list[Piece] = []
    at = 0
    for mark in sorted(shown, key=lambda m: m.start):
        if mark.start < at:
            continue  # overlapping marks do not happen; keep the first if they ever do
        out.extend(Piece(p, None) for p in _SPACE.split(text[at : mark.start]) if p)
        out.append(Piece(text[mark.start : mark.end], mark))
        at = mark.end
    out.extend(Piece(p, None) for p in _SPACE.split(text[at:]) if p)
    return out


def draw_highlighted(
    ax: Axes,
    text: str,
    explanation: TextExplanation,
    *,
    emotion: str | None = None,
    font_size: float = 9.5,
    max_lines: int = 12,
) -> int:
    """Draw ``text`` with ``explanation``'s marks into ``ax`` (which is cleared and hidden).

    Args:
        ax: the axes to fill; its size in the figure sets the line width.
        text: the analysed text.
        explanation: its explanation.
        emotion: whose weights to show (default the label; others need per-emotion weights).
        font_size: in points.
        max_lines: lines of text at most (the legend comes below); a longer text ends in "…".

    Returns:
        How many marks were drawn.
    """
    ax.clear()
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    shown = [m for m in marks(explanation, emotion=emotion) if m.strength >= MIN_STRENGTH]
    # In display pixels, so an axes inside a SubFigure (the report's blocks) measures right.
    bbox = ax.get_window_extent()
    dpi = float(ax.get_figure(root=True).dpi)  # type: ignore[union-attr]
    width_pt = bbox.width / dpi * 72
    height_pt = bbox.height / dpi * 72
    prop = FontProperties(family=["sans-serif"], size=font_size)
    measure = TextToPath()
    line_pt = font_size * LINE_SPACING
    lines = min(max_lines, max(1, int(height_pt // line_pt) - 1))
    x = y = 0.0
    row = 0
    drawn = 0
    truncated = False
    for piece in pieces(text, shown):
        shown_text = printable(piece.text)
        if piece.mark is None and shown_text.isspace():
            if "\n" in piece.text:
                x, row = 0.0, row + piece.text.count("\n")
            elif x > 0:
                x += measure.get_text_width_height_descent(" ", prop, ismath=False)[0]
            continue
        width = measure.get_text_width_height_descent(shown_text, prop, ismath=False)[0]
        if x > 0 and x + width > width_pt:
            x, row = 0.0, row + 1
        if row >= lines:
            truncated = True
            break
        y = 1 - (row + 1) * line_pt / height_pt
        left, w = x / width_pt, width / width_pt
        if piece.mark is not None:
            _draw_mark(ax, piece.mark, left, y, w, line_pt / height_pt)
            drawn += 1
        ax.text(left, y + 0.28 * line_pt / height_pt, shown_text, fontproperties=prop)
        x += width
    if truncated:
        ax.text(min(x / width_pt, 0.97), y + 0.28 * line_pt / height_pt, " …", fontproperties=prop)
    _legend(ax, shown, explanation.unit, prop, line_pt / height_pt)
    return drawn


def _draw_mark(ax: Axes, mark: Mark, left: float, bottom: float, w: float, h: float) -> None:
    if mark.raised:
        style = EMOTION_STYLE[mark.emotion]
        ax.add_patch(
            Rectangle(
                (left, bottom + 0.08 * h),
                w,
                0.9 * h,
                facecolor=style["color"],
                alpha=0.2 + 0.55 * mark.strength,
                hatch=style["hatch"],
                edgecolor="#333333",
                linewidth=0,
                gid=f"mark:{mark.emotion}",
            )
        )
    else:
        ax.plot(
            [left, left + w],
            [bottom + 0.12 * h] * 2,
            color=LOWERED_COLOR,
            linestyle="--",
            linewidth=0.6 + 1.2 * mark.strength,
            gid="mark:lowered",
        )


def _legend(ax: Axes, shown: list[Mark], unit: str, prop: FontProperties, h: float) -> None:
    raised = [e for e in EMOTIONS if any(m.raised and m.emotion == e for m in shown)]
    entries = [f"raised {e}" for e in raised]
    x = 0.0
    for emotion, words in zip(raised, entries, strict=True):
        style = EMOTION_STYLE[emotion]
        ax.add_patch(
            Rectangle(
                (x, 0.1 * h),
                0.025,
                0.7 * h,
                facecolor=style["color"],
                hatch=style["hatch"],
                edgecolor="#333333",
                linewidth=0.5,
            )
        )
        ax.text(x + 0.032, 0.22 * h, words, fontproperties=prop)
        x += 0.045 + 0.011 * len(words)
    if any(not m.raised for m in shown):
        ax.plot([x, x + 0.025], [0.2 * h] * 2, color=LOWERED_COLOR, linestyle="--")
        ax.text(x + 0.032, 0.22 * h, "lowered it", fontproperties=prop)
        x += 0.13
    scale = "log-odds" if unit == LOGIT_UNIT else "probability points"
    ax.text(x, 0.22 * h, f"(shade: weight in {scale})", fontproperties=prop, color="#555555")
