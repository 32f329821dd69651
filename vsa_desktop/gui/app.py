"""Start the desktop app: QApplication, icon, logging, crash handler, window, warm-up."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from vsa_desktop import __version__
from vsa_desktop.core.resources import resource_path
from vsa_desktop.gui.crash_dialog import install_crash_handler
from vsa_desktop.gui.logs import install_qt_message_handler, setup_logging

if TYPE_CHECKING:
    from vsa_desktop.gui.main_window import MainWindow

log = logging.getLogger(__name__)

_IMPORTED_AT = time.perf_counter()
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
LAUNCH_T0_ENV = "VSA_LAUNCH_T0"  # time.time() of the launch, set by the start-up benchmark


def app_icon() -> QIcon:
    """The app icon from ``resources/icons`` (PNG renders of the SVG)."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = resource_path("icons", f"vsa-desktop-{size}.png")
        if path.is_file():
            icon.addFile(str(path))
    return icon


class _FirstShow(QObject):
    """Prints the launch-to-window time at the window's first Show event, then quits."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show:
            watched.removeEventFilter(self)
            print(json.dumps(startup_report()), flush=True)
            QTimer.singleShot(0, QApplication.quit)
        return False


def startup_report() -> dict[str, object]:
    """Seconds since launch and which heavy modules are loaded (for the start-up benchmark)."""
    t0 = os.environ.get(LAUNCH_T0_ENV)
    elapsed = time.time() - float(t0) if t0 else time.perf_counter() - _IMPORTED_AT
    return {
        "shown_after_s": round(elapsed, 4),
        "torch_loaded": "torch" in sys.modules,
        "transformers_loaded": "transformers" in sys.modules,
        "onnxruntime_loaded": "onnxruntime" in sys.modules,
    }


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="vsa-desktop",
        description="VSA Desktop: read the emotion expressed in text and images, together.",
    )
    parser.add_argument("--version", action="version", version=f"VSA Desktop {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run the offline self-test (one line per check) instead of opening the window",
    )
    parser.add_argument(
        "--quit-after-show",
        action="store_true",
        help="print the start-up time when the window shows, then quit",
    )
    parser.add_argument(
        "--no-warmup",
        action="store_true",
        help="do not load the models in the background at start-up",
    )
    return parser.parse_known_args(argv)


def _warn_about_bad_binding(window: MainWindow) -> None:
    """Say so, in the window and the log, when the Qt binding is one known to crash."""
    from vsa_desktop.gui.binding_check import bad_binding_message

    message = bad_binding_message()
    if message:
        log.error("%s", message)
        window.result_view.message_bar.show_message(message, "error")


def run(argv: list[str]) -> int:
    """Run the app until its window closes; return the exit code."""
    args, qt_args = _parse(argv)
    log_file = setup_logging()
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    assert isinstance(app, QApplication)
    app.setApplicationName("VSA Desktop")
    app.setApplicationDisplayName("VSA Desktop")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("vsa-desktop")
    app.setDesktopFileName("vsa-desktop")
    app.setWindowIcon(app_icon())
    install_qt_message_handler()
    install_crash_handler(log_file)
    log.info("VSA Desktop %s starting; log file %s", __version__, log_file)

    from vsa_desktop.gui.main_window import MainWindow

    window = MainWindow()
    app.aboutToQuit.connect(window.shutdown)
    _warn_about_bad_binding(window)
    if args.quit_after_show:
        probe = _FirstShow(window)
        window.installEventFilter(probe)
    window.show()
    if not (args.no_warmup or args.quit_after_show):
        QTimer.singleShot(0, window.start_warmup)  # after the first paint
    return int(app.exec())
