"""A newcomer's first hour (issue #12): focus and keys, the status bar, GUI wording, stale
messages, the history list, the first window size."""

# ruff: noqa: F811  (pytest fixtures imported from tests.gui_support are redefined as args)

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QRect, Qt
from PySide6.QtTest import QTest

from tests.gui_support import (  # noqa: F401
    ASTRONAUT,
    GUI_MARKS,
    WAIT_MS,
    gui_guard,
    gui_settings,
    history_ready,
    shown_window,
    wait_for,
)
from tests.test_gui_main_window import drop_and_wait, drop_file
from vsa_desktop.core import models
from vsa_desktop.core.errors import ModelNotAvailableError
from vsa_desktop.core.pipeline import LITE_NOTE
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.settings import Settings
from vsa_desktop.gui.drop_zone import DropZone
from vsa_desktop.gui.main_window import MainWindow
from vsa_desktop.gui.result_view import DOWNLOAD_OFFLINE
from vsa_desktop.gui.window_geometry import FRAME_ALLOWANCE, first_window_rect
from vsa_desktop.gui.wording import ENV_OFFLINE_DOWNLOAD, for_gui

pytestmark = GUI_MARKS


@pytest.fixture
def window(qtbot, gui_guard: None, gui_settings: Settings) -> Iterator[MainWindow]:
    win = shown_window(qtbot, gui_settings, active=True)
    yield win
    win.close()


@pytest.fixture
def browsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the drop zone's file dialogs instead of opening them."""
    calls: list[int] = []
    monkeypatch.setattr(DropZone, "browse", lambda self: calls.append(1))
    return calls


def analyze_and_wait(qtbot, win: MainWindow) -> AnalysisResult:
    with wait_for(qtbot, win.result_shown, fails=(win.controller.analysis_failed,)) as caught:
        win.analyze()
    return caught.args[0]


# ------------------------------------------------------------------ 4: focus and keys


def test_typing_right_after_launch_goes_into_the_text_box(qtbot, window, browsed):
    assert window.focusWidget() is window.text_input.editor
    QTest.keyClicks(window.focusWidget(), "What a day to be alive")
    assert window.text_input.text() == "What a day to be alive"
    assert browsed == []


def test_drop_zone_opens_the_dialog_only_on_bare_space_or_return(qtbot, window, browsed):
    zone = window.drop_zone
    zone.setFocus()
    for modifier in (Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.AltModifier):
        QTest.keyClick(zone, Qt.Key.Key_Space, modifier)
        QTest.keyClick(zone, Qt.Key.Key_Return, modifier)
    assert browsed == []
    QTest.keyClick(zone, Qt.Key.Key_Space)
    QTest.keyClick(zone, Qt.Key.Key_Return)
    assert browsed == [1, 1]


