"""The small widgets one by one: drop zone, text box, history panel, notices, crash dialog."""

# ruff: noqa: F811  (pytest fixtures imported from tests.gui_support are redefined as args)

from __future__ import annotations

import dataclasses
import logging

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QGuiApplication, QImage

from tests.gui_support import (  # noqa: F401
    ASTRONAUT,
    GUI_MARKS,
    gui_guard,
    gui_settings,
    wait_for,
)
from tests.test_gui_main_window import drop_mime
from vsa_desktop.core.history import HistoryStore
from vsa_desktop.core.pipeline import AnalysisRequest, analyze
from vsa_desktop.core.result import new_id
from vsa_desktop.core.settings import load_settings
from vsa_desktop.gui import crash_dialog
from vsa_desktop.gui.dialogs import set_dialogs_enabled
from vsa_desktop.gui.drop_zone import WEB_IMAGE, DropZone
from vsa_desktop.gui.history_model import PAGE
from vsa_desktop.gui.history_panel import HistoryPanel
from vsa_desktop.gui.main_window import MainWindow
from vsa_desktop.gui.text_input import TextInput

pytestmark = GUI_MARKS


@pytest.fixture
def zone(qtbot, gui_guard):
    widget = DropZone()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_paste_image_from_clipboard(qtbot, zone):
    image = QImage(str(ASTRONAUT))
    QGuiApplication.clipboard().setImage(image)
    with qtbot.waitSignal(zone.image_changed):
        assert zone.paste()
    assert isinstance(zone.source, bytes)
    assert (zone.loaded.info.width, zone.loaded.info.height) == (image.width(), image.height())


def test_browser_drag_with_image_data_is_accepted(qtbot, zone):
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.org/photos/astronaut.png")])
    mime.setImageData(QImage(str(ASTRONAUT)))
    with wait_for(qtbot, zone.image_changed, fails=(zone.image_rejected,)):
        assert drop_mime(zone, mime)
    assert zone.image_name == "astronaut.png" and isinstance(zone.source, bytes)


def test_browser_link_without_image_data_is_refused_without_download(qtbot, zone):
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.org/page.html")])
    with qtbot.waitSignal(zone.image_rejected) as blocker:
        drop_mime(zone, mime)
    assert blocker.args[0] == WEB_IMAGE and zone.source is None


def test_refused_file_keeps_the_previous_image(qtbot, zone, tmp_path):
    with wait_for(qtbot, zone.image_changed, fails=(zone.image_rejected,)):
        zone.load_path(ASTRONAUT)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with qtbot.waitSignal(zone.image_rejected):
        zone.load_path(empty)
    assert not zone.loading
    assert "empty" in zone.message
    assert zone.image_name == "astronaut.png"


def test_text_input_counts_characters_and_hands_images_on(qtbot, gui_guard):
    box = TextInput()
    qtbot.addWidget(box)
    qtbot.keyClicks(box.editor, "hello")
    assert box.counter.text() == "5 characters"
    box.set_text("héllo 👋")  # the count is in characters (code points), not UTF-16 units
    assert box.counter.text() == "7 characters"
    mime = QMimeData()
    mime.setImageData(QImage(str(ASTRONAUT)))
    with qtbot.waitSignal(box.image_pasted):
        box.editor.insertFromMimeData(mime)
    assert box.text() == "héllo 👋"


@pytest.fixture
def store(tmp_path, tiny_model_dir):
    texts = [
        "What a wonderful, happy day with friends.",
        "I miss her so much it hurts.",
        "Stop lying to me, I am furious.",
    ]
    with HistoryStore(tmp_path / "h.sqlite3") as history:
        for text in texts:
            history.add(analyze(AnalysisRequest(text=text, text_model=str(tiny_model_dir))))
        yield history


def settle(qtbot, panel: HistoryPanel) -> None:
    """Wait until the panel's search has run and its page has arrived."""
    qtbot.waitUntil(lambda: not panel.busy, timeout=30_000)


@pytest.fixture
def panel(qtbot, gui_guard, store):
    widget = HistoryPanel(store)
    qtbot.addWidget(widget)
    widget.show()
    settle(qtbot, widget)
    yield widget
    widget.shutdown()


def test_history_newest_first_and_search(qtbot, panel, store):
    model = panel.model
    assert model.rowCount() == 3
    assert [model.entry(r).id for r in range(3)] == [e.id for e in store.list()]
    panel.search.setText("FURIOUS")
    settle(qtbot, panel)
    assert model.rowCount() == 1 and "furious" in model.entry(0).excerpt
    panel.search.clear()
    settle(qtbot, panel)
    assert model.rowCount() == 3


def test_history_label_filter(qtbot, panel, store):
    label = store.list()[0].fused_label
    panel.label_filter.setCurrentText(label)
    settle(qtbot, panel)
    expected = store.search(label=label)
    assert [panel.model.entry(r).id for r in range(panel.model.rowCount())] == [
        e.id for e in expected
    ]


