"""The highlighted text: marks land on the exact words, paint in the emotion's colour, toggle."""

# ruff: noqa: F811  (pytest fixtures imported from tests.gui_support are redefined as args)

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from hypothesis import HealthCheck, given, settings
from PySide6.QtGui import QColor, QImage, QTextCursor

from tests.gui_support import GUI_MARKS, gui_guard  # noqa: F401
from tests.test_explain_segment import texts
from vsa_desktop.core.explain import explain_text
from vsa_desktop.core.explain.highlight import EMOTION_STYLE, marks
from vsa_desktop.core.text.lite import load_lite
from vsa_desktop.gui.explanation_view import (
    MIN_STRENGTH,
    PENDING,
    STRONGEST,
    ExplanationView,
    HighlightedText,
    describe_mark,
    displayed,
)

pytestmark = GUI_MARKS

HATE = "I hate this, it is disgusting"


@pytest.fixture
def view(qtbot, gui_guard):
    widget = ExplanationView()
    qtbot.addWidget(widget)
    widget.resize(520, 260)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _selected(text_view: HighlightedText, i: int) -> str:
    cursor = QTextCursor(text_view.document())
    cursor.setPosition(text_view._starts[i])
    cursor.setPosition(text_view._ends[i], QTextCursor.MoveMode.KeepAnchor)
    return cursor.selectedText().replace("\u2029", "\n")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts)
def test_every_mark_covers_exactly_its_word_in_the_view(view, text: str) -> None:
    if not text.strip():
        return
    explanation = explain_text(load_lite(), text, every=True)
    view.show_explanation(text, explanation)
    shown = view.text_view._marks
    assert shown == [m for m in marks(explanation) if m.strength >= MIN_STRENGTH]
    for i, mark in enumerate(shown):
        assert _selected(view.text_view, i) == displayed(mark.text)


def _pixel_tint(view: ExplanationView, word: str) -> QColor:
    """The colour painted in the middle of ``word``'s first rectangle, between letters."""
    text_view = view.text_view
    i = next(k for k, m in enumerate(text_view._marks) if m.text == word)
    rect = text_view.mark_rects(i)[0]
    image: QImage = text_view.viewport().grab().toImage()
    # the top edge of the line box holds no glyph ink, only what was painted under it
    return image.pixelColor(int(rect.center().x()), int(rect.top()) + 1)


def test_words_are_painted_in_their_emotions_colour_and_the_switch_turns_it_off(qtbot, view):
    explanation = explain_text(load_lite(), HATE)
    assert explanation.label == "disgust"
    view.show_explanation(HATE, explanation)
    qtbot.wait(10)
    tint = _pixel_tint(view, "disgusting")
    disgust = QColor(EMOTION_STYLE["disgust"]["color"])
    base = view.text_view.palette().base().color()
    assert tint != base
    assert tint.green() > tint.red() and tint.green() > tint.blue()  # the bluish green, mixed
    assert abs(tint.hue() - disgust.hue()) < 25
    view.toggle.setChecked(False)
    qtbot.wait(10)
    assert _pixel_tint(view, "disgusting") == base
    view.toggle.setChecked(True)
    # a weak word is paler than a strong one
    weak = _pixel_tint(view, "hate")
    strong = _pixel_tint(view, "disgusting")
    assert weak.saturationF() < strong.saturationF()


def test_hovering_a_word_names_its_weight(view):
    explanation = explain_text(load_lite(), HATE)
    view.show_explanation(HATE, explanation)
    text_view = view.text_view
    i = next(k for k, m in enumerate(text_view._marks) if m.text == "hate")
    mark = text_view.mark_at(text_view._starts[i] + 1)
    assert mark is not None and mark.text == "hate"
    words = describe_mark(mark, explanation.unit)
    assert words.startswith("“hate” raised disgust by ") and words.endswith("in log-odds")
    assert text_view.mark_at(text_view._ends[-1] + 5) is None


def test_chooser_shows_any_emotion_and_the_legend_follows(view):
    text = "I love you but I am scared"
    explanation = explain_text(load_lite(), text, every=True)
    view.show_explanation(text, explanation)
    items = [view.chooser.itemData(i) for i in range(view.chooser.count())]
    assert items[0] == explanation.label and items[1] == STRONGEST and len(items) == 8
    view.chooser.setCurrentIndex(items.index("fear"))
    assert {m.emotion for m in view.text_view._marks} == {"fear"}
    top = max(view.text_view._marks, key=lambda m: m.weight)
    assert top.text == "scared"
    view.chooser.setCurrentIndex(items.index(STRONGEST))
    emotions = {m.text: m.emotion for m in view.text_view._marks}
    assert emotions["love"] == "happy" and emotions["scared"] == "fear"
    legend = [
        view.legend.itemAt(i).widget().text()
        for i in range(view.legend.count())
        if view.legend.itemAt(i).widget() is not None and view.legend.itemAt(i).widget().text()
    ]
    assert "raised happy" in legend and "raised fear" in legend


def test_pending_then_explained_and_cleared(view):
    view.show_pending("Some text")
    assert view.isVisible() and view.status.text() == PENDING
    assert view.text_view.toPlainText() == "Some text" and view.text_view._marks == []
    view.show_unavailable("The words could not be explained.")
    assert view.status.text() == "The words could not be explained."
    view.clear()
    assert not view.isVisible()
