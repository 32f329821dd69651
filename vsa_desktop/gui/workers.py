"""Run core calls off the GUI thread: one-off calls, and analyses where the latest request wins.

Everything a worker produces reaches the GUI thread through queued signals; a worker never
touches a widget or a figure. Each task has a signals object created (and released) on the
GUI thread, so no QObject is ever deleted from a worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import Cancelled, HistoryError, VsaError

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from vsa_desktop.core.history import HistoryStore
    from vsa_desktop.core.pipeline import AnalysisRequest
    from vsa_desktop.core.result import AnalysisResult

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 15_000
REAP_RETRY_MS = 20  # how soon to look again for a worker still inside its last emit
# A worker running Python holds the GIL for up to the switch interval (5 ms by default) each
# time the GUI thread needs it, and painting a list calls Python (``data()``) hundreds of
# times: 1 ms keeps those hand-overs short while workers run.
GUI_SWITCH_INTERVAL_S = 0.001
_runners: weakref.WeakSet[TaskRunner] = weakref.WeakSet()


def live_runners() -> list[TaskRunner]:
    """Every task runner made by this module whose Qt object still exists (for the tests)."""
    alive = []
    for runner in list(_runners):
        try:
            runner.objectName()  # raises RuntimeError once the C++ object is deleted
        except RuntimeError:
            _runners.discard(runner)
            continue
        alive.append(runner)
    return alive


def describe_exception(exc: BaseException) -> str:
    """The traceback of ``exc`` as text (for the log and the crash dialog)."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


class TaskSignals(QObject):
    """What one background task reports; lives on the GUI thread.

    Signals:
        started(int): the task began running (task id).
        progressed(int, str, float): task id, stage word, fraction in [0, 1].
        returned(int, object): task id and the call's return value.
        failed(int, object): task id and the exception (a VsaError is expected, others are bugs).
        cancelled(int): the task stopped because its cancel token was set.
        ended(int): always last, whatever happened.
    """

    started = Signal(int)
    progressed = Signal(int, str, float)
    returned = Signal(int, object)
    failed = Signal(int, object)
    cancelled = Signal(int)
    ended = Signal(int)


class _Task(QRunnable):
    """Runs ``call(token, progress)`` on a pool thread and reports through ``signals``."""

    def __init__(
        self,
        task_id: int,
        call: Callable[[CancelToken, Callable[[str, float], None]], Any],
        signals: TaskSignals,
        token: CancelToken,
        emitted: threading.Event,
    ) -> None:
        super().__init__()
        self.task_id = task_id
        self.call = call
        self.signals = signals
        self.token = token
        self.emitted = emitted

    def run(self) -> None:
        signals, task_id = self.signals, self.task_id
        try:
            if self.token.cancelled:
                signals.cancelled.emit(task_id)
                return
            signals.started.emit(task_id)
            value = self.call(self.token, self._progress)
            if self.token.cancelled:
                signals.cancelled.emit(task_id)
            else:
                signals.returned.emit(task_id, value)
        except Cancelled:
            signals.cancelled.emit(task_id)
        except Exception as exc:  # every failure goes to the GUI thread, none is raised here
            if not isinstance(exc, VsaError):
                log.error("background task %d failed:\n%s", task_id, describe_exception(exc))
            signals.failed.emit(task_id, exc)
        finally:
            signals.ended.emit(task_id)
            self.emitted.set()  # from here on this thread no longer touches ``signals``

    def _progress(self, stage: str, fraction: float) -> None:
        self.signals.progressed.emit(self.task_id, stage, float(fraction))


