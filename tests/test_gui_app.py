"""Start-up: the window shows before any model or heavy library is loaded; logs and icon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("PySide6")

from tests.gui_support import GUI_MARKS
from vsa_desktop.gui import logs
from vsa_desktop.gui.app import app_icon

pytestmark = GUI_MARKS


def test_window_shows_without_loading_torch_or_models(vsa_home):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "VSA_HOME": str(vsa_home),
        "VSA_LAUNCH_T0": repr(time.time()),
    }
    done = subprocess.run(
        [sys.executable, "-m", "vsa_desktop", "--quit-after-show"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["shown_after_s"] > 0
    assert report["torch_loaded"] is False
    assert report["transformers_loaded"] is False
    assert report["onnxruntime_loaded"] is False
    assert (vsa_home / "data" / "logs" / logs.LOG_NAME).is_file()


def test_app_icon_has_every_size(qapp):
    sizes = {(s.width(), s.height()) for s in app_icon().availableSizes()}
    assert {(16, 16), (32, 32), (256, 256)} <= sizes


def test_qt_messages_go_to_logging(qapp, caplog):
    from PySide6.QtCore import qInstallMessageHandler, qWarning

    previous = qInstallMessageHandler(logs._qt_message)
    try:
        with caplog.at_level("WARNING", logger="qt"):
            qWarning("a message from Qt")
    finally:
        qInstallMessageHandler(previous)
    assert "a message from Qt" in caplog.text
