"""The main window's size and layout state: first placement, and what is kept in QSettings."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter

from vsa_desktop.core.paths import config_dir

UI_STATE_FILE = "ui-state.ini"
PREFERRED_SIZE = (1280, 800)
FRAME_ALLOWANCE = (16, 48)  # a window manager's borders and title bar, before they are known


def ui_state() -> QSettings:
    """Window geometry and splitter sizes, kept apart from the preferences file."""
    return QSettings(str(config_dir() / UI_STATE_FILE), QSettings.Format.IniFormat)


def first_window_rect(available: QRect) -> QRect:
    """The first window: its size (1280x800, or less to fit) and its frame's top-left corner.

    ``available`` is the screen without panels and docks. The frame (title bar, borders) is
    not known before the window is shown, so room is left for it; the position is where the
    frame goes (``QWidget.move``), centred.
    """
    width = min(PREFERRED_SIZE[0], available.width() - FRAME_ALLOWANCE[0])
    height = min(PREFERRED_SIZE[1], available.height() - FRAME_ALLOWANCE[1])
    left = available.left() + (available.width() - width - FRAME_ALLOWANCE[0]) // 2
    top = available.top() + (available.height() - height - FRAME_ALLOWANCE[1]) // 2
    return QRect(left, top, width, height)


def restore(window: QMainWindow, splitter: QSplitter, dock: QDockWidget) -> None:
    """Put the window back as it was; the first time, size it to the screen it opens on."""
    state = ui_state()
    geometry, window_state = state.value("geometry"), state.value("windowState")
    if geometry is None or not window.restoreGeometry(geometry):
        screen = window.screen() or QGuiApplication.primaryScreen()
        rect = first_window_rect(screen.availableGeometry())
        window.resize(rect.size())
        window.move(rect.topLeft())  # the frame's corner, title bar included
    if window_state is not None:
        window.restoreState(window_state)
    sizes = state.value("splitter")
    if sizes is not None:
        splitter.restoreState(sizes)
    else:
        width = window.width()
        splitter.setSizes([width * 2 // 5, width * 3 // 5])
        window.resizeDocks([dock], [width // 4], Qt.Orientation.Horizontal)


def save(window: QMainWindow, splitter: QSplitter) -> None:
    """Remember geometry, dock and splitter sizes."""
    state = ui_state()
    state.setValue("geometry", window.saveGeometry())
    state.setValue("windowState", window.saveState())
    state.setValue("splitter", splitter.saveState())
    state.sync()
