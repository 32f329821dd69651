"""The main window end to end: drop, type, analyze, chart, history, export, cancel, offline."""

# ruff: noqa: F811  (pytest fixtures imported from tests.gui_support are redefined as args)

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from tests.gui_support import (  # noqa: F401
    ASTRONAUT,
    GUI_MARKS,
    gui_guard,
    gui_settings,
    history_ready,
    shown_window,
    wait_for,
)
from vsa_desktop.core import pipeline, verdict
from vsa_desktop.core.history import HistoryStore
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.settings import Settings
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.gui.main_window import MainWindow
from vsa_desktop.gui.window_geometry import ui_state

pytestmark = GUI_MARKS
WAIT_MS = 120_000


@pytest.fixture
def window(qtbot, gui_guard: None, gui_settings: Settings) -> Iterator[MainWindow]:
    win = shown_window(qtbot, gui_settings)
    yield win
    win.close()


def drop_mime(target, mime: QMimeData) -> bool:
    """Drag ``mime`` onto ``target`` and drop it: a real QDragEnterEvent, then a QDropEvent."""
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(QPoint(10, 10), *args)  # QPoint: 6.11 has no QPointF overload
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    return QApplication.sendEvent(target, QDropEvent(QPointF(10, 10), *args))


def drop_file(target, path: Path) -> bool:
    """Drop a file URL, as a file manager does (the image is read in the background)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return drop_mime(target, mime)


def drop_and_wait(qtbot, zone, path: Path) -> None:
    """Drop ``path`` and wait until the drop zone has read it (or refused it)."""
    with wait_for(qtbot, zone.image_changed, fails=(zone.image_rejected,)):
        assert drop_file(zone, path)


def analyze_and_wait(qtbot, win: MainWindow) -> AnalysisResult:
    with qtbot.waitSignal(win.result_shown, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(win.analyze_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


class Gate:
    """Holds the text stage of chosen analyses until released (to cancel mid-analysis)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, hold_calls: int = 1) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self._hold = hold_calls
        real = pipeline.load_text_analyzer

        def gated(model: str, runtime: str):
            self.calls += 1
            if self.calls <= self._hold:
                self.entered.set()
                assert self.release.wait(60), "gate never released"
            return real(model, runtime)

        monkeypatch.setattr(pipeline, "load_text_analyzer", gated)


def export_and_wait(qtbot, win: MainWindow, dialog, target: Path) -> None:
    """Choose ``target`` in the export dialog and wait for the background export."""
    exports = win.exports
    with wait_for(qtbot, exports.export_finished, fails=(exports.export_failed,)):
        dialog.selectFile(str(target))
        dialog.accept()


def test_drop_type_analyze_shows_chart_history_and_exports(qtbot, window, tmp_path):
    drop_and_wait(qtbot, window.drop_zone, ASTRONAUT)
    assert window.drop_zone.image_name == "astronaut.png"
    qtbot.keyClicks(window.text_input.editor, "What a wonderful, happy day with friends.")
    assert window.text_input.counter.text().startswith("41 ")

    result = analyze_and_wait(qtbot, window)

    assert result.mode == "multimodal"
    assert result.text_input == "What a wonderful, happy day with friends."
    heights = window.result_view.chart.bar_heights()
    expected = {
        "text": result.text.shown_scores,
        "vision": result.vision.shown_scores,
        "fused": result.fusion.shown_scores,
    }
    assert set(heights) == set(expected)
    for channel, scores in expected.items():
        assert heights[channel] == pytest.approx([scores[e] for e in EMOTIONS], abs=1e-12)
    assert window.drop_zone.faces == result.vision.faces and result.vision.faces
    # one number everywhere: the headline, the fused bar of the label and the JSON
    fused_bar = heights["fused"][EMOTIONS.index(result.fusion.label)]
    assert fused_bar == result.fusion.confidence
    assert verdict.reading(result.fusion) in window.result_view.headline.text()
    assert result.vision.calibrated and not result.text.calibrated  # the tiny test model is not
    assert "raw scores, not calibrated" in window.result_view.details.text()
    assert "not inner feelings" in window.result_view.notice.text()

    assert window.history_panel.model.rowCount() == 1
    assert window.history_panel.model.entry(0).id == result.id
    qtbot.waitUntil(lambda: window.history_panel.model.entry(0).has_thumbnail)  # read aside
    assert window.history_panel.model.index(0, 0).data(Qt.ItemDataRole.DecorationRole) is not None

    for suffix in ("json", "csv", "png", "svg", "pdf"):
        dialog = window.exports.export_current()
        target = tmp_path / f"out.{suffix}"
        export_and_wait(qtbot, window, dialog, target)
        assert target.is_file() and target.stat().st_size > 0, suffix
    assert json.loads((tmp_path / "out.json").read_text("utf-8"))["id"] == result.id
    saved = json.loads(_settings_file().read_text("utf-8"))
    assert saved["export_dir"] == str(tmp_path)