def test_ctrl_return_in_the_drop_zone_analyzes(qtbot, window, browsed):
    window.text_input.set_text("I can't believe we won the final!")
    window.drop_zone.setFocus()
    with wait_for(qtbot, window.result_shown, fails=(window.controller.analysis_failed,)):
        QTest.keyClick(window.drop_zone, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert browsed == []
    assert window.result_view.result is not None


# ------------------------------------------------------------------ 5: the status bar


@pytest.mark.parametrize("width", [1024, 1366, 1920])
def test_status_bar_content_never_overlaps(qtbot, window, width):
    status = window.status
    window.resize(width, 700)
    status.set_models("j-hartmann/emotion-english-distilroberta-base (onnx-int8)", "local")
    status.set_lite(True)
    status.show_background("Optimising text model for speed… 42%")
    status.show_progress("vision", 0.5)
    QTest.qWait(50)
    parts = (status.models, status.lite_link, status.background, status.activity)
    shown = [w for w in (*parts, status.progress, status.network) if w.isVisible()]
    assert len(shown) == 6
    bar = status.rect()
    for i, a in enumerate(shown):
        assert bar.contains(a.geometry()), a.accessibleName()
        for b in shown[i + 1 :]:
            assert not a.geometry().intersects(b.geometry()), (
                a.accessibleName(),
                b.accessibleName(),
            )
    assert status.lite_link.width() >= status.lite_link.sizeHint().width()  # link never cut
    assert status.models.toolTip().startswith("Text: j-hartmann")  # full text when elided


def test_hovering_a_toolbar_action_leaves_the_status_bar_alone(qtbot, window):
    window.status.set_lite(True)
    window.actions.offline.hover()
    window.actions.analyze.hover()
    assert window.status.currentMessage() == ""
    assert window.status.lite_link.isVisible()


# ------------------------------------------------------------------ 6: GUI words


def test_core_messages_are_told_in_gui_words(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(ModelNotAvailableError) as offline:
        models.download("someone/some-model", offline=True)
    from vsa_desktop.core.text.transformers_backend import __dict__ as backend

    messages = [LITE_NOTE, offline.value.message] + [
        v for v in backend.values() if isinstance(v, str) and "`vsa" in v
    ]
    assert any("`vsa models download" in m for m in messages)  # the core says CLI things
    for message in messages:
        gui = for_gui(message)
        assert "`" not in gui and "--" not in gui and "VSA_OFFLINE/" not in gui, gui
    assert "Offline off in the toolbar" in for_gui(offline.value.message)


@pytest.fixture
def lite_window(qtbot, gui_guard: None) -> Iterator[MainWindow]:
    win = MainWindow(
        Settings(text_model="builtin:lite", vision_backend="none", first_run_notice_dismissed=True)
    )
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def test_offline_the_lite_note_offers_go_online_and_download(qtbot, lite_window):
    win = lite_window
    win.text_input.set_text("I am so happy today, this is wonderful!")
    result = analyze_and_wait(qtbot, win)
    assert LITE_NOTE in result.warnings
    notes = win.result_view.warnings.text()
    assert "`vsa" not in notes and "download the full" in notes
    with qtbot.waitSignal(win.warmup_finished, timeout=WAIT_MS):
        win.start_warmup()
    win.actions.offline.setChecked(True)
    button = win.result_view.download_button
    assert button.text() == DOWNLOAD_OFFLINE and button.isVisible()
    assert "go online to download" in win.result_view.warnings.text()
    assert "go online" in win.status.lite_link.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not win.actions.offline.isChecked()  # went online first
    assert "● Online" in win.status.network.text()
    dialog = win.models.download_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)
    assert dialog.outcome.text() == ENV_OFFLINE_DOWNLOAD  # HF_HUB_OFFLINE=1 in the tests


def test_offline_forced_by_the_environment_says_so_instead_of_downloading(
    qtbot, lite_window, monkeypatch
):
    monkeypatch.setenv("VSA_OFFLINE", "1")
    lite_window.status.download_requested.emit()
    assert lite_window.models.download_dialog is None
    assert lite_window.result_view.message_bar.text == ENV_OFFLINE_DOWNLOAD


# ------------------------------------------------------------------ 7: stale messages


def test_failure_messages_end_when_their_situation_ends(qtbot, window, tmp_path):
    window.text_input.set_text("Nothing much happened today.")
    first = analyze_and_wait(qtbot, window)
    window.text_input.set_text("")
    with qtbot.waitSignal(window.controller.analysis_failed, timeout=WAIT_MS):
        window.analyze()  # nothing to analyze
    bar = window.result_view.message_bar
    assert bar.text.startswith("Nothing to analyze") and bar.kind == "error"
    assert window.status.activity.text() == "Analysis failed"

    with qtbot.waitSignal(window.result_shown, timeout=WAIT_MS):
        window.history_panel.select_row(0)  # browsing history: the failure is over
    assert not bar.isVisible() and window.status.activity.text() == ""
    assert window.result_view.result.id == first.id

    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    with qtbot.waitSignal(window.drop_zone.image_rejected, timeout=WAIT_MS):
        drop_file(window.drop_zone, notes)
    assert bar.kind == "error" and bar.isVisible()
    window.text_input.set_text("A new text to read")  # the user moved on
    assert not bar.isVisible()
    with qtbot.waitSignal(window.drop_zone.image_rejected, timeout=WAIT_MS):
        drop_file(window.drop_zone, notes)
    drop_and_wait(qtbot, window.drop_zone, ASTRONAUT)  # a good image replaces the refusal
    assert not bar.isVisible()


def test_a_result_deleted_from_history_leaves_the_screen(qtbot, window):
    window.text_input.set_text("Stop lying to me, I am furious.")
    result = analyze_and_wait(qtbot, window)
    assert window.result_view.result.id == result.id
    window.history_panel.select_row(0)
    window.history_panel.delete_button.click()
    assert window.result_view.result is None
    assert window.result_view.headline.text().startswith("Drop an image")
    assert window.history_panel.model.rowCount() == 0


# ------------------------------------------------------------------ 8: the history list


def test_history_rows_show_image_and_text_without_sideways_scrolling(qtbot, window):
    long_text = "I am so happy about the launch! " * 12  # longer than the stored excerpt
    drop_and_wait(qtbot, window.drop_zone, ASTRONAUT)
    window.text_input.set_text(long_text)
    analyze_and_wait(qtbot, window)
    panel = window.history_panel
    model = panel.model
    index = model.index(0, 2)
    shown = index.data()
    assert shown.splitlines()[0].endswith("astronaut.png")
    assert "I am so happy about the launch!" in shown.splitlines()[1]
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert long_text.strip()[-40:] in tip  # the whole text on hover, not the excerpt
    qtbot.waitUntil(lambda: not panel.busy)
    for width in (200, 320, 520):  # 200: below the panel's minimum
        window.resizeDocks([window.history_dock], [width], Qt.Orientation.Horizontal)
        QTest.qWait(30)
        assert not panel.table.horizontalScrollBar().isVisible()
        header = panel.table.horizontalHeader()
        used = sum(header.sectionSize(i) for i in range(3))
        sizes = [header.sectionSize(i) for i in range(3)]
        assert used <= panel.table.viewport().width() + 1, (width, sizes)


# ------------------------------------------------------------------ 9: the first window


@pytest.mark.parametrize(
    ("screen", "panel"),
    [((1366, 768), 32), ((1280, 800), 0), ((1024, 600), 24), ((1920, 1080), 40)],
)
def test_first_window_fits_the_screen_with_its_frame(screen, panel):
    available = QRect(0, panel, screen[0], screen[1] - panel)
    rect = first_window_rect(available)
    frame = rect.adjusted(0, 0, FRAME_ALLOWANCE[0], FRAME_ALLOWANCE[1])  # top-left is the frame's
    assert available.contains(frame), (rect, available)
    assert rect.width() <= 1280 and rect.height() <= 800
    if screen == (1920, 1080):
        assert (rect.width(), rect.height()) == (1280, 800)
    if screen == (1366, 768):
        assert rect.height() >= 600  # still a comfortable window


def test_first_window_opens_inside_the_available_screen(qtbot, window):
    available = window.screen().availableGeometry()
    assert available.contains(window.frameGeometry())
    assert window.width() <= available.width() and window.height() <= available.height()


# ------------------------------------------------------------------ 14: a big history opens aside


def test_history_opens_off_the_gui_thread_and_keeps_an_early_result(
    qtbot, gui_guard, gui_settings, monkeypatch
):
    import threading

    from vsa_desktop.gui import history_opener

    gate, threads = threading.Event(), []
    real = history_opener.open_history

    def slow_open(settings):
        threads.append(threading.get_ident())
        assert gate.wait(60), "never released"
        return real(settings)

    monkeypatch.setattr(history_opener, "open_history", slow_open)
    win = MainWindow(gui_settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: bool(threads))
    assert win.history is None and threads[0] != threading.get_ident()
    win.text_input.set_text("An analysis before the history is open")
    shown: list[AnalysisResult] = []
    win.result_shown.connect(shown.append)
    win.analyze()
    # the result does not wait for the history (a big one takes seconds to open)
    qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
    assert win.history is None
    gate.set()
    history_ready(qtbot, win)
    assert win.history is not None and win.history.count() == 1
    assert win.history_panel.model.entry(0).id == shown[0].id
    win.close()


def test_no_step_reads_files_or_the_history_on_the_gui_thread(qtbot, window, tmp_path, monkeypatch):
    """Decode, history pages, history writes and exports each run on a worker thread."""
    import threading

    from vsa_desktop.core import export
    from vsa_desktop.gui import history_model, image_intake

    gui = threading.get_ident()
    seen: dict[str, list[int]] = {"decode": [], "page": [], "export": []}

    def spy(name, real):
        def call(*args, **kwargs):
            seen[name].append(threading.get_ident())
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(image_intake, "load_image", spy("decode", image_intake.load_image))
    monkeypatch.setattr(history_model, "read_page", spy("page", history_model.read_page))
    monkeypatch.setattr(export, "export_results", spy("export", export.export_results))
    searches: list[int] = []
    store = window.history
    monkeypatch.setattr(store, "search", spy("page", store.search))
    monkeypatch.setattr(store, "count_matching", lambda *a, **k: searches.append(1) or 0)

    drop_and_wait(qtbot, window.drop_zone, ASTRONAUT)
    window.text_input.set_text("A day at the beach")
    result = analyze_and_wait(qtbot, window)
    assert window.history_panel.model.entry(0).id == result.id  # the new row, no reload
    assert searches == [] and seen["page"] == []
    window.history_panel.search.setText("beach")
    qtbot.waitUntil(lambda: not window.history_panel.busy)
    exports = window.exports
    with wait_for(qtbot, exports.export_finished, fails=(exports.export_failed,)):
        exports.export(tmp_path / "r.pdf", [result])
    assert seen["decode"] and seen["page"] and seen["export"]
    assert gui not in seen["decode"] + seen["page"] + seen["export"]
