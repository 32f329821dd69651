"""The main window: composes the widgets and wires them to the workers (no analysis logic)."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.history import HistoryStore
from vsa_desktop.core.paths import config_dir
from vsa_desktop.core.pipeline import AnalysisRequest
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.settings import Settings, load_settings, save_settings
from vsa_desktop.core.text.loader import LITE_ID
from vsa_desktop.gui.about_dialog import AboutDialog
from vsa_desktop.gui.crash_dialog import report_crash
from vsa_desktop.gui.download_dialog import ModelDownloadDialog, model_to_download
from vsa_desktop.gui.drop_zone import DropZone
from vsa_desktop.gui.export_dialog import ExportDialog, default_base_name
from vsa_desktop.gui.first_run import FirstRunNotice
from vsa_desktop.gui.history_panel import HistoryPanel
from vsa_desktop.gui.model_tasks import ModelTasks
from vsa_desktop.gui.result_view import ResultView
from vsa_desktop.gui.settings_dialog import SettingsDialog
from vsa_desktop.gui.status_bar import StatusBar
from vsa_desktop.gui.text_input import TextInput
from vsa_desktop.gui.warmup import ActiveModels, vision_choice, warm_up
from vsa_desktop.gui.workers import AnalysisController, HistoryTarget, TaskRunner

log = logging.getLogger(__name__)

UI_STATE_FILE = "ui-state.ini"


def ui_state() -> QSettings:
    """Window geometry and splitter sizes, kept apart from the preferences file."""
    return QSettings(str(config_dir() / UI_STATE_FILE), QSettings.Format.IniFormat)


def open_history(settings: Settings) -> tuple[HistoryStore | None, str]:
    """Open the history file the settings name; (None, reason) when it cannot be opened."""
    try:
        store = HistoryStore(Path(settings.history_path) if settings.history_path else None)
    except VsaError as exc:
        return None, exc.message
    return store, store.recovery_message or ""


class MainWindow(QMainWindow):
    """Image + text in, result out; history on the side, models warmed up in the background.

    Signals:
        result_shown(object): an AnalysisResult was displayed (new or from history).
        warmup_finished(object): the background warm-up ended (ActiveModels, or the error).
    """

    result_shown = Signal(object)
    warmup_finished = Signal(object)

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("VSA Desktop")
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else load_settings()
        self.history, history_problem = open_history(self.settings)
        self.controller = AnalysisController(self)
        self.tasks = TaskRunner(self)
        self.model_tasks = ModelTasks(self)
        self._download_dialog: ModelDownloadDialog | None = None
        self.active: ActiveModels | None = None
        self._pending_export: list[AnalysisResult] = []
        self._shut_down = False
        self._build()
        self._build_actions()
        self._wire()
        self._restore_ui_state()
        self._on_offline_changed(self.offline_action.isChecked())
        if history_problem:
            self.result_view.message_bar.show_message(history_problem, "warning")

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.drop_zone = DropZone(self)
        self.text_input = TextInput(self)
        self.analyze_button = QPushButton("Analyze", self)
        self.analyze_button.setToolTip("Analyze the image and the text (Ctrl+Enter)")
        self.analyze_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the analysis (Esc)")
        self.cancel_button.setEnabled(False)
        self.result_view = ResultView(self)
        self.history_panel = HistoryPanel(self.history, self)
        self.first_run = FirstRunNotice()
        self.first_run.setVisible(not self.settings.first_run_notice_dismissed)
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self._input_column())
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
        self.setTabOrder(self.drop_zone, self.text_input.editor)
        self.setTabOrder(self.text_input.editor, self.analyze_button)
        self.setTabOrder(self.analyze_button, self.cancel_button)
        self.setTabOrder(self.cancel_button, self.history_panel.search)
        self.resize(1280, 800)

    def _input_column(self) -> QWidget:
        column = QWidget(self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.analyze_button)
        text_label = QLabel("&Text", column)
        text_label.setBuddy(self.text_input.editor)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.drop_zone, 3)
        layout.addWidget(text_label)
        layout.addWidget(self.text_input, 2)
        layout.addLayout(buttons)
        return column

    def _action(self, text: str, shortcuts: list[QKeySequence | str], tip: str) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setToolTip(tip)
        action.setStatusTip(tip)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.analyze_action = self._action(
            "Analyze", ["Ctrl+Return", "Ctrl+Enter"], "Analyze the image and the text"
        )
        self.cancel_action = self._action("Cancel", ["Esc"], "Stop the running analysis")
        self.cancel_action.setEnabled(False)
        self.open_action = self._action(
            "Open image…", [QKeySequence.StandardKey.Open], "Choose an image file"
        )
        self.export_action = self._action(
            "Export…", ["Ctrl+E"], "Export the result shown (JSON, CSV, PNG, SVG, PDF)"
        )
        self.export_history_action = self._action(
            "Export selected history…", ["Ctrl+Shift+E"], "Export the selected history rows"
        )
        self.export_history_action.setEnabled(False)
        self.settings_action = self._action(
            "Settings…", [QKeySequence.StandardKey.Preferences, "Ctrl+,"], "Models, keys, fusion"
        )
        self.download_model_action = self._action(
            "Download full text model…", [], "Download DistilRoBERTa for better text scores"
        )
        self.quit_action = self._action("Quit", [QKeySequence.StandardKey.Quit], "Quit")
        self.offline_action = self._action(
            "Offline",
            ["Ctrl+Shift+O"],
            "Never use the network: the image is read by the local face model or not at all",
        )
        self.offline_action.setCheckable(True)
        self.offline_action.setChecked(self.settings.effective_offline())
        self.history_action = self.history_dock.toggleViewAction()
        self.history_action.setShortcut(QKeySequence("Ctrl+H"))
        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        for action in (
            self.analyze_action,
            self.cancel_action,
            None,
            self.offline_action,
            None,
            self.open_action,
            self.export_action,
            self.history_action,
            self.settings_action,
        ):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self.addToolBar(toolbar)
        file_menu = self.menuBar().addMenu("&File")
        for action in (
            self.open_action,
            self.export_action,
            self.export_history_action,
            self.settings_action,
            self.download_model_action,
            self.quit_action,
        ):
            file_menu.addAction(action)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.history_action)
        view_menu.addAction(self.offline_action)
        self.about_action = self._action(
            "How readings are checked…", ["F1"], "What the percentages mean; the validation report"
        )
        self.menuBar().addMenu("&Help").addAction(self.about_action)

    def _wire(self) -> None:
        self.analyze_button.clicked.connect(self.analyze)
        self.analyze_action.triggered.connect(self.analyze)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_action.triggered.connect(self.cancel)
        self.open_action.triggered.connect(self.drop_zone.browse)
        self.export_action.triggered.connect(self.export_current)
        self.export_history_action.triggered.connect(self.export_selected_history)
        self.settings_action.triggered.connect(self.open_settings)
        self.quit_action.triggered.connect(self.close)
        self.about_action.triggered.connect(self.open_about)
        self.download_model_action.triggered.connect(self.open_download_dialog)
        self.result_view.download_requested.connect(self.open_download_dialog)
        self.status.download_requested.connect(self.open_download_dialog)
        self.model_tasks.conversion_started.connect(self._on_model_tasks_started)
        self.model_tasks.conversion_progressed.connect(self._on_model_tasks_progressed)
        self.model_tasks.conversion_finished.connect(self._on_model_tasks_finished)
        self.model_tasks.conversion_failed.connect(self._on_model_tasks_failed)
        self.offline_action.toggled.connect(self._on_offline_action_toggled)
        self.text_input.image_pasted.connect(self.drop_zone.load_mime)
        self.drop_zone.image_changed.connect(self._on_drop_zone_image_changed)
        self.drop_zone.image_rejected.connect(self._on_drop_zone_image_rejected)
        self.controller.analysis_started.connect(self._on_controller_started)
        self.controller.analysis_progressed.connect(self._on_controller_progressed)
        self.controller.analysis_finished.connect(self._on_controller_finished)
        self.controller.analysis_failed.connect(self._on_controller_failed)
        self.controller.analysis_cancelled.connect(self._on_controller_cancelled)
        self.controller.busy_changed.connect(self._on_controller_busy_changed)
        self.history_panel.entry_selected.connect(self._on_history_entry_selected)
        self.history_panel.selection_changed.connect(self._on_history_selection_changed)
        self.history_panel.history_failed.connect(self._on_history_failed)
        self.first_run.dismissed.connect(self._on_first_run_dismissed)

    # ------------------------------------------------------------------ analysis

    def offline(self) -> bool:
        """True when the offline switch is on (or ``VSA_OFFLINE=1``)."""
        return self.offline_action.isChecked() or self.settings.effective_offline()

    def build_request(self) -> AnalysisRequest:
        """The request for what is in the drop zone and the text box, with the settings."""
        text = self.text_input.text()
        s = self.settings
        return AnalysisRequest(
            text=text if text.strip() else None,
            image=self.drop_zone.loaded,
            image_name=self.drop_zone.image_name,
            text_model=s.effective_text_model(),
            text_runtime=s.text_runtime,
            vision=s.vision_backend,
            weights=s.weights,
            fusion_rule=s.fusion_rule,
            offline=self.offline(),
            settings=copy.deepcopy(s),
        )

    def analyze(self) -> int:
        """Start an analysis (a running one is superseded); return its request id."""
        self.result_view.message_bar.clear()
        loaded = self.drop_zone.loaded
        target = None
        if self.history is not None:
            target = HistoryTarget(
                self.history, loaded.pixels if loaded else None, self.settings.keep_thumbnails
            )
        return self.controller.submit(self.build_request(), target)

    def cancel(self) -> None:
        """Cancel the running analysis."""
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
        self.history_panel.refresh()

    def _on_controller_failed(self, request_id: int, exc: BaseException) -> None:
        self.status.end_progress("Analysis failed")
        self.show_error(exc)

    def _on_controller_cancelled(self, request_id: int) -> None:
        self.status.end_progress("Cancelled")
        self.result_view.message_bar.show_message("The analysis was cancelled.", "info")

    def _on_controller_busy_changed(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.cancel_action.setEnabled(busy)

    def show_result(self, result: AnalysisResult, origin: str = "") -> None:
        """Display ``result``; face boxes are drawn when it is about the image shown."""
        self.result_view.show_result(result, origin)
        loaded = self.drop_zone.loaded
        same_image = loaded and result.image and loaded.info.sha256 == result.image.sha256
        self.drop_zone.set_faces(result.vision.faces if same_image and result.vision else ())
        self.result_shown.emit(result)

    def show_error(self, exc: BaseException) -> None:
        """An expected error inline (its one sentence); anything else to the crash handler."""
        if isinstance(exc, VsaError):
            self.result_view.message_bar.show_message(exc.message, "error")
            return
        report_crash(exc, self)
        self.result_view.message_bar.show_message(
            "Something unexpected went wrong; the details are in the log.", "error"
        )

    # ------------------------------------------------------------------ warm-up

    def start_warmup(self) -> None:
        """Load the models in the background so the first analysis is fast."""
        settings, offline = copy.deepcopy(self.settings), self.offline()
        self.status.set_models("loading…", "…")
        self.tasks.run(lambda token, progress: warm_up(settings, offline), self._connect_warmup)
        _ = self.result_view.chart  # Matplotlib loads now, after the window is on screen

    def _connect_warmup(self, signals: object) -> None:
        signals.returned.connect(self._on_warmup_returned)  # type: ignore[attr-defined]
        signals.failed.connect(self._on_warmup_failed)  # type: ignore[attr-defined]

    def _on_warmup_returned(self, task_id: int, active: ActiveModels) -> None:
        self.active = active
        self._show_models()
        self.model_tasks.after_warmup(self.settings, active)
        self.warmup_finished.emit(active)

    def _on_warmup_failed(self, task_id: int, exc: BaseException) -> None:
        self.status.set_models("not available", "…")
        self.status.set_lite(False)
        self.show_error(exc)
        self.warmup_finished.emit(exc)

    def _show_models(self) -> None:
        if self.active is None:
            return
        vision = vision_choice(self.settings, self.offline(), self.active.has_key)
        self.status.set_models(f"{self.active.text_model} ({self.active.text_runtime})", vision)
        self.status.set_lite(self.active.text_model == LITE_ID)

    # ------------------------------------------------------------------ models

    def open_download_dialog(self) -> ModelDownloadDialog:
        """Open (or raise) the non-modal download dialog; it starts downloading at once."""
        dialog = self._download_dialog
        if dialog is None or not dialog.running:
            if dialog is not None:
                dialog.deleteLater()
            offline = True if self.offline() else None
            model = model_to_download(self.settings)
            dialog = ModelDownloadDialog(self, model, self.tasks, offline)
            dialog.model_downloaded.connect(self._on_download_dialog_model_downloaded)
            self._download_dialog = dialog
        if dialog.isVisible():
            dialog.raise_()  # already open: bring it to the front
        dialog.start()
        return dialog

    def _on_download_dialog_model_downloaded(self, path: str) -> None:
        from vsa_desktop.core.text.loader import clear_cache

        clear_cache()  # ``auto`` resolves again: DistilRoBERTa now that it is on disk
        self.start_warmup()

    def _on_model_tasks_started(self, model: str) -> None:
        self._on_model_tasks_progressed(0)

    def _on_model_tasks_progressed(self, percent: int) -> None:
        self.status.show_background(f"Optimising text model for speed… {percent}%")

    def _on_model_tasks_finished(self, runtime: str) -> None:
        self.status.show_background("")
        self.start_warmup()  # loads the ONNX copy now; the status bar shows its runtime

    def _on_model_tasks_failed(self, message: str) -> None:
        self.status.show_background("Text model not optimised (see the log)", message)

    # ------------------------------------------------------------------ other slots

    def _on_offline_action_toggled(self, checked: bool) -> None:
        self.settings.offline = checked
        self._save_settings()
        self._on_offline_changed(checked)

    def _on_offline_changed(self, checked: bool) -> None:
        self.status.set_offline(self.offline())
        self._show_models()

    def _on_drop_zone_image_changed(self) -> None:
        self.result_view.message_bar.clear()

    def _on_drop_zone_image_rejected(self, message: str) -> None:
        self.result_view.message_bar.show_message(message, "error")

    def _on_history_entry_selected(self, result: AnalysisResult) -> None:
        self.show_result(result, origin="From history")

    def _on_history_selection_changed(self, count: int) -> None:
        self.export_history_action.setEnabled(count > 0)

    def _on_history_failed(self, message: str) -> None:
        self.result_view.message_bar.show_message(message, "warning")

    def _on_first_run_dismissed(self, dont_show_again: bool) -> None:
        if dont_show_again:
            self.settings.first_run_notice_dismissed = True
            self._save_settings()

    # ------------------------------------------------------------------ export

    def export_current(self) -> ExportDialog | None:
        """Ask where to export the result shown; returns the (open, non-modal) dialog."""
        if self.result_view.result is None:
            self.result_view.message_bar.show_message("There is no result to export yet.", "info")
            return None
        return self._open_export([self.result_view.result])

    def export_selected_history(self) -> ExportDialog | None:
        """Ask where to export the selected history rows."""
        results = self.history_panel.selected_results()
        return self._open_export(results) if results else None

    def _open_export(self, results: list[AnalysisResult]) -> ExportDialog:
        self._pending_export = results
        folder = self.settings.export_dir or str(Path.home())
        name = default_base_name(len(results), results[0].created_at)
        dialog = ExportDialog(self, folder, name, len(results))
        dialog.fileSelected.connect(self._on_export_dialog_file_selected)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _on_export_dialog_file_selected(self, path: str) -> None:
        self.export_to(Path(path), self._pending_export)

    def export_to(self, path: Path, results: list[AnalysisResult]) -> bool:
        """Write ``results`` to ``path`` (format from the suffix); remember the folder."""
        from vsa_desktop.core.export import export_results

        try:
            written = export_results(results, path, overwrite=True)
        except VsaError as exc:
            self.result_view.message_bar.show_message(exc.message, "error")
            return False
        self.settings.export_dir = str(written.parent)
        self._save_settings()
        self.status.show_activity(f"Exported to {written}")
        return True

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
        if settings.history_path != old.history_path:
            if self.history is not None:
                self.history.close()
            self.history, problem = open_history(settings)
            self.history_panel.set_store(self.history)
            if problem:
                self.result_view.message_bar.show_message(problem, "warning")
        self.start_warmup()

    def _save_settings(self) -> None:
        try:
            save_settings(self.settings)
        except OSError as exc:
            self.result_view.message_bar.show_message(
                f"The settings could not be saved ({exc.strerror or exc}).", "warning"
            )

    # ------------------------------------------------------------------ UI state / closing

    def _restore_ui_state(self) -> None:
        state = ui_state()
        geometry, window_state = state.value("geometry"), state.value("windowState")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if window_state is not None:
            self.restoreState(window_state)
        splitter = state.value("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        else:
            self.splitter.setSizes([400, 560])
            self.resizeDocks([self.history_dock], [320], Qt.Orientation.Horizontal)

    def save_ui_state(self) -> None:
        """Remember geometry, dock and splitter sizes."""
        state = ui_state()
        state.setValue("geometry", self.saveGeometry())
        state.setValue("windowState", self.saveState())
        state.setValue("splitter", self.splitter.saveState())
        state.sync()

    def shutdown(self) -> None:
        """Cancel the work, wait for the worker threads, close the history. Safe to repeat."""
        if self._shut_down:
            return
        self._shut_down = True
        self.controller.shutdown()
        self.model_tasks.shutdown()
        self.tasks.shutdown()
        self.history_panel.set_store(None)
        if self.history is not None:
            self.history.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_ui_state()
        self.shutdown()
        super().closeEvent(event)
