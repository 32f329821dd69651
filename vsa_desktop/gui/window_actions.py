"""The main window's actions, toolbar and menus (built here, wired by the window)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolBar


class WindowActions(QObject):
    """Creates every QAction of the main window with its shortcuts, toolbar and menus.

    The actions are attributes (``analyze``, ``cancel``, ``open``, ``export``,
    ``export_history``, ``settings``, ``download_model``, ``quit``, ``offline``, ``history``,
    ``about``); the window connects them to its slots.

    Signals:
        (none: the actions' own ``triggered``/``toggled``.)
    """

    def __init__(self, window: QMainWindow, history_dock: QDockWidget, offline: bool) -> None:
        super().__init__(window)
        self._window = window
        self.analyze = self._action(
            "Analyze", ["Ctrl+Return", "Ctrl+Enter"], "Analyze the image and the text"
        )
        self.cancel = self._action("Cancel", ["Esc"], "Stop the running analysis")
        self.cancel.setEnabled(False)
        self.open = self._action(
            "Open image…", [QKeySequence.StandardKey.Open], "Choose an image file"
        )
        self.export = self._action(
            "Export…", ["Ctrl+E"], "Export the result shown (JSON, CSV, PNG, SVG, PDF)"
        )
        self.export_history = self._action(
            "Export selected history…", ["Ctrl+Shift+E"], "Export the selected history rows"
        )
        self.export_history.setEnabled(False)
        self.settings = self._action(
            "Settings…", [QKeySequence.StandardKey.Preferences, "Ctrl+,"], "Models, keys, fusion"
        )
        self.download_model = self._action(
            "Download full text model…", [], "Download DistilRoBERTa for better text scores"
        )
        self.quit = self._action("Quit", [QKeySequence.StandardKey.Quit], "Quit")
        self.offline = self._action(
            "Offline",
            ["Ctrl+Shift+O"],
            "Never use the network: the image is read by the local face model or not at all",
        )
        self.offline.setCheckable(True)
        self.offline.setChecked(offline)
        self.history = history_dock.toggleViewAction()
        self.history.setShortcut(QKeySequence("Ctrl+H"))
        self.about = self._action(
            "How readings are checked…", ["F1"], "What the percentages mean; the validation report"
        )
        self._toolbar()
        self._menus()

    def _action(self, text: str, shortcuts: list[QKeySequence | str], tip: str) -> QAction:
        action = QAction(text, self._window)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setToolTip(tip)
        # No status tip: hovering a tool button would replace the status bar's own content.
        self._window.addAction(action)
        return action

    def _toolbar(self) -> None:
        toolbar = QToolBar("Main", self._window)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        for action in (
            self.analyze,
            self.cancel,
            None,
            self.offline,
            None,
            self.open,
            self.export,
            self.history,
            self.settings,
        ):
            toolbar.addSeparator() if action is None else toolbar.addAction(action)
        self._window.addToolBar(toolbar)
        self.toolbar = toolbar

    def _menus(self) -> None:
        bar = self._window.menuBar()
        file_menu = bar.addMenu("&File")
        for action in (
            self.open,
            self.export,
            self.export_history,
            self.settings,
            self.download_model,
            self.quit,
        ):
            file_menu.addAction(action)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.history)
        view_menu.addAction(self.offline)
        self.view_menu = view_menu  # others add their own entries (explanations)
        bar.addMenu("&Help").addAction(self.about)
