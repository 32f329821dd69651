"""Model management in the GUI: the download dialog, the lite-model links, background ONNX."""

# ruff: noqa: F811  (pytest fixtures imported from tests.gui_support are redefined as args)

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt

from tests.gui_support import GUI_MARKS, gui_guard, gui_settings, wait_for  # noqa: F401
from vsa_desktop.core import models
from vsa_desktop.core.cancel import check
from vsa_desktop.core.errors import ModelError
from vsa_desktop.core.pipeline import LITE_NOTE
from vsa_desktop.core.settings import DEFAULT_TEXT_MODEL, Settings
from vsa_desktop.core.text import convert, loader
from vsa_desktop.gui.download_dialog import ByteProgress, ModelDownloadDialog, megabytes
from vsa_desktop.gui.main_window import MainWindow
from vsa_desktop.gui.model_tasks import wants_conversion
from vsa_desktop.gui.warmup import ActiveModels
from vsa_desktop.gui.wording import ENV_OFFLINE_DOWNLOAD
from vsa_desktop.gui.workers import TaskRunner

pytestmark = GUI_MARKS
WAIT_MS = 120_000
MISSING = "vsa-test/no-such-model"


@pytest.fixture(autouse=True)
def fresh_analyzers() -> Iterator[None]:
    """Loaded analyzers are per process: start and end each test with none."""
    loader.clear_cache()
    yield
    loader.clear_cache()


@pytest.fixture
def runner(gui_guard: None) -> Iterator[TaskRunner]:
    """A worker pool that outlives the dialogs (qtbot deletes those before the guard looks)."""
    pool = TaskRunner()
    yield pool
    assert pool.shutdown()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _open_window(qtbot, settings: Settings) -> MainWindow:
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    return win


@pytest.fixture
def lite_window(qtbot, gui_guard: None) -> Iterator[MainWindow]:
    win = _open_window(
        qtbot,
        Settings(text_model="builtin:lite", vision_backend="none", first_run_notice_dismissed=True),
    )
    yield win
    win.close()


@pytest.fixture
def tiny_window(qtbot, gui_guard: None, gui_settings: Settings) -> Iterator[MainWindow]:
    gui_settings.text_runtime = "auto"
    gui_settings.vision_backend = "none"
    win = _open_window(qtbot, gui_settings)
    yield win
    win.close()


def run_dialog(qtbot, dialog: ModelDownloadDialog) -> None:
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.download_ended, timeout=WAIT_MS):
        dialog.start()


# ------------------------------------------------------------------ the dialog


def test_offline_download_says_downloads_are_off(qtbot, runner):
    dialog = ModelDownloadDialog(None, MISSING, runner)
    downloaded: list[str] = []
    dialog.model_downloaded.connect(downloaded.append)
    run_dialog(qtbot, dialog)
    # HF_HUB_OFFLINE=1 in the tests: the environment, not the toolbar, keeps the app offline
    assert dialog.outcome.text() == ENV_OFFLINE_DOWNLOAD and MISSING in dialog.title.text()
    assert "`" not in dialog.outcome.text() and "--" not in dialog.outcome.text()
    assert dialog.isVisible() and dialog.outcome.isVisible() and not dialog.bar.isVisible()
    assert dialog.cancel_button.text() == "Close" and downloaded == []
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_unreachable_hub_says_so_in_the_dialog(qtbot, runner, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    dialog = ModelDownloadDialog(None, MISSING, runner, offline=False)
    started = time.perf_counter()
    run_dialog(qtbot, dialog)
    assert time.perf_counter() - started < 30
    assert "could not be reached" in dialog.outcome.text()
    assert "Traceback" not in dialog.outcome.text() and dialog.path == ""
    assert "--text-model" not in dialog.outcome.text()  # the window's words, not the CLI's
    assert "text model in Settings" in dialog.outcome.text()


def test_a_local_model_folder_downloads_at_once(qtbot, runner, tiny_model_dir: Path):
    dialog = ModelDownloadDialog(None, str(tiny_model_dir), runner)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.model_downloaded, timeout=WAIT_MS) as blocker:
        dialog.start()
    assert Path(blocker.args[0]) == tiny_model_dir
    assert str(tiny_model_dir) in dialog.outcome.text()
    assert dialog.bar.value() == dialog.bar.maximum() and dialog.cancel_button.text() == "Close"
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)


