"""Fixtures for the GUI tests (imported by tests/test_gui_*.py only, so Qt stays optional).

``gui_guard`` fails a test that leaves a worker pool busy, a QThread running or a QTimer
active, and turns dialogs into log lines while it runs. Whatever a test left behind is
stopped before the next test starts, so one failing test never makes later ones fail.

``wait_for`` waits for a signal and fails at once when one of the given failure signals
arrives instead (a failed task never costs the whole timeout).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QThread, QTimer, SignalInstance
from PySide6.QtWidgets import QApplication

from vsa_desktop.core.settings import Settings
from vsa_desktop.gui.dialogs import set_dialogs_enabled
from vsa_desktop.gui.workers import live_runners

ASTRONAUT = Path(__file__).resolve().parent / "data" / "astronaut.png"
WAIT_MS = 120_000
CLEANUP_WAIT_MS = 30_000
SETTLE_S = 1.0

GUI_MARKS = [
    pytest.mark.gui,
    pytest.mark.qt_log_level_fail("WARNING"),
    # The offscreen platform plugin says this whenever a window is shown; it is not ours.
    pytest.mark.qt_log_ignore("does not support propagateSizeHints"),
]


@pytest.fixture
def gui_guard(monkeypatch: pytest.MonkeyPatch, qapp: object) -> Iterator[None]:
    """No dialogs during the test; no thread, pool task or timer left running after it."""
    threads: list[QThread] = []
    timers: list[QTimer] = []
    thread_start, timer_start = QThread.start, QTimer.start

    def record_thread(self: QThread, *args: object) -> None:
        threads.append(self)
        thread_start(self, *args)

    def record_timer(self: QTimer, *args: object) -> None:
        timers.append(self)
        timer_start(self, *args)

    monkeypatch.setattr(QThread, "start", record_thread)
    monkeypatch.setattr(QTimer, "start", record_timer)
    set_dialogs_enabled(False)
    yield
    set_dialogs_enabled(None)
    busy = _busy_runners()
    running = [t for t in threads if _alive(t, "isRunning")]
    active = [t for t in timers if _alive(t, "isActive")]
    _clean_up(threads, timers)
    assert not busy, f"{len(busy)} worker pool(s) still busy after the test"
    assert not running, f"{len(running)} QThread(s) still running after the test"
    assert not active, f"{len(active)} QTimer(s) still active after the test"


def _busy_runners() -> list[object]:
    """Runners still working once the signals already on their way have landed.

    A task that has delivered its result still needs a moment to emit ``ended`` and leave
    its thread; only work that goes on past ``SETTLE_S`` was left running by the test.
    """
    deadline = time.monotonic() + SETTLE_S
    while True:
        QApplication.processEvents()
        busy = [r for r in live_runners() if r.busy]
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(0.005)


def _clean_up(threads: list[QThread], timers: list[QTimer]) -> None:
    """Stop whatever the test left (its failure is reported; the next test starts clean)."""
    for widget in QApplication.topLevelWidgets():
        with contextlib.suppress(RuntimeError):
            if widget.isVisible():
                widget.close()
    for runner in live_runners():
        runner.shutdown(CLEANUP_WAIT_MS)
    for thread in threads:
        with contextlib.suppress(RuntimeError):
            thread.quit()
            thread.wait(CLEANUP_WAIT_MS)
    for timer in timers:
        with contextlib.suppress(RuntimeError):
            timer.stop()
    QApplication.processEvents()  # queued signals of the stopped tasks land here, not later


def _alive(obj: object, method: str) -> bool:
    try:
        return bool(getattr(obj, method)())
    except RuntimeError:  # the C++ object is gone: it cannot be running
        return False


class Waited:
    """What ``wait_for`` caught: the arguments of the awaited signal."""

    def __init__(self) -> None:
        self.args: list[Any] = []


@contextlib.contextmanager
def wait_for(
    qtbot: Any,
    signal: SignalInstance,
    fails: tuple[SignalInstance, ...] = (),
    timeout: int = WAIT_MS,
) -> Iterator[Waited]:
    """Wait (after the ``with`` body) for ``signal``; any of ``fails`` ends the wait as a failure.

    Raises:
        AssertionError: a failure signal came first (its arguments are in the message), or
            nothing came within ``timeout`` ms.
    """
    caught = Waited()
    failed: list[tuple[Any, ...]] = []
    done: list[bool] = []

    def on_signal(*args: Any) -> None:
        if not done:
            caught.args = list(args)
            done.append(True)

    def on_failure(*args: Any) -> None:
        failed.append(args)

    signal.connect(on_signal)
    for failure in fails:
        failure.connect(on_failure)
    try:
        yield caught
        qtbot.waitUntil(lambda: bool(done or failed), timeout=timeout)
    finally:
        with contextlib.suppress(RuntimeError):
            signal.disconnect(on_signal)
            for failure in fails:
                failure.disconnect(on_failure)
    assert not failed, f"the task failed instead: {failed[0]}"


def history_ready(qtbot: Any, window: Any) -> None:
    """Wait until the window's history is open and its first page is on screen."""
    box = window.history_box  # ready in the worker; the window takes the store a moment later

    def ready() -> bool:
        return box.ready and window.history is box.store and not window.history_panel.busy

    qtbot.waitUntil(ready, timeout=WAIT_MS)


def shown_window(qtbot: Any, settings: Settings, active: bool = False) -> Any:
    """A MainWindow on ``settings``, shown with its history open (and focused if ``active``)."""
    from vsa_desktop.gui.main_window import MainWindow

    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    history_ready(qtbot, win)
    if active:
        win.activateWindow()
        qtbot.waitActive(win)
    return win


@pytest.fixture
def gui_settings(tiny_model_dir: Path) -> Settings:
    """Settings for a window: the tiny text model, the local face model, no first-run notice."""
    return Settings(
        text_model=str(tiny_model_dir), vision_backend="local", first_run_notice_dismissed=True
    )
