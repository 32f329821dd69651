"""Exporting from the window: ask where (the export dialog), then write in the background."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.history import HistoryStore
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.gui.export_dialog import ExportDialog, default_base_name
from vsa_desktop.gui.workers import TaskRunner, TaskSignals

if TYPE_CHECKING:
    from vsa_desktop.gui.main_window import MainWindow

log = logging.getLogger(__name__)
UNEXPECTED = "The export failed unexpectedly; the details are in the log."


class ExportFlow(QObject):
    """Runs ``core.export.export_results`` on a worker thread, so a PDF never freezes the window.

    Signals:
        export_finished(str): the file written.
        export_failed(str): one sentence saying why nothing was written.
    """

    export_finished = Signal(str)
    export_failed = Signal(str)

    def __init__(self, window: MainWindow, runner: TaskRunner) -> None:
        super().__init__(window)
        self._window = window
        self._runner = runner
        self._pending: list[AnalysisResult] = []

    def export_current(self) -> ExportDialog | None:
        """Ask where to export the result shown; returns the (open, non-modal) dialog."""
        result = self._window.result_view.result
        if result is None:
            self._window.result_view.message_bar.show_message(
                "There is no result to export yet.", "info"
            )
            return None
        return self.ask([result])

    def export_selected_history(self) -> ExportDialog | None:
        """Ask where to export the selected history rows."""
        results = self._window.history_panel.selected_results()
        return self.ask(results) if results else None

    def ask(self, results: list[AnalysisResult]) -> ExportDialog:
        """Open the (non-modal) export dialog for ``results``; the export starts on accept."""
        self._pending = results
        folder = self._window.settings.export_dir or str(Path.home())
        name = default_base_name(len(results), results[0].created_at)
        dialog = ExportDialog(self._window, folder, name, len(results))
        dialog.fileSelected.connect(self._on_dialog_file_selected)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _on_dialog_file_selected(self, path: str) -> None:
        self.export(Path(path), self._pending)

    def export(self, path: Path, results: list[AnalysisResult]) -> None:
        """Write ``results`` to ``path`` (format from the suffix) on a worker thread."""
        results = list(results)
        store = self._window.history
        self._window.status.show_activity(f"Exporting {path.name}…")

        def call(token: object, progress: object) -> str:
            from vsa_desktop.core.export import export_results

            thumbnails = _thumbnails(store, results) if path.suffix.lower() != ".csv" else {}
            return str(export_results(results, path, overwrite=True, thumbnails=thumbnails))

        self._runner.run(call, self._connect)

    def _connect(self, signals: TaskSignals) -> None:
        signals.returned.connect(self._on_task_returned)
        signals.failed.connect(self._on_task_failed)

    def _on_task_returned(self, task_id: int, written: str) -> None:
        window = self._window
        window.settings.export_dir = str(Path(written).parent)
        window.save_settings()
        window.status.show_activity(f"Exported to {written}")
        self.export_finished.emit(written)

    def _on_task_failed(self, task_id: int, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, VsaError) else UNEXPECTED
        self._window.status.show_activity("Export failed")
        self._window.result_view.message_bar.show_message(message, "error")
        self.export_failed.emit(message)


def _thumbnails(store: HistoryStore | None, results: list[AnalysisResult]) -> dict[str, bytes]:
    """Worker: the history's thumbnails of ``results``, for the export captions."""
    found: dict[str, bytes] = {}
    if store is None:
        return found
    for result in results:
        try:
            data = store.thumbnail(result.id)
        except VsaError:
            continue
        if data:
            found[result.id] = data
    return found
