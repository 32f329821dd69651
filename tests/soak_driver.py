"""Drive the real desktop app through many analyses in one session, then close the window.

Run as a subprocess by ``tests/test_gui_soak.py``: ``python -m tests.soak_driver N IMAGE``.
The app starts through its real entry point (``vsa_desktop.__main__.main``); the driver only
makes the QApplication first (``gui.app.run`` uses an existing one) so that it can schedule
its own steps on the GUI thread. Every step is what a user does: type a text, sometimes drop
an image, press Analyze, wait for the result; at the end the window is closed as a user
closes it. It prints one JSON line (analyses done, drift of ``sys.getrefcount(None)`` and of
``True``/``False``) before the interpreter shuts down, which is where a refcount bug aborts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

TEXTS = [
    "Best day ever, we won the final!",
    "I miss her so much, the house is empty.",
    "This is disgusting, how could they do that?",
    "Wait, what? I did not see that coming!",
    "I'm scared of what the test results will say.",
    "Stop lying to me, I am furious.",
    "The meeting is at three in the second room.",
]


class Driver:
    """Types, drops, analyzes and finally closes the main window, one step per event loop turn."""

    def __init__(self, count: int, image: Path) -> None:
        self.count = count
        self.image = image
        self.done = 0
        self.window: object = None
        self.baseline: dict[str, int] = {}

    def start(self) -> None:
        from vsa_desktop.gui.main_window import MainWindow

        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows:
            QTimer.singleShot(50, self.start)
            return
        self.window = windows[0]
        self.window.result_shown.connect(self._on_result_shown)
        self.window.controller.analysis_failed.connect(self._on_failed)
        self.baseline = _refcounts()
        self._next()

    def _next(self) -> None:
        window = self.window
        if self.done >= self.count:
            drift = {k: v - self.baseline[k] for k, v in _refcounts().items()}
            print(json.dumps({"analyses": self.done, "refcount_drift": drift}), flush=True)
            window.close()
            return
        window.text_input.editor.setPlainText(TEXTS[self.done % len(TEXTS)])
        if self.done % 5 == 0:
            window.drop_zone.load_path(self.image)
        elif self.done % 5 == 3:
            window.drop_zone.clear()
        window.analyze()

    def _on_result_shown(self, _result: object) -> None:
        self.done += 1
        QTimer.singleShot(0, self._next)

    def _on_failed(self, _request_id: int, exc: BaseException) -> None:
        print(json.dumps({"failed": repr(exc), "analyses": self.done}), flush=True)
        self.window.close()


def _refcounts() -> dict[str, int]:
    return {
        name: sys.getrefcount(obj)
        for name, obj in (("None", None), ("True", True), ("False", False))
    }


def main() -> int:
    count, image = int(sys.argv[1]), Path(sys.argv[2])
    app = QApplication([sys.argv[0]])
    driver = Driver(count, image)
    QTimer.singleShot(0, driver.start)
    from vsa_desktop.__main__ import main as app_main

    code = app_main(["--no-warmup"])
    del app
    return code


if __name__ == "__main__":
    sys.exit(main())
