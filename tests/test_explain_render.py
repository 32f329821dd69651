"""The highlighted text as a Matplotlib drawing (exported reports)."""

from __future__ import annotations

import io

from hypothesis import given, settings
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from tests.test_explain_segment import texts
from vsa_desktop.core.explain import explain_text
from vsa_desktop.core.explain.highlight import EMOTION_STYLE, marks
from vsa_desktop.core.explain.render import MIN_STRENGTH, draw_highlighted, pieces, printable
from vsa_desktop.core.text.lite import load_lite

TEXT = "I hate this, it is disgusting. Not happy at all 😢 中文\nSecond line here."


def _axes(height: float = 2.0) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(8, height), dpi=100)
    return figure, figure.add_axes((0.02, 0.02, 0.96, 0.96))


@settings(max_examples=200, deadline=None)
@given(texts)
def test_pieces_put_the_text_back_together(text: str) -> None:
    if not text.strip():
        return
    shown = marks(explain_text(load_lite(), text))
    cut = pieces(text, shown)
    assert "".join(p.text for p in cut) == text
    assert [p.mark for p in cut if p.mark is not None] == sorted(shown, key=lambda m: m.start)


def test_marked_words_sit_on_boxes_of_their_emotion_and_the_text_is_all_there() -> None:
    explanation = explain_text(load_lite(), TEXT)
    figure, ax = _axes()
    drawn = draw_highlighted(ax, TEXT, explanation)
    expected = [m for m in marks(explanation) if m.strength >= MIN_STRENGTH]
    assert drawn == len(expected)
    boxes = [p for p in ax.patches if isinstance(p, Rectangle) and (p.get_gid() or "")]
    raised = [m for m in expected if m.raised]
    assert len(boxes) == len(raised)
    for box, mark in zip(boxes, raised, strict=True):
        assert box.get_gid() == f"mark:{mark.emotion}"
        assert box.get_facecolor()[:3] == to_rgb(EMOTION_STYLE[mark.emotion]["color"])
        assert box.get_hatch() == EMOTION_STYLE[mark.emotion]["hatch"]
    words = "".join(t.get_text() for t in ax.texts[:-3]).replace(" ", "")
    assert printable(TEXT).replace(" ", "").replace("\n", "") in words
    for fmt in ("png", "pdf", "svg"):
        figure.savefig(io.BytesIO(), format=fmt)  # no glyph warnings: the suite fails on them


def test_a_long_text_stops_at_the_last_line_with_an_ellipsis() -> None:
    text = " ".join(["I am so happy today and it is a lovely day"] * 60)
    explanation = explain_text(load_lite(), text)
    _figure, ax = _axes(height=1.2)
    draw_highlighted(ax, text, explanation, max_lines=3)
    shown = [t.get_text() for t in ax.texts]
    assert " …" in shown
    assert len("".join(shown)) < len(text) / 3