def test_history_delete_then_undo(qtbot, panel, store):
    first = store.list()[0]
    panel.select_row(0)
    panel.delete_button.click()
    assert store.count() == 2 and panel.model.rowCount() == 2
    assert panel.undo_button.isEnabled()
    panel.undo_button.click()
    settle(qtbot, panel)
    assert store.count() == 3 and panel.model.rowCount() == 3
    assert store.get(first.id).id == first.id
    assert not panel.undo_button.isEnabled()


def test_history_selecting_a_row_emits_the_result(qtbot, panel, store):
    with qtbot.waitSignal(panel.entry_selected) as blocker:
        panel.select_row(1)
    assert blocker.args[0].id == store.list()[1].id


def test_history_pages_are_fetched_lazily(qtbot, panel, store):
    template = store.get(store.list()[0].id)
    for _ in range(PAGE + 10):
        store.add(dataclasses.replace(template, id=new_id()))
    panel.refresh()
    settle(qtbot, panel)
    model = panel.model
    assert model.total == PAGE + 13
    assert model.rowCount() == PAGE
    assert model.canFetchMore(model.index(-1, -1))
    model.fetchMore(model.index(-1, -1))
    settle(qtbot, panel)
    assert model.rowCount() == PAGE + 13
    assert "63 analyses" in panel.footer.text()


def test_first_run_notice_dont_show_again(qtbot, gui_guard, gui_settings):
    gui_settings.first_run_notice_dismissed = False
    window = MainWindow(gui_settings)
    qtbot.addWidget(window)
    window.show()
    assert window.first_run.isVisible()
    text = window.first_run.label.text()
    assert "not what a person really feels" in text and "Groq" in text and "EU AI Act" in text
    window.first_run.close_button.click()
    assert not window.first_run.isVisible()
    assert load_settings().first_run_notice_dismissed
    window.close()


def test_crash_handler_logs_when_dialogs_are_off(gui_guard, caplog):
    try:
        raise RuntimeError("boom in a slot")
    except RuntimeError as exc:
        with caplog.at_level(logging.ERROR):
            details = crash_dialog.report_crash(exc)
    assert "RuntimeError: boom in a slot" in details
    assert "boom in a slot" in caplog.text


def test_crash_dialog_shows_details_log_path_and_copies(qtbot, gui_guard, tmp_path):
    crash_dialog.install_crash_handler(tmp_path / "vsa.log")
    set_dialogs_enabled(True)
    try:
        try:
            raise ValueError("unexpected")
        except ValueError as exc:
            crash_dialog.report_crash(exc)
        dialog = crash_dialog._open_dialogs[-1]
        qtbot.addWidget(dialog)
        assert "ValueError: unexpected" in dialog.text.toPlainText()
        assert str(tmp_path / "vsa.log") in dialog.log_label.text()
        dialog.copy_button.click()
        assert QGuiApplication.clipboard().text() == dialog.details
        dialog.reject()
    finally:
        set_dialogs_enabled(False)
        import sys

        sys.excepthook = sys.__excepthook__


def test_chart_colours_follow_the_palette(qtbot, gui_guard, tiny_model_dir):
    from matplotlib.colors import to_hex
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QWidget

    from vsa_desktop.gui.chart_view import ChartView

    parent = QWidget()
    qtbot.addWidget(parent)
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    parent.setPalette(dark)
    view = ChartView(parent)
    result = analyze(AnalysisRequest(text="I am so happy!", text_model=str(tiny_model_dir)))
    with qtbot.waitSignal(view.chart_drawn, timeout=30_000):
        view.show_result(result)
    assert to_hex(view.figure.get_facecolor()) == "#1e1e1e"
    assert to_hex(view.figure.axes[0].yaxis.label.get_color()) == "#e6e6e6"
    corner = view.grab().toImage().pixelColor(3, 3)  # what is on screen is that figure
    assert corner.name() == "#1e1e1e"
    view.shutdown()


def test_chart_is_rendered_off_the_gui_thread_latest_result_wins(qtbot, gui_guard):
    import threading

    from tests.helpers_results import make_result
    from vsa_desktop.core.taxonomy import EMOTIONS
    from vsa_desktop.gui.chart_view import ChartView

    view = ChartView()
    qtbot.addWidget(view)
    view.resize(600, 360)
    first = make_result({"happy": 0.9, "sad": 0.1}, {"happy": 1.0})
    second = make_result({"angry": 0.8, "fear": 0.2}, {"surprise": 0.5, "sad": 0.5})
    drawn: list[object] = []
    view.chart_drawn.connect(drawn.append)
    view.show_result(first)
    view.show_result(second)  # supersedes the first render
    qtbot.waitUntil(lambda: not view.rendering, timeout=30_000)
    qtbot.wait(50)
    assert drawn == [second]
    assert view.render_thread not in (0, threading.get_ident())
    heights = view.bar_heights()
    assert second.text is not None and second.vision is not None and second.fusion is not None
    assert heights["text"] == pytest.approx([second.text.shown_scores[e] for e in EMOTIONS])
    assert heights["vision"] == pytest.approx([second.vision.shown_scores[e] for e in EMOTIONS])
    assert heights["fused"] == pytest.approx([second.fusion.shown_scores[e] for e in EMOTIONS])
    view.show()
    view.resize(420, 300)  # resized while (or after) drawing: drawn again at the new size
    qtbot.waitUntil(lambda: not view.rendering, timeout=30_000)
    assert (view._image.width(), view._image.height()) == (420, 300)
    with qtbot.waitSignal(view.chart_drawn) as blocker:
        view.show_result(None)
    assert blocker.args == [None] and view.figure is None and view.bar_heights() == {}
    view.shutdown()


