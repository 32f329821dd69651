"""The main window: composes the widgets and wires them to the workers (no analysis logic).

Its seams live beside it: ``window_actions`` (actions, toolbar, menus), ``result_area``
(results, errors and stale messages on screen), ``model_wiring`` (warm-up, model download,
ONNX conversion), ``export_flow`` (export dialog and worker), ``window_geometry`` (size,
placement and layout state).
"""

from __future__ import annotations

import copy
import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from vsa_desktop.core.history import HistoryStore
from vsa_desktop.core.pipeline import AnalysisRequest, settings_request
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.settings import Settings, load_settings, save_settings
from vsa_desktop.gui.about_dialog import AboutDialog
from vsa_desktop.gui.batch_menu import BatchMenu
from vsa_desktop.gui.explanation_flow import ExplanationFlow
from vsa_desktop.gui.export_flow import ExportFlow
from vsa_desktop.gui.first_run import FirstRunNotice
from vsa_desktop.gui.history_opener import HistoryOpener
from vsa_desktop.gui.history_panel import HistoryPanel
from vsa_desktop.gui.input_column import InputColumn
from vsa_desktop.gui.model_wiring import ModelWiring
from vsa_desktop.gui.result_area import ResultArea
from vsa_desktop.gui.result_view import ResultView
from vsa_desktop.gui.settings_dialog import SettingsDialog
from vsa_desktop.gui.status_bar import StatusBar
from vsa_desktop.gui.window_actions import WindowActions
from vsa_desktop.gui.window_geometry import restore, save
from vsa_desktop.gui.workers import AnalysisController, HistoryTarget, TaskRunner

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Image + text in, result out; history on the side, models warmed up in the background.

    Signals:
        result_shown(object): an AnalysisResult is on screen, chart included (new or from
            history).
        warmup_finished(object): the background warm-up ended (ActiveModels, or the error).
    """

    result_shown = Signal(object)
    warmup_finished = Signal(object)

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("VSA Desktop")
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else load_settings()
        self.history: HistoryStore | None = None
        self.controller = AnalysisController(self)
        self.tasks = TaskRunner(self)
        self._analyze_when_loaded = False
        self._shut_down = False
        self._build()
        self.results = ResultArea(self.result_view, self.drop_zone, self.status)
        self.actions = WindowActions(self, self.history_dock, self.settings.effective_offline())
        self.models = ModelWiring(self)
        self.exports = ExportFlow(self, self.tasks)
        self.opener = HistoryOpener(self.tasks, self)
        self.explainer = ExplanationFlow(self.result_view, self.settings, self)
        self.explainer.add_menu(self.actions.view_menu)
        self.batch = BatchMenu(self)  # File ▸ Batch…, Open batch results…
        self._wire()
        restore(self, self.splitter, self.history_dock)
        self._on_offline_changed()
        self.history_box = self.opener.open(self.settings)  # a big file takes seconds
        self.text_input.editor.setFocus()  # type right away; the drop zone is one Tab back

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.inputs = InputColumn(self)
        self.drop_zone, self.text_input = self.inputs.drop_zone, self.inputs.text_input
        self.analyze_button, self.cancel_button = (
            self.inputs.analyze_button,
            self.inputs.cancel_button,
        )
        self.result_view = ResultView(self)
        self.history_panel = HistoryPanel(None, self)
        self.first_run = FirstRunNotice()
        self.first_run.setVisible(not self.settings.first_run_notice_dismissed)
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.inputs)
        self.splitter.addWidget(self.result_view)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.first_run)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.history_dock = QDockWidget("History", self)
        self.history_dock.setObjectName("historyDock")
        self.history_dock.setWidget(self.history_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_dock)
        self.setTabOrder(self.cancel_button, self.history_panel.search)

    def _wire(self) -> None:
        a = self.actions
        self.analyze_button.clicked.connect(self.analyze)
        a.analyze.triggered.connect(self.analyze)
        self.cancel_button.clicked.connect(self.cancel)
        a.cancel.triggered.connect(self.cancel)
        a.open.triggered.connect(self.drop_zone.browse)
        a.export.triggered.connect(self.exports.export_current)
        a.export_history.triggered.connect(self.exports.export_selected_history)
        a.settings.triggered.connect(self.open_settings)
        a.quit.triggered.connect(self.close)
        a.about.triggered.connect(self.open_about)
        a.download_model.triggered.connect(self.models.request_download)
        a.offline.toggled.connect(self._on_offline_action_toggled)
        self.result_view.download_requested.connect(self.models.request_download)
        self.result_view.result_drawn.connect(self.result_shown)
        self.status.download_requested.connect(self.models.request_download)
        self.models.warmup_finished.connect(self.warmup_finished)
        self.text_input.image_pasted.connect(self.drop_zone.load_mime)
        self.text_input.text_changed.connect(self._on_text_input_changed)
        self.drop_zone.image_changed.connect(self._on_drop_zone_image_changed)
        self.drop_zone.image_rejected.connect(self._on_drop_zone_image_rejected)
        self.controller.analysis_started.connect(self._on_controller_started)
        self.controller.analysis_progressed.connect(self._on_controller_progressed)
        self.controller.analysis_finished.connect(self._on_controller_finished)
        self.controller.analysis_failed.connect(self._on_controller_failed)
        self.controller.analysis_cancelled.connect(self._on_controller_cancelled)
        self.controller.busy_changed.connect(self._on_controller_busy_changed)
        self.history_panel.entry_selected.connect(self._on_history_entry_selected)
        self.history_panel.entries_deleted.connect(self._on_history_entries_deleted)
        self.history_panel.selection_changed.connect(self._on_history_selection_changed)
        self.history_panel.history_failed.connect(self._on_history_failed)
        self.first_run.dismissed.connect(self._on_first_run_dismissed)
        self.opener.history_opened.connect(self._on_opener_history_opened)
        self.explainer.mode_changed.connect(self._on_explainer_mode_changed)

    # ------------------------------------------------------------------ parts elsewhere

    def start_warmup(self) -> None:
        """Load the models in the background so the first analysis is fast."""
        self.models.start_warmup()

    # ------------------------------------------------------------------ analysis

    def offline(self) -> bool:
        """True when the offline switch is on (or ``VSA_OFFLINE=1``)."""
        return self.actions.offline.isChecked() or self.settings.effective_offline()

    def build_request(self) -> AnalysisRequest:
        """The request for what is in the drop zone and the text box, with the settings."""
        text = self.text_input.text()
        return settings_request(
            copy.deepcopy(self.settings),  # the worker's copy: later edits do not reach it
            offline=self.offline(),
            text=text if text.strip() else None,
            image=self.drop_zone.loaded,
            image_name=self.drop_zone.image_name,
        )

    def analyze(self) -> int:
        """Start an analysis (a running one is superseded); return its request id.

        While a dropped image is still being read, the analysis starts when it is ready
        (0 is returned then).
        """
        self.result_view.message_bar.clear()
        if self.drop_zone.loading:
            self._analyze_when_loaded = True
            self.status.show_progress("image", 0.0)
            return 0
        self._analyze_when_loaded = False
        self.explainer.cancel()  # the next result needs the worker, not the last one's words
        loaded = self.drop_zone.loaded
        target = None
        if self.history is not None or not self.history_box.ready:
            target = HistoryTarget(
                self.history_box, loaded.pixels if loaded else None, self.settings.keep_thumbnails
            )
        return self.controller.submit(self.build_request(), target)

    def cancel(self) -> None:
        """Cancel the running analysis."""
        if self._analyze_when_loaded:
            self._analyze_when_loaded = False
            self.status.end_progress("Cancelled")
        self.controller.cancel()

    def _on_controller_started(self, request_id: int) -> None:
        self.status.show_progress("image", 0.0)

    def _on_controller_progressed(self, request_id: int, stage: str, fraction: float) -> None:
        self.status.show_progress(stage, fraction)

    def _on_controller_finished(
        self, request_id: int, result: AnalysisResult, history_problem: str
    ) -> None:
        self.show_result(result)
        total = result.timings_ms.get("total", 0.0)
        self.status.end_progress(f"Analysed in {total / 1000:.1f} s")
        if history_problem:
            self.result_view.message_bar.show_message(history_problem, "warning")
        elif self.history is not None:
            self.history_panel.add_result(result)  # one new row; the list is not reloaded

    def _on_controller_failed(self, request_id: int, exc: BaseException) -> None:
        self.results.analysis_failed(exc, self)

    def _on_controller_cancelled(self, request_id: int) -> None:
        self.status.end_progress("Cancelled")
        self.result_view.message_bar.show_message("The analysis was cancelled.", "info")

    def _on_controller_busy_changed(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.actions.cancel.setEnabled(busy)

    def show_result(self, result: AnalysisResult, origin: str = "") -> None:
        """Display ``result``; ``result_shown`` follows once its chart is on screen."""
        self.results.show(result, origin, offline=self.offline())
        self.explainer.show(result)

    def show_error(self, exc: BaseException) -> None:
        """An expected error inline (its one sentence); anything else to the crash handler."""
        self.results.show_error(exc, self)

    # ------------------------------------------------------------------ other slots

    def _on_offline_action_toggled(self, checked: bool) -> None:
        self.settings.offline = checked
        self.save_settings()
        self._on_offline_changed()

    def _on_offline_changed(self) -> None:
        self.models.show_models()
        self.result_view.set_offline(self.offline())

    def _on_text_input_changed(self, text: str) -> None:
        if text.strip():
            self.results.clear_stale_failure()

    def _on_drop_zone_image_changed(self) -> None:
        self.results.clear_stale_failure()
        if self._analyze_when_loaded:
            self.analyze()

    def _on_drop_zone_image_rejected(self, message: str) -> None:
        if self._analyze_when_loaded:
            self._analyze_when_loaded = False
            self.status.end_progress("")
        self.result_view.message_bar.show_message(message, "error")

    def _on_opener_history_opened(self, store: HistoryStore | None, problem: str) -> None:
        self.history = store
        self.history_panel.set_store(store)
        if problem:
            self.result_view.message_bar.show_message(problem, "warning")

    def _on_history_entry_selected(self, result: AnalysisResult) -> None:
        self.show_result(result, origin="From history")

    def _on_history_entries_deleted(self, ids: list[str]) -> None:
        self.results.forget(ids)
        self.explainer.forget(ids)

    def _on_history_selection_changed(self, count: int) -> None:
        self.actions.export_history.setEnabled(count > 0)

    def _on_history_failed(self, message: str) -> None:
        self.result_view.message_bar.show_message(message, "warning")

    def _on_explainer_mode_changed(self, _mode: str) -> None:
        self.save_settings()

    def _on_first_run_dismissed(self, dont_show_again: bool) -> None:
        if dont_show_again:
            self.settings.first_run_notice_dismissed = True
            self.save_settings()

    # ------------------------------------------------------------------ settings

    def open_about(self) -> AboutDialog:
        """Help ▸ How readings are checked."""
        dialog = AboutDialog(self)
        dialog.open()
        return dialog

    def open_settings(self) -> SettingsDialog:
        """Open the settings dialog (window-modal); returns it."""
        dialog = SettingsDialog(self, self.settings, self.tasks)
        dialog.settings_saved.connect(self._on_settings_dialog_saved)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _on_settings_dialog_saved(self, settings: Settings) -> None:
        old = self.settings
        self.settings = settings
        self.explainer.set_settings(settings)
        if settings.history_path != old.history_path:
            if self.history is not None:
                self.history_panel.set_store(None)
                self.history.close()
                self.history = None
            self.history_box = self.opener.open(settings)
        self.start_warmup()

    def save_settings(self) -> None:
        """Write the preferences; a failure is one sentence in the message bar."""
        try:
            save_settings(self.settings)
        except OSError as exc:
            self.result_view.message_bar.show_message(
                f"The settings could not be saved ({exc.strerror or exc}).", "warning"
            )

    # ------------------------------------------------------------------ UI state / closing

    def shutdown(self) -> None:
        """Cancel the work, wait for the worker threads, close the history. Safe to repeat."""
        if self._shut_down:
            return
        self._shut_down = True
        self.opener.close()
        self.batch.shutdown()  # a running batch writes to the history: stop it first
        self.controller.shutdown()
        self.models.shutdown()
        self.drop_zone.shutdown()
        self.result_view.shutdown()
        self.explainer.shutdown()
        self.tasks.shutdown()
        self.history_panel.shutdown()
        for store in {self.history, self.history_box.store} - {None}:
            store.close()  # type: ignore[union-attr]

    def closeEvent(self, event: QCloseEvent) -> None:
        save(self, self.splitter)  # geometry, docks, splitter: kept apart from preferences
        self.shutdown()
        super().closeEvent(event)
