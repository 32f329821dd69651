"""The window's model work: background warm-up, the download dialog, the ONNX conversion."""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from vsa_desktop.core.text.loader import LITE_ID
from vsa_desktop.gui.download_dialog import ModelDownloadDialog, model_to_download
from vsa_desktop.gui.model_tasks import ModelTasks
from vsa_desktop.gui.warmup import ActiveModels, vision_choice, warm_up
from vsa_desktop.gui.wording import ENV_OFFLINE_DOWNLOAD

if TYPE_CHECKING:
    from vsa_desktop.gui.main_window import MainWindow

log = logging.getLogger(__name__)


class ModelWiring(QObject):
    """Loads the models in the background and keeps the status bar's model words current.

    Signals:
        warmup_finished(object): a warm-up ended (ActiveModels, or the exception).
    """

    warmup_finished = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.model_tasks = ModelTasks(self)
        self.download_dialog: ModelDownloadDialog | None = None
        self.active: ActiveModels | None = None
        self.model_tasks.conversion_started.connect(self._on_model_tasks_started)
        self.model_tasks.conversion_progressed.connect(self._on_model_tasks_progressed)
        self.model_tasks.conversion_finished.connect(self._on_model_tasks_finished)
        self.model_tasks.conversion_failed.connect(self._on_model_tasks_failed)

    # ------------------------------------------------------------------ warm-up

    def start_warmup(self) -> None:
        """Load the models in the background so the first analysis is fast."""
        win = self._window
        settings, offline = copy.deepcopy(win.settings), win.offline()
        win.status.set_models("loading…", "…")
        win.tasks.run(lambda token, progress: warm_up(settings, offline), self._connect_warmup)

    def _connect_warmup(self, signals: object) -> None:
        signals.returned.connect(self._on_warmup_returned)  # type: ignore[attr-defined]
        signals.failed.connect(self._on_warmup_failed)  # type: ignore[attr-defined]

    def _on_warmup_returned(self, task_id: int, active: ActiveModels) -> None:
        self.active = active
        self.show_models()
        self.model_tasks.after_warmup(self._window.settings, active)
        self.warmup_finished.emit(active)

    def _on_warmup_failed(self, task_id: int, exc: BaseException) -> None:
        self._window.status.set_models("not available", "…")
        self._window.status.set_lite(False)
        self._window.show_error(exc)
        self.warmup_finished.emit(exc)

    def show_models(self) -> None:
        """Put the active models (and the lite model's download link) in the status bar."""
        win = self._window
        win.status.set_offline(win.offline())
        if self.active is None:
            return
        vision = vision_choice(win.settings, win.offline(), self.active.has_key)
        win.status.set_models(f"{self.active.text_model} ({self.active.text_runtime})", vision)
        win.status.set_lite(self.active.text_model == LITE_ID)

    # ------------------------------------------------------------------ download

    def request_download(self) -> ModelDownloadDialog | None:
        """The download button or link: go online first when the toolbar switch is on."""
        win = self._window
        if win.settings.effective_offline() and not win.settings.offline:
            win.result_view.message_bar.show_message(ENV_OFFLINE_DOWNLOAD, "info")
            return None
        if win.offline():
            win.actions.offline.setChecked(False)  # "Go online and download"
        return self.open_download_dialog()

    def open_download_dialog(self) -> ModelDownloadDialog:
        """Open (or raise) the non-modal download dialog; it starts downloading at once."""
        win = self._window
        dialog = self.download_dialog
        if dialog is None or not dialog.running:
            if dialog is not None:
                dialog.deleteLater()
            offline = True if win.offline() else None
            model = model_to_download(win.settings)
            dialog = ModelDownloadDialog(win, model, win.tasks, offline)
            dialog.model_downloaded.connect(self._on_download_dialog_model_downloaded)
            self.download_dialog = dialog
        if dialog.isVisible():
            dialog.raise_()  # already open: bring it to the front
        dialog.start()
        return dialog

    def _on_download_dialog_model_downloaded(self, path: str) -> None:
        from vsa_desktop.core.text.loader import clear_cache

        clear_cache()  # ``auto`` resolves again: DistilRoBERTa now that it is on disk
        self.start_warmup()

    # ------------------------------------------------------------------ ONNX conversion

    def _on_model_tasks_started(self, model: str) -> None:
        self._on_model_tasks_progressed(0)

    def _on_model_tasks_progressed(self, percent: int) -> None:
        self._window.status.show_background(f"Optimising text model for speed… {percent}%")

    def _on_model_tasks_finished(self, runtime: str) -> None:
        self._window.status.show_background("")
        self.start_warmup()  # loads the ONNX copy now; the status bar shows its runtime

    def _on_model_tasks_failed(self, message: str) -> None:
        from vsa_desktop.gui.wording import for_gui

        self._window.status.show_background(
            "Text model not optimised (see the log)", for_gui(message)
        )

    def shutdown(self) -> None:
        """Stop the conversion and close the download dialog's work."""
        self.model_tasks.shutdown()
        if self.download_dialog is not None:
            with contextlib.suppress(RuntimeError):  # already deleted with the window
                self.download_dialog.done(0)
