"""\"Why this reading\" in the window: explain the result shown, in a worker, after it is shown.

The result never waits for its explanation: ``show(result)`` puts the analysed text on screen
at once ("Finding the words…") and starts ``core.explain.explain_result`` on a pool thread.
A newer result, a new analysis or switching explanations off cancels the running one
(occlusion checks its token between batches), and an answer for a result no longer shown is
dropped. The finished explanation replaces the shown result (``ResultView.result``), so an
export made afterwards carries ``text.explanation`` and ``fusion.parts``.

The View ▸ "Explain words" menu (off / lite model only / every model) is built here too, so
the window's own menu code stays as it is.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.settings import Settings
from vsa_desktop.core.text.loader import LITE_ID
from vsa_desktop.gui.explanation_view import ExplanationView
from vsa_desktop.gui.result_view import ResultView
from vsa_desktop.gui.workers import TaskRunner, TaskSignals

log = logging.getLogger(__name__)

CHOICES = (
    ("off", "Off", "Do not explain readings"),
    ("lite", "Built-in lite model only", "Exact and instant; other models' readings unexplained"),
    ("all", "Every text model (slower)", "Transformers by occlusion: runs the model many times"),
)
FAILED = "The words behind this reading could not be found. {}"
UNEXPECTED = "The words behind this reading could not be found; the details are in the log."


def wants_explanation(result: AnalysisResult, mode: str) -> bool:
    """True when ``mode`` (a ``Settings.explain_words`` value) explains ``result``'s text."""
    if result.text is None or not result.text_input or mode == "off":
        return False
    return mode == "all" or result.text.model == LITE_ID


class ExplanationFlow(QObject):
    """Keeps the explanation view in step with the result shown.

    Signals:
        explained(object): the result shown now carries its explanation (an AnalysisResult).
        mode_changed(str): the user chose another ``explain_words`` value in the menu.
    """

    explained = Signal(object)
    mode_changed = Signal(str)

    def __init__(self, result_view: ResultView, settings: Settings, parent: QWidget) -> None:
        super().__init__(parent)
        self._result_view = result_view
        self.view = ExplanationView(result_view)
        result_view.add_explanation_view(self.view)
        self._settings = settings
        self._runner = TaskRunner(self, max_threads=1)
        self._token: CancelToken | None = None
        self._task = 0
        self._shown: AnalysisResult | None = None
        self.actions: dict[str, QAction] = {}

    # ------------------------------------------------------------------ menu

    def add_menu(self, parent_menu: QMenu) -> QMenu:
        """Add "Explain words" (three exclusive choices) to ``parent_menu``; return it."""
        menu = parent_menu.addMenu("Explain &words")
        group = QActionGroup(menu)
        for value, text, tip in CHOICES:
            action = QAction(text, menu)
            action.setCheckable(True)
            action.setToolTip(tip)
            action.setData(value)
            group.addAction(action)
            menu.addAction(action)
            self.actions[value] = action
        menu.setToolTipsVisible(True)
        self._check_mode()
        group.triggered.connect(self._on_group_triggered)
        return menu

    def set_settings(self, settings: Settings) -> None:
        """New preferences (the settings dialog saved): the menu follows them."""
        self._settings = settings
        self._check_mode()

    def _check_mode(self) -> None:
        action = self.actions.get(self._settings.explain_words)
        if action is not None:
            action.setChecked(True)

    def _on_group_triggered(self, action: QAction) -> None:
        mode = str(action.data())
        if mode == self._settings.explain_words:
            return
        self._settings.explain_words = mode
        self.mode_changed.emit(mode)
        if self._shown is not None:
            self.show(self._shown)

    # ------------------------------------------------------------------ results

    def show(self, result: AnalysisResult | None) -> None:
        """``result`` is on screen: show its explanation, or start finding it."""
        self.cancel()
        self._shown = result
        mode = self._settings.explain_words
        if result is None or not wants_explanation(result, mode):
            self.view.clear()
            return
        assert result.text is not None and result.text_input is not None
        if result.text.explanation is not None:  # explained before (e.g. kept in history)
            self.view.show_explanation(result.text_input, result.text.explanation)
            return
        self.view.show_pending(result.text_input)
        self._task, self._token = self._runner.run(self._call(result), self._connect)

    def forget(self, ids: list[str]) -> None:
        """Results were deleted: the one shown leaves the screen, its explanation too."""
        if self._shown is not None and self._shown.id in ids:
            self.show(None)

    def cancel(self) -> None:
        """Stop the running explanation (a new analysis starts, or the result changed)."""
        if self._token is not None:
            self._token.cancel()
            self._token = None
        self._task = 0

    def shutdown(self) -> None:
        """Cancel and wait for the worker."""
        self.cancel()
        self._runner.shutdown()

    @property
    def busy(self) -> bool:
        """True while an explanation is being computed."""
        return self._runner.busy

    def _call(self, result: AnalysisResult):  # -> worker call
        runtime = self._settings.text_runtime

        def call(token: CancelToken, _progress: object) -> AnalysisResult:
            from vsa_desktop.core.explain import explain_result

            return explain_result(result, text_runtime=runtime, every=True, cancel=token)

        return call

    def _connect(self, signals: TaskSignals) -> None:
        signals.returned.connect(self._on_task_returned)
        signals.failed.connect(self._on_task_failed)

    @Slot(int, object)
    def _on_task_returned(self, task_id: int, explained: AnalysisResult) -> None:
        shown = self._shown
        if task_id != self._task or shown is None or explained.id != shown.id:
            return  # for a result no longer on screen
        self._token = None
        text = explained.text
        if text is None or text.explanation is None or explained.text_input is None:
            self.view.clear()
            return
        self._shown = explained
        current = self._result_view.result
        if current is not None and current.id == explained.id:
            self._result_view.result = explained  # exports of it now carry the explanation
        self.view.show_explanation(explained.text_input, text.explanation)
        self.explained.emit(explained)

    @Slot(int, object)
    def _on_task_failed(self, task_id: int, exc: BaseException) -> None:
        if task_id != self._task:
            return
        self._token = None
        if isinstance(exc, VsaError):
            self.view.show_unavailable(FAILED.format(exc.message))
        else:
            log.error("explanation failed: %r", exc)
            self.view.show_unavailable(UNEXPECTED)
