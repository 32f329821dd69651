"""Opening the history file off the GUI thread (its integrity check reads the whole file)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.settings import Settings
from vsa_desktop.gui.history_panel import open_history
from vsa_desktop.gui.workers import HistoryBox, TaskRunner, TaskSignals


class HistoryOpener(QObject):
    """Opens the history the settings name on a worker; the newest request wins.

    Signals:
        history_opened(object, str): the HistoryStore (None when it could not be opened)
            and a sentence for the user (a recovery note or why it failed; "" when none).
    """

    history_opened = Signal(object, str)

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._latest = 0
        self._closed = False

    def open(self, settings: Settings) -> HistoryBox:
        """Start opening; analyses can record into the returned box at once."""
        box = HistoryBox()

        def call(token: CancelToken, progress: Callable[[str, float], None]) -> Any:
            store, problem = open_history(settings)
            box.fill(store, problem)
            return box

        self._latest, _ = self._runner.run(call, self._connect)
        return box

    def _connect(self, signals: TaskSignals) -> None:
        signals.returned.connect(self._on_task_returned)

    def _on_task_returned(self, task_id: int, box: HistoryBox) -> None:
        if self._closed or task_id != self._latest:
            if box.store is not None:
                box.store.close()  # superseded or too late: nobody will use it
            return
        self.history_opened.emit(box.store, box.problem)

    def close(self) -> None:
        """Stores that arrive from now on are closed at once."""
        self._closed = True