def _slow_download(total: int, calls: list[int]):
    """Stands in for the hub: sends chunks until the dialog's cancel token is set."""

    def download(model, progress, cancel, *, offline=None):
        done = 0
        while True:
            check(cancel)
            done = min(total, done + 4096)
            calls.append(done)
            progress(done, total)
            time.sleep(0.0005)

    return download


def test_cancel_closes_the_dialog_and_stops_the_worker(qtbot, runner, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(models, "download", _slow_download(329_000_000, calls))
    dialog = ModelDownloadDialog(None, DEFAULT_TEXT_MODEL, runner)
    downloaded: list[str] = []
    dialog.model_downloaded.connect(downloaded.append)
    qtbot.addWidget(dialog)
    dialog.start()
    qtbot.waitUntil(lambda: "MB of 329 MB" in dialog.amount.text(), timeout=WAIT_MS)
    assert dialog.bar.maximum() == 1000 and 0 <= dialog.bar.value() < 1000
    with qtbot.waitSignal(dialog.download_ended, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible()
    stopped_at = len(calls)
    time.sleep(0.05)
    assert len(calls) == stopped_at and not dialog.running and downloaded == []


def test_byte_progress_is_throttled():
    sent: list[float] = []
    counts = ByteProgress(lambda stage, fraction: sent.append(fraction))
    for done in range(1, 10_001):
        counts(done * 100, 1_000_000)
    assert counts.done == 1_000_000 and sent[-1] == 1.0  # the last chunk is always shown
    assert 2 <= len(sent) <= 20
    assert megabytes(12_300_000, 329_000_000) == "12 MB of 329 MB"
    assert megabytes(5_000_000, 0) == "5 MB so far"


# ------------------------------------------------------------------ where it is reachable


def test_lite_note_has_a_download_button_that_opens_the_dialog(qtbot, lite_window):
    win = lite_window
    win.text_input.set_text("I am so happy today, this is wonderful!")
    with qtbot.waitSignal(win.result_shown, timeout=WAIT_MS) as blocker:
        win.analyze()
    assert LITE_NOTE in blocker.args[0].warnings
    button = win.result_view.download_button
    assert button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = win.models.download_dialog
    assert dialog is not None and dialog.isVisible() and dialog.model_id == DEFAULT_TEXT_MODEL
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)
    assert dialog.outcome.text() == ENV_OFFLINE_DOWNLOAD  # HF_HUB_OFFLINE=1 in the tests
    win.result_view.show_result(None)
    assert not button.isVisible()


def test_status_bar_link_and_menu_action_open_the_dialog(qtbot, lite_window):
    win = lite_window
    with qtbot.waitSignal(win.warmup_finished, timeout=WAIT_MS):
        win.start_warmup()
    assert win.status.lite_link.isVisible() and "download full" in win.status.lite_link.text()
    win.status.lite_link.linkActivated.emit("download")
    first = win.models.download_dialog
    assert first is not None and first.isVisible()
    qtbot.waitUntil(lambda: not first.running, timeout=WAIT_MS)
    first.close()
    assert win.actions.download_model in win.menuBar().actions()[0].menu().actions()
    win.actions.download_model.trigger()
    second = win.models.download_dialog
    assert second is not None and second is not first and second.isVisible()
    qtbot.waitUntil(lambda: not second.running, timeout=WAIT_MS)


def test_a_finished_download_reloads_the_text_model(qtbot, lite_window, tiny_model_dir):
    win = lite_window
    win.settings.text_model = str(tiny_model_dir)  # as if the settings named the new folder
    win.settings.text_runtime = "torch"  # no background conversion in this test
    with qtbot.waitSignal(win.warmup_finished, timeout=WAIT_MS) as blocker:
        win.models.open_download_dialog()
    assert blocker.args[0].text_model != "builtin:lite"
    assert not win.status.lite_link.isVisible()


# ------------------------------------------------------------------ background conversion


def test_background_conversion_switches_the_text_model_to_onnx(qtbot, tiny_window):
    win = tiny_window
    percents: list[int] = []
    win.models.model_tasks.conversion_progressed.connect(percents.append)
    warmups: list[object] = []
    win.warmup_finished.connect(warmups.append)
    with qtbot.waitSignal(win.warmup_finished, timeout=WAIT_MS) as warm:
        win.start_warmup()
    assert warm.args[0].text_runtime == "torch"
    assert win.models.model_tasks.converting
    with wait_for(
        qtbot,
        win.models.model_tasks.conversion_finished,
        fails=(win.models.model_tasks.conversion_failed,),
    ) as done:
        pass
    assert not win.models.model_tasks.converting  # cleared before conversion_finished is emitted
    assert done.args[0].startswith("onnx")
    assert percents == sorted(percents) and percents[-1] == 100
    qtbot.waitUntil(lambda: len(warmups) == 2, timeout=WAIT_MS)  # the ONNX copy loads
    assert warmups[1].text_runtime.startswith("onnx")
    assert "(onnx" in win.status.models.text()
    assert not win.status.background.isVisible()
    win.text_input.set_text("What a lovely surprise, thank you so much!")
    with qtbot.waitSignal(win.result_shown, timeout=WAIT_MS) as shown:
        win.analyze()
    assert shown.args[0].text.runtime.startswith("onnx")


def test_analyses_run_while_the_conversion_is_held(qtbot, tiny_window, monkeypatch):
    held, release = threading.Event(), threading.Event()
    real = convert.ensure_onnx

    def slow_ensure(model, progress=None, **kwargs):
        held.set()
        release.wait(WAIT_MS / 1000)
        return real(model, progress, **kwargs)

    monkeypatch.setattr(convert, "ensure_onnx", slow_ensure)
    win = tiny_window
    try:
        with qtbot.waitSignal(win.warmup_finished, timeout=WAIT_MS):
            win.start_warmup()
        qtbot.waitUntil(held.is_set, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: "Optimising text model" in win.status.background.text())
        assert win.status.background.text().endswith("0%")
        win.text_input.set_text("I am scared of the dark.")
        with qtbot.waitSignal(win.result_shown, timeout=WAIT_MS) as shown:
            win.analyze()
        assert shown.args[0].text.runtime == "torch"  # torch serves while ONNX is being made
    finally:
        release.set()
    with wait_for(
        qtbot,
        win.models.model_tasks.conversion_finished,
        fails=(win.models.model_tasks.conversion_failed,),
    ):
        pass


def test_conversion_failure_is_a_status_note_not_a_dialog(qtbot, tiny_window, monkeypatch):
    def failing(model, progress=None, **kwargs):
        raise ModelError("This model could not be exported to ONNX: use the torch runtime.")

    monkeypatch.setattr(convert, "ensure_onnx", failing)
    win = tiny_window
    with qtbot.waitSignal(win.models.model_tasks.conversion_failed, timeout=WAIT_MS) as failed:
        win.start_warmup()
    assert "could not be exported" in failed.args[0]
    assert "not optimised" in win.status.background.text()
    assert "could not be exported" in win.status.background.toolTip()
    assert "(torch)" in win.status.models.text() and not win.result_view.message_bar.text


def test_closing_the_window_stops_the_conversion(qtbot, tiny_window, vsa_home):
    win = tiny_window
    with qtbot.waitSignal(win.models.model_tasks.conversion_started, timeout=WAIT_MS):
        win.start_warmup()
    win.close()  # waits for the worker; gui_guard checks that no thread is left
    assert win.models.model_tasks.shutdown()
    leftovers = (
        [p for p in convert.onnx_root().glob(".*tmp*")] if convert.onnx_root().exists() else []
    )
    assert leftovers == []


def test_no_conversion_for_the_lite_model(qtbot, lite_window):
    with qtbot.waitSignal(lite_window.warmup_finished, timeout=WAIT_MS):
        lite_window.start_warmup()
    assert not lite_window.models.model_tasks.converting
    assert not lite_window.status.background.isVisible()


@pytest.mark.parametrize(
    ("runtime_setting", "model", "runtime", "wanted"),
    [
        ("auto", "some/model", "torch", True),
        ("auto", "some/model", "onnx-int8", False),
        ("torch", "some/model", "torch", False),
        ("auto", "builtin:lite", "numpy", False),
    ],
)
def test_which_models_are_converted(runtime_setting, model, runtime, wanted):
    settings = Settings(text_runtime=runtime_setting)
    active = ActiveModels(model, runtime, "none")
    assert wants_conversion(settings, active) is wanted
