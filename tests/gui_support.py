"""Fixtures for the GUI tests (imported by tests/test_gui_*.py only, so Qt stays optional).

``gui_guard`` fails a test that leaves a worker pool busy, a QThread running or a QTimer
active, and turns dialogs into log lines while it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThread, QTimer

from vsa_desktop.core.settings import Settings
from vsa_desktop.gui.dialogs import set_dialogs_enabled
from vsa_desktop.gui.workers import live_pools

ASTRONAUT = Path(__file__).resolve().parent / "data" / "astronaut.png"

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
    busy = [p for p in live_pools() if p.activeThreadCount() > 0]
    running = [t for t in threads if _alive(t, "isRunning")]
    active = [t for t in timers if _alive(t, "isActive")]
    assert not busy, f"{len(busy)} worker pool(s) still busy after the test"
    assert not running, f"{len(running)} QThread(s) still running after the test"
    assert not active, f"{len(active)} QTimer(s) still active after the test"


def _alive(obj: object, method: str) -> bool:
    try:
        return bool(getattr(obj, method)())
    except RuntimeError:  # the C++ object is gone: it cannot be running
        return False


@pytest.fixture
def gui_settings(tiny_model_dir: Path) -> Settings:
    """Settings for a window: the tiny text model, the local face model, no first-run notice."""
    return Settings(
        text_model=str(tiny_model_dir), vision_backend="local", first_run_notice_dismissed=True
    )