class TaskRunner(QObject):
    """A small thread pool for one-off calls (warm-up, model checks).

    Signals:
        (none of its own: each call's ``TaskSignals`` is returned by ``run``.)
    """

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
            sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        _runners.add(self)
        self._next_id = 0
        self._live: dict[int, tuple[TaskSignals, CancelToken, threading.Event]] = {}
        self._ending: list[tuple[TaskSignals, threading.Event]] = []

    def run(
        self,
        call: Callable[[CancelToken, Callable[[str, float], None]], Any],
        connect: Callable[[TaskSignals], None] | None = None,
    ) -> tuple[int, CancelToken]:
        """Start ``call(cancel_token, progress)`` on a pool thread.

        Args:
            call: the work; it must not touch widgets.
            connect: connects the task's signals; called before the task can start, so
                no signal is missed.

        Returns:
            The task id and its cancel token.
        """
        self._next_id += 1
        task_id = self._next_id
        # Parented: when the worker drops its reference (on the pool thread), the wrapper's
        # end never deletes the C++ object there; it is deleted on the GUI thread after ``ended``.
        signals = TaskSignals(self)
        token = CancelToken()
        emitted = threading.Event()
        self._live[task_id] = (signals, token, emitted)
        signals.ended.connect(self._on_task_ended)
        if connect is not None:
            connect(signals)
        self._pool.start(_Task(task_id, call, signals, token, emitted))
        return task_id, token

    @Slot(int)
    def _on_task_ended(self, task_id: int) -> None:
        entry = self._live.pop(task_id, None)
        if entry is not None:
            self._ending.append((entry[0], entry[2]))
        self._reap()

    @Slot()
    def _reap(self) -> None:
        """Delete the signals of ended tasks once their worker has left ``emit``.

        ``ended`` can arrive here while the worker is still inside ``ended.emit``; deleting
        the signals object then is a use-after-free in that thread (a segfault seen once in
        a few hundred GUI test runs under load). Deleted on the GUI thread, never a worker's.
        """
        waiting = []
        for signals, emitted in self._ending:
            if emitted.is_set():
                signals.deleteLater()
            else:
                waiting.append((signals, emitted))
        self._ending = waiting
        if waiting:
            QTimer.singleShot(REAP_RETRY_MS, self, self._reap)

    @property
    def busy(self) -> bool:
        """True while any task is queued or running."""
        return bool(self._live) or self.active_threads() > 0

    def active_threads(self) -> int:
        """Pool threads running a task now (0 once the pool itself is gone)."""
        try:
            return self._pool.activeThreadCount()
        except RuntimeError:  # the pool was deleted with its parent: nothing can run
            return 0

    def cancel_all(self) -> None:
        """Set every live task's cancel token and drop queued tasks."""
        for _, token, _ in self._live.values():
            token.cancel()
        with contextlib.suppress(RuntimeError):  # the pool may be gone with its parent
            self._pool.clear()

    def shutdown(self, wait_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Cancel everything and wait for the threads; True when they all stopped in time."""
        self.cancel_all()
        try:
            done = self._pool.waitForDone(wait_ms)
        except RuntimeError:
            return True
        if not done:
            log.warning("background tasks still running after %d ms", wait_ms)
        return done


class LatestTask(QObject):
    """One background job at a time on its own worker thread, where only the newest counts.

    Starting a job cancels the one before it; the answer of a job that is no longer the
    newest is dropped, so a slow old read never overwrites a newer one on screen.

    Signals:
        returned(object): the newest job's value, on the GUI thread.
        failed(object): the exception that ended the newest job.
    """

    returned = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.runner = TaskRunner(self, max_threads=1)
        self._token: CancelToken | None = None
        self._latest = 0

    @property
    def running(self) -> bool:
        """True from ``start`` until the newest job's answer arrives (or it is cancelled)."""
        return self._token is not None

    def start(self, call: Callable[[CancelToken, Callable[[str, float], None]], Any]) -> None:
        """Cancel the job before (if any) and run ``call`` on the worker thread."""
        self.cancel()
        self._latest, self._token = self.runner.run(call, self._connect)

    def cancel(self) -> None:
        """Cancel the newest job; its answer, should it still come, is dropped."""
        if self._token is not None:
            self._token.cancel()
        self._token = None

    def shutdown(self) -> None:
        """Cancel and wait for the worker thread."""
        self.cancel()
        self.runner.shutdown()

    def _connect(self, signals: TaskSignals) -> None:
        signals.returned.connect(self._on_returned)
        signals.failed.connect(self._on_failed)

    @Slot(int, object)
    def _on_returned(self, task_id: int, value: object) -> None:
        if task_id == self._latest and self._token is not None:
            self._token = None
            self.returned.emit(value)

    @Slot(int, object)
    def _on_failed(self, task_id: int, exc: object) -> None:
        if task_id == self._latest and self._token is not None:
            self._token = None
            self.failed.emit(exc)


class HistoryBox:
    """A history store that is being opened on a worker thread.

    Opening checks the whole file (seconds for a big history, 12 s for 100,000 results on a
    cold disk cache), so the window opens it in the background. An analysis that finishes
    first is shown at once and left here; it is written when the opening ends, before the
    history list reads its first page.
    """

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._pending: list[tuple[AnalysisResult, PILImage.Image | None, bool]] = []
        self.store: HistoryStore | None = None
        self.problem = ""

    def fill(self, store: HistoryStore | None, problem: str) -> None:
        """The opening ended (``store`` None: it could not be opened, ``problem`` says why)."""
        with self._lock:
            for result, thumbnail, keep in self._pending if store is not None else ():
                try:
                    store.add(result, thumbnail, keep)
                except HistoryError as exc:
                    log.warning("history write failed: %s (%s)", exc.message, exc.detail)
                    problem = problem or exc.message
            self._pending.clear()
            self.store, self.problem = store, problem
            self._ready.set()

    def add_when_open(
        self, result: AnalysisResult, thumbnail: PILImage.Image | None, keep: bool
    ) -> bool:
        """Leave ``result`` to be written when the opening ends; False if it has ended."""
        with self._lock:
            if self._ready.is_set():
                return False
            self._pending.append((result, thumbnail, keep))
            return True

    @property
    def ready(self) -> bool:
        """True once the opening has ended."""
        return self._ready.is_set()


@dataclass(frozen=True)
class HistoryTarget:
    """Where (and how) a finished analysis is recorded, in the worker."""

    store: HistoryStore | HistoryBox
    thumbnail_source: PILImage.Image | None = None
    keep_thumbnail: bool = True


def analysis_call(
    request: AnalysisRequest, history: HistoryTarget | None
) -> Callable[[CancelToken, Callable[[str, float], None]], tuple[AnalysisResult, str]]:
    """Build the worker call: ``core.pipeline.analyze`` then the history write.

    The call returns ``(result, history_problem)``; a history write that fails does not
    lose the result, its one sentence is passed on instead.
    """

    def call(
        token: CancelToken, progress: Callable[[str, float], None]
    ) -> tuple[AnalysisResult, str]:
        from vsa_desktop.core.pipeline import analyze

        result = analyze(request, cancel=token, progress=progress)
        if token.cancelled or history is None:
            return result, ""
        store = history.store
        if isinstance(store, HistoryBox):
            box = store
            if box.add_when_open(result, history.thumbnail_source, history.keep_thumbnail):
                return result, ""  # shown now, written when the history is open
            store = box.store
            if store is None:
                return result, ""  # no history file: the window said why when it opened
        try:
            store.add(result, history.thumbnail_source, history.keep_thumbnail)
        except HistoryError as exc:
            log.warning("history write failed: %s (%s)", exc.message, exc.detail)
            return result, exc.message
        return result, ""

    return call


class AnalysisController(QObject):
    """Runs analyses in the background; a new request cancels the previous one.

    Only the latest request's outcome is passed on: results of superseded requests are
    dropped even if they finish.

    Signals:
        analysis_started(int): request id.
        analysis_progressed(int, str, float): request id, stage, fraction.
        analysis_finished(int, object, str): request id, the AnalysisResult, and a history
            problem sentence (empty when the result was recorded or history is off).
        analysis_failed(int, object): request id and the exception.
        analysis_cancelled(int): the latest request was cancelled.
        busy_changed(bool): True while the latest request is running.
    """

    analysis_started = Signal(int)
    analysis_progressed = Signal(int, str, float)
    analysis_finished = Signal(int, object, str)
    analysis_failed = Signal(int, object)
    analysis_cancelled = Signal(int)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Two threads: a superseded analysis finishing its current stage never delays the new one.
        self._runner = TaskRunner(self, max_threads=2)
        self._latest = 0
        self._token: CancelToken | None = None
        self._busy = False

    @property
    def latest_id(self) -> int:
        """Id of the most recent request (0 before the first)."""
        return self._latest

    @property
    def busy(self) -> bool:
        """True while the latest request is running."""
        return self._busy

    def submit(self, request: AnalysisRequest, history: HistoryTarget | None = None) -> int:
        """Start analysing ``request``, cancelling the previous one; return the request id."""
        if self._token is not None:
            self._token.cancel()
        task_id, token = self._runner.run(analysis_call(request, history), self._connect)
        self._latest, self._token = task_id, token
        self._set_busy(True)
        return task_id

    def _connect(self, signals: TaskSignals) -> None:
        signals.started.connect(self._on_task_started)
        signals.progressed.connect(self._on_task_progressed)
        signals.returned.connect(self._on_task_returned)
        signals.failed.connect(self._on_task_failed)
        signals.cancelled.connect(self._on_task_cancelled)

    def cancel(self) -> None:
        """Cancel the running request (it reports ``analysis_cancelled`` when it stops)."""
        if self._token is not None:
            self._token.cancel()

    def shutdown(self, wait_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Cancel all requests and wait for the worker threads to stop."""
        self._latest += 1_000_000  # nothing that arrives afterwards is current
        return self._runner.shutdown(wait_ms)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    @Slot(int)
    def _on_task_started(self, task_id: int) -> None:
        if task_id == self._latest:
            self.analysis_started.emit(task_id)

    @Slot(int, str, float)
    def _on_task_progressed(self, task_id: int, stage: str, fraction: float) -> None:
        if task_id == self._latest:
            self.analysis_progressed.emit(task_id, stage, fraction)

    @Slot(int, object)
    def _on_task_returned(self, task_id: int, value: tuple[AnalysisResult, str]) -> None:
        if task_id != self._latest:
            log.debug("dropping the result of superseded request %d", task_id)
            return
        self._set_busy(False)
        result, history_problem = value
        self.analysis_finished.emit(task_id, result, history_problem)

    @Slot(int, object)
    def _on_task_failed(self, task_id: int, exc: BaseException) -> None:
        if task_id == self._latest:
            self._set_busy(False)
            self.analysis_failed.emit(task_id, exc)

    @Slot(int)
    def _on_task_cancelled(self, task_id: int) -> None:
        if task_id == self._latest:
            self._set_busy(False)
            self.analysis_cancelled.emit(task_id)
