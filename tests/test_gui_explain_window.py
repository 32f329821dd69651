""" "Why this reading" in the real main window: after the result, in a worker, cancellable."""

# ruff: noqa: F811  (pytest fixtures imported from tests.gui_support are redefined as args)

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from tests.gui_support import GUI_MARKS, gui_guard, gui_settings, history_ready  # noqa: F401
from vsa_desktop.core.explain.highlight import EMOTION_STYLE
from vsa_desktop.core.settings import Settings, load_settings
from vsa_desktop.gui.explanation_flow import wants_explanation
from vsa_desktop.gui.main_window import MainWindow

pytestmark = GUI_MARKS
WAIT_MS = 120_000
HATE = "I hate this, it is disgusting"


def _window(qtbot, settings: Settings) -> MainWindow:
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1280, 860)
    win.show()
    history_ready(qtbot, win)
    return win


@pytest.fixture
def lite_window(qtbot, gui_guard: None, gui_settings: Settings) -> Iterator[MainWindow]:
    win = _window(qtbot, dataclasses.replace(gui_settings, text_model="builtin:lite"))
    yield win
    win.close()


@pytest.fixture
def tiny_window(qtbot, gui_guard: None, gui_settings: Settings) -> Iterator[MainWindow]:
    win = _window(qtbot, dataclasses.replace(gui_settings, explain_words="all"))
    yield win
    win.close()


def _analyze_and_explain(qtbot, win: MainWindow, text: str):
    win.text_input.editor.setPlainText(text)
    with qtbot.waitSignal(win.explainer.explained, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(win.analyze_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_highlighted_words_appear_in_the_window_after_the_result(qtbot, lite_window):
    win = lite_window
    explained = _analyze_and_explain(qtbot, win, HATE)
    view = win.explainer.view
    assert view.isVisible() and view.status.text() == ""
    assert explained.text.explanation.label == explained.text.label == "disgust"
    assert win.result_view.result is explained  # an export now carries the explanation
    marks = {m.text: m for m in view.text_view._marks}
    assert marks["disgusting"].raised and marks["disgusting"].emotion == "disgust"
    qtbot.wait(20)
    text_view = view.text_view
    i = next(k for k, m in enumerate(text_view._marks) if m.text == "disgusting")
    rect = text_view.mark_rects(i)[0]
    image = text_view.viewport().grab().toImage()
    tint = image.pixelColor(int(rect.center().x()), int(rect.top()) + 1)
    assert tint != text_view.palette().base().color()
    assert abs(tint.hue() - QColor(EMOTION_STYLE["disgust"]["color"]).hue()) < 25
    legend = [
        view.legend.itemAt(k).widget().text()
        for k in range(view.legend.count())
        if view.legend.itemAt(k).widget() is not None
    ]
    assert "raised disgust" in legend
    assert view.chooser.count() == 8  # the label, "strongest", the six others


def test_menu_switches_explanations_off_and_on_and_saves_the_choice(qtbot, lite_window):
    win = lite_window
    _analyze_and_explain(qtbot, win, HATE)
    win.explainer.actions["off"].trigger()
    assert not win.explainer.view.isVisible()
    assert load_settings().explain_words == "off"
    win.explainer.actions["lite"].trigger()  # already explained: shown again at once
    assert win.explainer.view.isVisible() and win.explainer.view.text_view._marks
    assert not win.explainer.busy
    assert load_settings().explain_words == "lite"


def test_a_transformer_reading_is_explained_by_occlusion_when_asked(qtbot, tiny_window):
    explained = _analyze_and_explain(qtbot, tiny_window, "What a wonderful surprise this is")
    explanation = explained.text.explanation
    assert explanation.method == "occlusion" and explanation.unit == "probability"
    assert {s.text for s in explanation.spans} >= {"wonderful", "surprise"}
    assert explained.fusion.parts is None  # text only: nothing to split between channels


def test_a_new_result_cancels_the_running_explanation(qtbot, tiny_window):
    win = tiny_window
    with qtbot.waitSignal(win.explainer.explained, timeout=WAIT_MS) as blocker:
        win.text_input.editor.setPlainText("a first text to read " * 20)
        qtbot.mouseClick(win.analyze_button, Qt.MouseButton.LeftButton)
    first = blocker.args[0]
    plain = dataclasses.replace(
        first, id="other", text=dataclasses.replace(first.text, explanation=None)
    )
    win.explainer.show(plain)
    token = win.explainer._token
    assert token is not None and not token.cancelled
    win.analyze()  # a new analysis starts: the running explanation is stopped
    assert token.cancelled
    with qtbot.waitSignal(win.explainer.explained, timeout=WAIT_MS) as blocker:
        pass
    assert blocker.args[0].id not in ("other", first.id)


def test_what_is_explained_by_default():
    from tests.helpers_results import make_result

    lite = make_result({"happy": 2}, text_model="builtin:lite")
    other = make_result({"happy": 2}, text_model="tiny")
    assert wants_explanation(lite, "lite") and not wants_explanation(other, "lite")
    assert wants_explanation(other, "all") and not wants_explanation(lite, "off")


@pytest.mark.qt_log_ignore(  # the offscreen plugin, as for every window, and for a tooltip
    "does not support propagateSizeHints", "does not support raise"
)
def test_hovering_a_face_box_shows_its_seven_scores(qtbot, lite_window):
    from PySide6.QtCore import QEvent, QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    from tests.gui_support import ASTRONAUT

    win = lite_window
    zone = win.drop_zone
    with qtbot.waitSignal(zone.image_changed, timeout=WAIT_MS):
        zone.load_path(ASTRONAUT)
    explained = _analyze_and_explain(qtbot, win, "What a happy day")
    (face,) = explained.vision.faces
    assert face.share == 1.0
    from vsa_desktop.gui.reading_parts import face_rect

    centre = face_rect(face, zone.image_rect(), explained.image.width).center().toPoint()
    assert zone.face_at(centre.toPointF()) == face
    assert zone.face_at(QPoint(1, 1).toPointF()) is None
    event = QHelpEvent(QEvent.Type.ToolTip, centre, zone.mapToGlobal(centre))
    QApplication.sendEvent(zone, event)
    tip = QToolTip.text()
    assert f"This face: {face.label}" in tip and "the whole image's reading" in tip
    assert all(e in tip for e in ("happy", "sad", "angry", "fear", "surprise", "disgust"))
    QToolTip.hideText()
    parts = win.result_view.chart.toolTip()  # what each channel put into the fused reading
    assert (
        "text" in parts
        and "image" in parts
        and f"{explained.fusion.parts.text['happy']:+.2f}" in parts
    )


def test_vlm_cues_are_chips_under_the_description_and_escaped(qtbot, lite_window):
    from tests.helpers_results import make_result
    from vsa_desktop.core.explanation import Cue

    result = make_result({"happy": 2}, {"happy": 3}, description="A smiling person")
    cues = (Cue("open smile", "happy"), Cue("<b>raised</b> brows", "surprise"))
    with_cues = dataclasses.replace(result, vision=dataclasses.replace(result.vision, cues=cues))
    win = lite_window
    with qtbot.waitSignal(win.result_view.result_drawn, timeout=WAIT_MS):
        win.result_view.show_result(with_cues)
    details = win.result_view.details.text()
    assert "open smile · happy" in details and "&lt;b&gt;raised&lt;/b&gt; brows" in details
    with qtbot.waitSignal(win.result_view.result_drawn, timeout=WAIT_MS):
        win.result_view.show_result(result)
    assert "Cues it named" not in win.result_view.details.text()