def _settings_file() -> Path:
    from vsa_desktop.core.settings import settings_path

    return settings_path()


def test_history_row_shows_result_again_and_exports_selection(qtbot, window, tmp_path):
    window.text_input.set_text("I miss her so much it hurts.")
    first = analyze_and_wait(qtbot, window)
    window.text_input.set_text("Stop lying to me, I am furious.")
    second = analyze_and_wait(qtbot, window)
    model = window.history_panel.model
    assert [model.entry(r).id for r in range(model.rowCount())] == [second.id, first.id]

    with qtbot.waitSignal(window.result_shown) as blocker:
        window.history_panel.select_row(1)
    assert blocker.args[0].id == first.id
    assert window.result_view.result.id == first.id
    assert "From history" in window.result_view.headline.text()
    assert first.text_input is not None
    assert first.text_input[:20] in window.result_view.details.text()  # what it read

    window.history_panel.table.selectAll()
    dialog = window.exports.export_selected_history()
    export_and_wait(qtbot, window, dialog, tmp_path / "both.csv")
    lines = (tmp_path / "both.csv").read_text("utf-8-sig").splitlines()
    assert len(lines) == 3


def test_non_image_is_refused_inline(qtbot, window, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    with qtbot.waitSignal(window.drop_zone.image_rejected, timeout=WAIT_MS):
        drop_file(window.drop_zone, notes)
    assert window.drop_zone.source is None
    assert "not an image" in window.drop_zone.message
    assert window.result_view.message_bar.text == window.drop_zone.message


def test_expected_error_appears_in_the_message_bar(qtbot, window):
    with qtbot.waitSignal(window.controller.analysis_failed, timeout=WAIT_MS):
        window.analyze()  # nothing to analyze: the core says so
    assert window.result_view.message_bar.text.startswith("Nothing to analyze")
    assert window.result_view.message_bar.kind == "error"


def test_cancel_mid_analysis(qtbot, window, monkeypatch):
    gate = Gate(monkeypatch)
    window.text_input.set_text("I am terrified of what comes next.")
    shown: list[object] = []
    window.result_shown.connect(shown.append)
    window.analyze()
    assert gate.entered.wait(30)
    qtbot.waitUntil(window.cancel_button.isEnabled)
    with qtbot.waitSignal(window.controller.analysis_cancelled, timeout=WAIT_MS):
        window.actions.cancel.trigger()
        gate.release.set()
    qtbot.waitUntil(lambda: not window.controller.busy)
    assert shown == []
    assert window.result_view.result is None
    assert "cancelled" in window.result_view.message_bar.text
    assert window.history.count() == 0
    assert not window.cancel_button.isEnabled()


def test_new_request_supersedes_the_old_one(qtbot, window, monkeypatch):
    gate = Gate(monkeypatch, hold_calls=1)
    shown: list[AnalysisResult] = []
    window.result_shown.connect(shown.append)
    window.text_input.set_text("first request, held at the text stage")
    old_id = window.analyze()
    assert gate.entered.wait(30)
    window.text_input.set_text("second request, runs straight through")
    with qtbot.waitSignal(window.result_shown, timeout=WAIT_MS):
        new_id = window.analyze()
    gate.release.set()
    qtbot.waitUntil(
        lambda: not window.tasks.busy and not window.controller._runner.busy, timeout=WAIT_MS
    )
    qtbot.wait(50)  # let any late signal of the old request arrive
    assert new_id > old_id
    assert [r.text_input for r in shown] == ["second request, runs straight through"]
    assert window.result_view.result.text_input.startswith("second")
    assert [e.excerpt for e in window.history.list()] == ["second request, runs straight through"]


class ConnectionGuard:
    """Records every outgoing connection attempt made through Python sockets."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[object] = []
        real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

        def connect(sock, address):
            self.attempts.append(address)
            return real_connect(sock, address)

        def connect_ex(sock, address):
            self.attempts.append(address)
            return real_connect_ex(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture
def listening_server() -> Iterator[tuple[str, list[object]]]:
    """A local TCP server standing in for the Groq API; it records whoever connects."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except OSError:
                continue
            accepted.append(addr)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    stop.set()
    thread.join(5)
    server.close()


@pytest.mark.parametrize("vision", ["auto", "groq"])
def test_offline_mode_never_opens_a_connection(
    qtbot, window, monkeypatch, listening_server, vision
):
    url, accepted = listening_server
    monkeypatch.setenv("GROQ_API_KEY", "gsk_test_key_not_real")
    monkeypatch.setenv("GROQ_BASE_URL", url)
    window.settings.vision_backend = vision
    window.settings.groq_base_url = url
    window.actions.offline.setChecked(True)
    assert "Offline" in window.status.network.text()
    guard = ConnectionGuard(monkeypatch)
    drop_and_wait(qtbot, window.drop_zone, ASTRONAUT)
    window.text_input.set_text("I can't believe we won the game tonight!")

    result = analyze_and_wait(qtbot, window)

    assert guard.attempts == [] and accepted == []
    if vision == "auto":  # offline auto reads the face locally
        assert result.vision is not None and result.vision.backend == "local"
    else:  # offline groq: the image is not used, and the view says so
        assert result.vision is None and result.mode == "text-only"
        assert any("image" in w.lower() for w in result.warnings)
        notes = window.result_view.warnings.text()
        assert "image channel was not used" in notes and "Offline mode" in notes
        assert window.result_view.warnings.isVisible()


def test_warmup_runs_in_background_and_fills_the_status_bar(qtbot, window, tiny_model_dir):
    with qtbot.waitSignal(window.warmup_finished, timeout=WAIT_MS) as blocker:
        window.start_warmup()
    active = blocker.args[0]
    assert active.text_model and active.vision == "local"
    assert active.text_model in window.status.models.text()
    assert "local" in window.status.models.text()


def test_window_state_is_kept_apart_from_preferences(qtbot, window, vsa_home):
    window.resize(760, 560)  # inside the offscreen screen (800x600), so nothing is clamped
    window.splitter.setSizes([250, 300])
    sizes = window.splitter.sizes()
    window.close()
    state = ui_state()
    assert Path(state.fileName()) == vsa_home / "config" / "ui-state.ini"
    assert {"geometry", "windowState", "splitter"} <= set(state.allKeys())
    settings_file = vsa_home / "config" / "settings.json"
    assert not settings_file.exists() or "geometry" not in settings_file.read_text("utf-8")
    again = MainWindow(Settings(first_run_notice_dismissed=True))
    qtbot.addWidget(again)
    again.show()
    assert again.size() == window.size()
    assert again.splitter.sizes() == sizes
    again.close()


def test_history_store_used_by_window_is_the_configured_one(
    qtbot, gui_guard, gui_settings, tmp_path
):
    gui_settings.history_path = str(tmp_path / "elsewhere.sqlite3")
    win = MainWindow(gui_settings)
    qtbot.addWidget(win)
    win.text_input.set_text("Nothing much happened today.")
    analyze_and_wait(qtbot, win)
    win.close()
    with HistoryStore(tmp_path / "elsewhere.sqlite3") as store:
        assert store.count() == 1


def test_closing_mid_analysis_cancels_and_waits_for_the_worker(qtbot, window, monkeypatch):
    gate = Gate(monkeypatch)
    window.text_input.set_text("I am terrified of what comes next.")
    window.analyze()
    assert gate.entered.wait(30)
    releaser = threading.Timer(0.3, gate.release.set)  # the stage ends while close() waits
    releaser.start()
    window.close()
    releaser.join()
    assert window.controller._runner._pool.activeThreadCount() == 0
    assert window.result_view.result is None


def test_help_explains_the_percentages_and_points_at_the_report(qtbot, window):
    dialog = window.open_about()
    qtbot.addWidget(dialog)
    text = dialog.label.text()
    assert "calibrated probability" in text and "validation" in text
    assert "docs/validation.md" in text or "validation.md" in text
    assert "Consistent" in text and "Divergent" in text  # the verdicts' measured figures
    dialog.close()
