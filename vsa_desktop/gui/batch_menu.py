"""File ▸ Batch… and File ▸ Open batch results…: the corpus tools in the main window.

Kept apart from ``window_actions`` so the window gains them with one line: the actions are
made here, put into the File menu after the export actions, and open ``BatchDialog`` (a
table or a folder, local engine, progress, cancel, resume) and ``ReportView`` (the batch
report, exports to HTML and PDF). Both are non-modal: the window stays usable meanwhile.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from vsa_desktop.gui.batch_dialog import BatchDialog
from vsa_desktop.gui.dialogs import dialogs_enabled
from vsa_desktop.gui.report_view import ReportView

if TYPE_CHECKING:
    from vsa_desktop.core.batch import BatchSummary
    from vsa_desktop.gui.main_window import MainWindow

log = logging.getLogger(__name__)

RESULTS_FILTER = "Batch results (*.jsonl *.ndjson);;All files (*)"


class BatchMenu(QObject):
    """The two batch actions of the main window and the windows they open.

    Attributes:
        run: File ▸ Batch… (Ctrl+B).
        open_results: File ▸ Open batch results… (Ctrl+Shift+B).
        dialog: the batch dialog, once opened (one per window; reopening raises it).
        reports: the report windows still open.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.run = self._action("Batch…", "Ctrl+B", "Analyse a table or a folder of images")
        self.open_results = self._action(
            "Open batch results…", "Ctrl+Shift+B", "Show a batch's results as a report"
        )
        self.run.triggered.connect(lambda: self.open_batch())
        self.open_results.triggered.connect(lambda: self.open_report())
        self.dialog: BatchDialog | None = None
        self.reports: list[ReportView] = []
        self._add_to_file_menu()

    def _action(self, text: str, shortcut: str, tip: str) -> QAction:
        action = QAction(text, self._window)
        action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip)
        self._window.addAction(action)
        return action

    def _add_to_file_menu(self) -> None:
        """After the export actions (before Settings…), set off by separators."""
        anchor = self._window.actions.settings
        for menu in self._window.menuBar().findChildren(QMenu):
            if anchor in menu.actions():
                menu.insertSeparator(anchor)
                menu.insertActions(anchor, [self.run, self.open_results])
                menu.insertSeparator(anchor)
                return
        log.warning("no File menu to add the batch actions to")

    def open_batch(self, source: Path | None = None) -> BatchDialog:
        """Show the batch dialog (``source`` filled in when given); returns it."""
        if self.dialog is None:
            w = self._window
            # A copy: the run keeps the settings it started with whatever the window changes.
            dialog = BatchDialog(copy.deepcopy(w.settings), w.history, w)
            dialog.results_opened.connect(self.open_report)
            dialog.run_finished.connect(self._on_dialog_run_finished)
            self.dialog = dialog
        if source is not None:
            self.dialog.set_paths(source)
        if self.dialog.isVisible():  # already open (behind the window): bring it forward
            self.dialog.raise_()
        self.dialog.show()
        self.dialog.activateWindow()
        return self.dialog

    def _on_dialog_run_finished(self, summary: BatchSummary) -> None:
        w = self._window
        if w.history is not None and summary.done:
            w.history_panel.refresh()  # the batch's results are in the history too

    def open_report(self, path: Path | None = None) -> ReportView | None:
        """Open ``path`` (asks for a results file when None) in a report window."""
        if path is None:
            if not dialogs_enabled():
                return None
            chosen, _ = QFileDialog.getOpenFileName(
                self._window, "Open batch results", "", RESULTS_FILTER
            )
            if not chosen:
                return None
            path = Path(chosen)
        history = self._window.history
        view = ReportView(path, history_path=history.path if history else None, parent=self._window)
        view.finished.connect(lambda _=0, v=view: self._forget(v))
        self.reports.append(view)
        view.show()
        return view

    def _forget(self, view: ReportView) -> None:
        if view in self.reports:
            self.reports.remove(view)
        view.deleteLater()

    def shutdown(self) -> None:
        """Stop a running batch and the reports' workers (before the history closes)."""
        for view in list(self.reports):
            view.done(0)
        if self.dialog is not None:
            self.dialog.done(0)