def test_readings_below_one_percent_keep_the_rest_of_the_line(qtbot, gui_guard):
    """'< 1 %' in rich text must be escaped: Qt would read it as a tag and drop the rest."""
    from PySide6.QtGui import QTextDocument

    from vsa_desktop.gui.result_view import ResultView

    result = analyze(
        AnalysisRequest(text="What a wonderful, happy, happy day!", text_model="builtin:lite")
    )
    assert result.text is not None
    third = sorted(result.text.shown_scores.values())[-3]
    assert 0 < third < 0.005  # the lite model's third emotion is well under 1 % here
    view = ResultView()
    qtbot.addWidget(view)
    view.show_result(result)
    doc = QTextDocument()
    doc.setHtml(view.details.text())
    shown = doc.toPlainText()
    assert "< 1 %" in shown
    fused_line = next(line for line in shown.splitlines() if line.startswith("Fused"))
    assert fused_line.count(" %") == 3  # all three top labels survive


def test_latest_task_keeps_only_the_newest_answer(qtbot, gui_guard):
    """A slow first job that ends after a second one started never reaches the screen; a
    cancelled job's answer is dropped too."""
    import threading

    from PySide6.QtCore import QObject

    from vsa_desktop.gui.workers import LatestTask

    owner = QObject()
    task = LatestTask(owner)
    got: list[object] = []
    task.returned.connect(got.append)
    gate = threading.Event()

    def slow(token, progress):
        assert gate.wait(30)
        return "old"

    task.start(slow)
    task.start(lambda token, progress: "new")  # one worker thread: it runs after "slow"
    gate.set()  # "slow" ends (or never started) and its answer must be dropped
    qtbot.waitUntil(lambda: got == ["new"], timeout=10_000)
    qtbot.waitUntil(lambda: not task.runner.busy, timeout=10_000)
    qtbot.wait(50)
    assert got == ["new"] and not task.running

    gate.clear()
    task.start(slow)
    assert task.running
    task.cancel()
    gate.set()
    qtbot.waitUntil(lambda: not task.runner.busy, timeout=10_000)
    qtbot.wait(50)
    assert got == ["new"] and not task.running
    task.shutdown()


def test_task_signals_outlive_the_workers_last_emit(qtbot, gui_guard):
    """A task's signals are deleted only after its worker has left ``ended.emit``: ``ended``
    may reach the GUI thread first, and deleting them then crashed the worker thread."""
    import threading

    from shiboken6 import isValid

    from vsa_desktop.gui.workers import TaskRunner

    runner = TaskRunner()
    gate = threading.Event()
    signals_of: list[object] = []

    def keep(signals):
        signals_of.append(signals)

    task_id, _ = runner.run(lambda token, progress: gate.wait(30), keep)
    signals = signals_of[0]
    runner._on_task_ended(task_id)  # as if ``ended`` arrived before the worker left emit
    qtbot.wait(100)
    assert isValid(signals), "deleted while its worker could still touch it"
    gate.set()
    qtbot.waitUntil(lambda: not isValid(signals), timeout=10_000)  # then it is deleted
    assert runner.shutdown() and runner._ending == []


def test_bidi_overrides_from_untrusted_text_cannot_reorder_what_is_shown(qtbot, gui_guard):
    """A caption with U+202E made the window show 'evil' as 'live'; shown text keeps its
    length (explanation offsets hold) but the override is drawn as U+FFFD."""
    from PySide6.QtGui import QTextDocument

    from vsa_desktop.core.history import HistoryEntry
    from vsa_desktop.gui.explanation_view import displayed
    from vsa_desktop.gui.history_rows import input_text
    from vsa_desktop.gui.result_view import ResultView

    text = "pay \u202eevil\u202c now \u2067x\u2069"
    shown = displayed(text)
    assert len(shown) == len(text) and not any(c in shown for c in "\u202e\u202c\u2067\u2069")
    result = analyze(AnalysisRequest(text=text, text_model="builtin:lite"))
    view = ResultView()
    qtbot.addWidget(view)
    view.show_result(result, origin="From history")  # history results show their input
    doc = QTextDocument()
    doc.setHtml(view.details.text())
    assert "\u202e" not in doc.toPlainText() and "\ufffdevil\ufffd" in doc.toPlainText()
    fields = {f.name for f in dataclasses.fields(HistoryEntry)}
    entry = HistoryEntry(**{
        **dict.fromkeys(fields), "id": "x", "created_at": "2026-01-01T00:00:00Z",
        "mode": "multimodal", "excerpt": text, "image_name": "photo\u202egpj.exe",
    })  # fmt: skip
    assert "\u202e" not in input_text(entry)
