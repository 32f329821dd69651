"""The crash dialog and handler: unexpected errors are logged and shown with their details."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vsa_desktop import __version__
from vsa_desktop.gui.dialogs import dialogs_enabled

log = logging.getLogger(__name__)

_log_file: Path | None = None
_open_dialogs: list[QDialog] = []


class CrashDialog(QDialog):
    """Says that something went wrong, with the details, a copy button and the log file.

    Signals:
        (none: QDialog's own)
    """

    def __init__(self, details: str, log_file: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("VSA Desktop: unexpected error")
        self.setObjectName("crashDialog")
        self.details = details
        intro = QLabel(
            "Something went wrong inside VSA Desktop. Your work so far is kept; you can go "
            "on, or restart the app. Please report the details below.",
            self,
        )
        intro.setWordWrap(True)
        where = f"Log file: {log_file}" if log_file else "No log file was written."
        self.log_label = QLabel(where, self)
        self.log_label.setWordWrap(True)
        self.text = QPlainTextEdit(details, self)
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Error details")
        self.copy_button = QPushButton("Copy details", self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.log_label)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.details)
        self.copy_button.setText("Copied")


def crash_details(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> str:
    """The text of a crash report: version, Python, platform, traceback."""
    import platform

    head = (
        f"VSA Desktop {__version__}, Python {platform.python_version()}, {platform.platform()}\n\n"
    )
    return head + "".join(traceback.format_exception(exc_type, exc, tb))


def report_crash(exc: BaseException, parent: QWidget | None = None) -> str:
    """Log an unexpected exception and show the crash dialog (or only log, when dialogs are off).

    Returns:
        The details text.
    """
    details = crash_details(type(exc), exc, exc.__traceback__)
    log.error("unexpected error:\n%s", details)
    if dialogs_enabled() and QApplication.instance() is not None:
        dialog = CrashDialog(details, _log_file, parent)
        _open_dialogs.append(dialog)
        dialog.finished.connect(lambda _=0, d=dialog: _open_dialogs.remove(d))
        dialog.show()
    return details


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    report_crash(exc.with_traceback(tb))


def install_crash_handler(log_file: Path | None) -> None:
    """Route uncaught exceptions (in slots too) to ``report_crash``; remember the log file."""
    global _log_file
    _log_file = log_file
    sys.excepthook = _excepthook
