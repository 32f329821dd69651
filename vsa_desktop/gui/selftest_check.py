"""The self-test's GUI check: build the real main window offscreen, grab it to a PNG, close it."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

MIN_PNG_BYTES = 1_000  # a failed grab gives nothing; a real 1280x800 window is far above this


def check_main_window(folder: Path) -> str:
    """Render the main window once and save it as ``folder/main-window.png``.

    Uses the ``offscreen`` Qt platform unless ``QT_QPA_PLATFORM`` is already set, so the
    check runs without a display. No warm-up runs, so no text model is loaded. The window
    gets a throwaway ``VSA_HOME`` inside ``folder``: the user's settings, history and window
    layout are neither read nor written.

    Args:
        folder: Where the PNG goes (the self-test's temporary folder).

    Returns:
        One line for the report: the grabbed size and the PNG's size.

    Raises:
        AssertionError: The grab was empty or the PNG could not be written.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from vsa_desktop.gui.app import app_icon

    with _throwaway_home(folder / "home"):
        app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "vsa"])
        assert isinstance(app, QApplication)
        app.setApplicationName("VSA Desktop")
        app.setWindowIcon(app_icon())
        return _grab_main_window(folder / "main-window.png")


@contextlib.contextmanager
def _throwaway_home(home: Path) -> Iterator[None]:
    """Point ``VSA_HOME`` at ``home`` for the duration of the block."""
    before = os.environ.get("VSA_HOME")
    home.mkdir(parents=True, exist_ok=True)
    os.environ["VSA_HOME"] = str(home)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("VSA_HOME", None)
        else:
            os.environ["VSA_HOME"] = before


def _grab_main_window(path: Path) -> str:
    """Show the main window, grab it to ``path``, close it; return the report line."""
    from PySide6.QtWidgets import QApplication

    from vsa_desktop.gui.dialogs import set_dialogs_enabled
    from vsa_desktop.gui.main_window import MainWindow

    set_dialogs_enabled(False)  # a modal dialog would block an unattended check
    window = MainWindow()
    try:
        window.show()
        QApplication.processEvents()
        pixmap = window.grab()
        if pixmap.isNull() or pixmap.width() == 0 or pixmap.height() == 0:
            raise AssertionError("the main window grabbed to an empty image")
        if not pixmap.save(str(path), "PNG"):
            raise AssertionError(f"the window image could not be saved to {path}")
        size = path.stat().st_size
        if size < MIN_PNG_BYTES or not path.read_bytes().startswith(b"\x89PNG"):
            raise AssertionError(f"the window PNG is not a real image ({size} B)")
    finally:
        window.close()  # closeEvent saves the UI state and shuts the workers down
        window.shutdown()
        window.deleteLater()
        QApplication.processEvents()
        set_dialogs_enabled(None)
    return f"{pixmap.width()}x{pixmap.height()} window, PNG {size} B"
