"""Logging for the app: a rotating log file under ``core.paths.log_dir()`` and Qt's messages."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

from vsa_desktop.core import logsafety
from vsa_desktop.core.paths import log_dir

LOG_NAME = "vsa-desktop.log"
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"
qt_log = logging.getLogger("qt")

_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def log_path() -> Path:
    """The app's log file."""
    return log_dir() / LOG_NAME


def setup_logging(level: int = logging.INFO) -> Path:
    """Send log records to the rotating log file (and stderr for warnings); return its path."""
    path = log_path()
    logsafety.install()  # no credential in any record, whichever library logs it
    root = logging.getLogger()
    if any(getattr(h, "vsa_desktop", False) for h in root.handlers):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:  # a read-only data folder must not stop the app
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.vsa_desktop = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level))
    return path


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    where = f" ({context.file}:{context.line})" if context.file else ""
    qt_log.log(_LEVELS.get(kind, logging.WARNING), "%s%s", message, where)


def install_qt_message_handler() -> None:
    """Route Qt's own messages (qWarning and friends) into the ``qt`` logger."""
    qInstallMessageHandler(_qt_message)
