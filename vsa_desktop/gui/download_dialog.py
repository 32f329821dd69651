"""A non-modal dialog that downloads a text model in the background and shows its progress."""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.settings import DEFAULT_TEXT_MODEL, Settings
from vsa_desktop.gui.wording import (
    ENV_OFFLINE_DOWNLOAD,
    OFFLINE_DOWNLOAD,
    env_forces_offline,
    for_gui,
)
from vsa_desktop.gui.workers import TaskRunner, TaskSignals

log = logging.getLogger(__name__)

UPDATES_PER_SECOND = 10
ERROR_STYLE = "color: #B00020;"
UNEXPECTED = "Something unexpected went wrong during the download; the details are in the log."


def gui_download_error(message: str) -> str:
    """The core's download error in the window's words (no commands, no flags)."""
    if "downloads are off" in message:
        return ENV_OFFLINE_DOWNLOAD if env_forces_offline() else OFFLINE_DOWNLOAD
    return for_gui(message)


def model_to_download(settings: Settings) -> str:
    """The model the download action fetches: the configured HF id, else DistilRoBERTa."""
    from vsa_desktop.core.text.loader import AUTO, LITE_ID

    model = settings.effective_text_model()
    return DEFAULT_TEXT_MODEL if model in ("", AUTO, LITE_ID) else model


def megabytes(done: int, total: int) -> str:
    """``12 MB of 329 MB`` (or ``12 MB so far`` while the total is unknown)."""
    mb = 1_000_000
    if total <= 0:
        return f"{done / mb:.0f} MB so far"
    return f"{done / mb:.0f} MB of {total / mb:.0f} MB"


class ByteProgress:
    """Forwards byte counts from the worker at most ``UPDATES_PER_SECOND`` times a second.

    The worker writes ``done``/``total`` and calls ``progress("download", fraction)`` when it
    is time; the GUI thread reads the counts when that progress arrives.
    """

    def __init__(self, progress: Callable[[str, float], None] | None = None) -> None:
        self.done = 0
        self.total = 0
        self.forward = progress
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if now - self._last >= 1.0 / UPDATES_PER_SECOND or (total and done >= total):
            self._last = now
            if self.forward is not None:
                self.forward("download", done / total if total else 0.0)


class ModelDownloadDialog(QDialog):
    """Downloads ``model_id`` with ``core.models.download`` on a worker thread.

    Cancel (or closing the dialog) sets the cancel token and hides the dialog at once; the
    worker stops at its next chunk. A failure shows the core error's sentence inline.

    Signals:
        model_downloaded(str): the local folder of the model, after a successful download.
        download_ended(): the worker stopped, whatever happened (success, failure, cancel).
    """

    model_downloaded = Signal(str)
    download_ended = Signal()

    def __init__(
        self,
        parent: QWidget | None,
        model_id: str = DEFAULT_TEXT_MODEL,
        runner: TaskRunner | None = None,
        offline: bool | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Download text model")
        self.setModal(False)
        self.model_id = model_id
        self._offline = offline
        self._runner = runner or TaskRunner(self, max_threads=1)
        self._token: CancelToken | None = None
        self._bytes: ByteProgress | None = None
        self.path = ""
        self._build()

    @property
    def running(self) -> bool:
        """True while the download worker has not ended."""
        return self._token is not None

    def _build(self) -> None:
        self.title = QLabel(
            f"Downloading <b>{html.escape(self.model_id)}</b> from the Hugging Face hub.", self
        )
        self.title.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)
        self.bar.setAccessibleName("Download progress")
        self.amount = QLabel("Connecting…", self)
        self.amount.setAccessibleName("Downloaded so far")
        self.outcome = QLabel(self)
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.PlainText)  # paths and messages, never HTML
        self.outcome.setAccessibleName("Download outcome")
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.hide()
        self.buttons = QDialogButtonBox(self)
        self.cancel_button: QPushButton = self.buttons.addButton(
            QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.title, self.bar, self.amount, self.outcome, self.buttons):
            layout.addWidget(widget)
        self.setMinimumWidth(460)

    def start(self) -> None:
        """Show the dialog and start the download (once)."""
        self.show()
        if self.running or self.path:
            return
        model, offline = self.model_id, self._offline
        counts = self._bytes = ByteProgress()

        def call(token: CancelToken, progress: Callable[[str, float], None]) -> str:
            from vsa_desktop.core import models

            counts.forward = progress
            return str(models.download(model, counts, token, offline=offline))

        _, self._token = self._runner.run(call, self._connect)

    def _connect(self, signals: TaskSignals) -> None:
        signals.progressed.connect(self._on_task_progressed)
        signals.returned.connect(self._on_task_returned)
        signals.failed.connect(self._on_task_failed)
        signals.ended.connect(self._on_task_ended)

    def cancel(self) -> None:
        """Stop the download (if running) and close the dialog."""
        self.reject()

    def done(self, result: int) -> None:
        if self._token is not None:
            self._token.cancel()
        super().done(result)

    def _on_task_progressed(self, task_id: int, stage: str, fraction: float) -> None:
        counts = self._bytes
        if counts is None:
            return
        if counts.total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(1000 * fraction))
        self.amount.setText(megabytes(counts.done, counts.total))

    def _on_task_returned(self, task_id: int, path: str) -> None:
        self.path = path
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.amount.hide()
        self.title.setText(f"Downloaded <b>{html.escape(self.model_id)}</b>.")
        self._finish(f"The model is in {path}; the next analysis uses it.", "")
        log.info("downloaded %s to %s", self.model_id, path)
        self.model_downloaded.emit(path)

    def _on_task_failed(self, task_id: int, exc: BaseException) -> None:
        if isinstance(exc, VsaError):
            log.info("download of %s failed: %s (%s)", self.model_id, exc.message, exc.detail)
            message = gui_download_error(exc.message)
        else:
            message = UNEXPECTED
        self.bar.hide()
        self.amount.hide()
        self.title.setText(f"<b>{html.escape(self.model_id)}</b> was not downloaded.")
        self._finish(message, ERROR_STYLE)

    def _on_task_ended(self, task_id: int) -> None:
        self._token = None
        if self._bytes is not None:
            self._bytes.forward = None  # drops the task (and the cycle through it)
        self.download_ended.emit()

    def _finish(self, message: str, style: str) -> None:
        self.outcome.setText(message)
        self.outcome.setStyleSheet(style)
        self.outcome.show()
        self.cancel_button.setText("Close")
