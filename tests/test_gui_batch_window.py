"""File ▸ Batch… and File ▸ Open batch results… through the real main window (issue #15).

A real batch with the built-in lite text model: run from the window's dialog, cancel,
resume, open the results as a report (numbers read back against the JSONL), export HTML.
"""

# ruff: noqa: F811  (pytest fixtures imported from tests.gui_support are redefined as args)

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from tests.gui_support import (  # noqa: F401
    GUI_MARKS,
    WAIT_MS,
    gui_guard,
    history_ready,
    shown_window,
    wait_for,
)
from tests.test_gui_batch import keys, posts
from vsa_desktop.core.settings import Settings
from vsa_desktop.gui import batch_menu
from vsa_desktop.gui.batch_dialog import BatchDialog, default_output
from vsa_desktop.gui.main_window import MainWindow
from vsa_desktop.gui.report_view import ChartImage, ReportView

pytestmark = GUI_MARKS
ROWS = 300


@pytest.fixture
def window(qtbot, gui_guard: None) -> Iterator[MainWindow]:
    settings = Settings(
        text_model="builtin:lite", vision_backend="local", first_run_notice_dismissed=True
    )
    win = shown_window(qtbot, settings, active=True)
    yield win
    win.close()


def fused_counts(path: Path) -> Counter[str]:
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return Counter(d["fusion"]["label"] for d in docs if d["batch"]["status"] != "failed")


def run_cancel_resume(qtbot, dialog: BatchDialog, out: Path) -> None:
    """Start, cancel once some rows are written, resume to the end."""
    with wait_for(qtbot, dialog.run_finished) as stopped:
        dialog.start_button.click()
        qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=WAIT_MS)
        dialog.cancel_button.click()
    first = stopped.args[0]
    assert first.cancelled and 0 < first.done < ROWS
    assert dialog.start_button.text() == "Resume" and "Resume" in dialog.status.text()
    with wait_for(qtbot, dialog.run_finished) as finished:
        dialog.start_button.click()
    second = finished.args[0]
    assert not second.cancelled and second.skipped == first.done
    assert first.done + second.done == ROWS
    assert len(keys(out)) == ROWS == len(set(keys(out)))  # resumed: no row twice


def test_the_file_menu_has_the_batch_actions(qtbot, window: MainWindow) -> None:
    file_menu = window.menuBar().actions()[0].menu()
    texts = [a.text() for a in file_menu.actions()]
    assert "Batch…" in texts and "Open batch results…" in texts
    assert texts.index("Batch…") < texts.index("Settings…")
    assert window.batch.run.shortcut().toString() == "Ctrl+B"
    assert window.batch.open_results.shortcut().toString() == "Ctrl+Shift+B"


def test_batch_from_the_window_cancels_resumes_and_opens_its_report(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    source = posts(tmp_path, ROWS)
    before = window.history.count() if window.history else 0
    QTest.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    dialog = window.batch.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.set_paths(source)
    out = default_output(source)
    run_cancel_resume(qtbot, dialog, out)
    assert window.history is not None and window.history.count() == before + ROWS
    qtbot.waitUntil(lambda: window.history_panel.model.total == before + ROWS, timeout=WAIT_MS)

    dialog.open_button.click()  # the dialog's "Open results…" opens the window's report
    view = window.batch.reports[-1]
    qtbot.waitUntil(lambda: view.data is not None, timeout=WAIT_MS)
    assert view.data is not None and view.data.results == ROWS
    assert dict(view.data.fused) == dict(fused_counts(out))
    assert f"{ROWS} readings" in view.summary.text()
    charts = [view.tabs.widget(i) for i in range(view.tabs.count())]
    assert [view.tabs.tabText(i) for i in range(3)] == ["Fused labels", "Per channel", "Agreement"]
    assert all(not c.image.isNull() for c in charts if isinstance(c, ChartImage))

    with wait_for(qtbot, view.exported, fails=(view.failed,)) as written:
        view.export_to(tmp_path / "report.html")
    page = Path(written.args[0]).read_text(encoding="utf-8")
    for label, n in fused_counts(out).items():
        row = re.search(rf'<tr data-label="{label}"><th>{label}</th><td class="n">([\d,]+)', page)
        assert row is not None and int(row.group(1).replace(",", "")) == n
    assert "Saved report.html" in view.summary.text()


def test_open_batch_results_asks_for_the_file_and_says_why_it_cannot_be_read(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "notes.jsonl"
    bad.write_text('{"not": "a batch row"}\n', encoding="utf-8")
    asked: list[str] = []

    def pick(*args: object, **kwargs: object) -> tuple[str, str]:
        asked.append("open")
        return str(bad), ""

    monkeypatch.setattr(batch_menu, "dialogs_enabled", lambda: True)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", pick)
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(window, Qt.Key.Key_B, mods)
    assert asked == ["open"]
    view: ReportView = window.batch.reports[-1]
    qtbot.waitUntil(lambda: "holds no vsa batch rows" in view.summary.text(), timeout=WAIT_MS)
    assert not view.html_button.isEnabled() and view.tabs.count() == 0
    view.reject()
    qtbot.waitUntil(lambda: not window.batch.reports, timeout=WAIT_MS)


def test_closing_the_window_stops_a_running_batch(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    source = posts(tmp_path, 3000)
    dialog = window.batch.open_batch(source)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=WAIT_MS)
    window.close()  # must not wait for the remaining rows
    assert dialog.runner.active_threads() == 0  # stopped, not left running
    written = keys(default_output(source))
    assert 0 < len(written) < 3000 and len(written) == len(set(written))
