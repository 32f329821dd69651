"""Background model work after warm-up: converting the text model to ONNX while torch serves."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from vsa_desktop.core.cancel import CancelToken, check
from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.settings import Settings
from vsa_desktop.gui.warmup import ActiveModels
from vsa_desktop.gui.workers import TaskRunner, TaskSignals

log = logging.getLogger(__name__)


def wants_conversion(settings: Settings, active: ActiveModels) -> bool:
    """True when torch serves a transformers model that ``auto`` would run faster on ONNX."""
    from vsa_desktop.core.text.loader import LITE_ID

    return (
        settings.text_runtime == "auto"
        and active.text_model != LITE_ID
        and active.text_runtime == "torch"
    )


def convert_call(model: str) -> Callable[[CancelToken, Callable[[str, float], None]], Any]:
    """The worker call: check the model's status, then ``ensure_onnx`` (None: nothing to do).

    The cancel token is checked at every progress step, so closing the app stops the
    conversion between its stages (the core removes its half-written folder).
    """

    def call(token: CancelToken, progress: Callable[[str, float], None]) -> Any:
        from vsa_desktop.core import models
        from vsa_desktop.core.text.convert import ensure_onnx

        state = models.status(model)
        if state.builtin or state.onnx_ready or not state.torch_ready:
            return None

        def report(stage: str, fraction: float) -> None:
            check(token)
            progress(stage, fraction)

        return ensure_onnx(model, report, cancel=token)

    return call


class ModelTasks(QObject):
    """Owns a one-thread runner for slow model work that must never block analyses.

    Signals:
        conversion_started(str): the model being converted.
        conversion_progressed(int): percent done.
        conversion_finished(str): the runtime ``auto`` now uses (onnx-int8, onnx or torch);
            ``converting`` is already False when it is emitted.
        conversion_failed(str): one sentence saying why (also logged); ``converting`` is
            already False.
    """

    conversion_started = Signal(str)
    conversion_progressed = Signal(int)
    conversion_finished = Signal(str)
    conversion_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = TaskRunner(self, max_threads=1)
        self._token: CancelToken | None = None
        self._model = ""
        self._tried: set[str] = set()  # one attempt per model and session: no retry loops

    @property
    def converting(self) -> bool:
        """True while a conversion task is queued or running."""
        return self._token is not None

    def after_warmup(self, settings: Settings, active: ActiveModels) -> bool:
        """Start converting the active text model when that helps; True when it started."""
        if self.converting or not wants_conversion(settings, active):
            return False
        from vsa_desktop.core.text.loader import resolve_model

        model = resolve_model(settings.effective_text_model())
        if model in self._tried:
            return False
        self._model = model
        self._tried.add(model)
        _, self._token = self._runner.run(convert_call(self._model), self._connect)
        return True

    def _connect(self, signals: TaskSignals) -> None:
        signals.started.connect(self._on_task_started)
        signals.progressed.connect(self._on_task_progressed)
        signals.returned.connect(self._on_task_returned)
        signals.failed.connect(self._on_task_failed)
        signals.ended.connect(self._on_task_ended)

    def shutdown(self) -> bool:
        """Cancel the conversion and wait for its thread; True when it stopped in time."""
        return self._runner.shutdown()

    def _on_task_started(self, task_id: int) -> None:
        self.conversion_started.emit(self._model)

    def _on_task_progressed(self, task_id: int, stage: str, fraction: float) -> None:
        self.conversion_progressed.emit(round(100 * fraction))

    def _on_task_returned(self, task_id: int, report: Any) -> None:
        from vsa_desktop.core.text.loader import forget

        self._token = None  # ``converting`` is False for whoever handles the signals below
        if report is None:
            log.info("no ONNX conversion needed for %s", self._model)
            return
        forget(self._model)  # a reused report did not go through the core's own forget()
        fid = report.fidelity
        log.info(
            "ONNX copy of %s: %s (int8 agrees with torch on %.1f%% of %d probes, mean |dp| "
            "%.4f, max %.4f; fp32 max |dp| %.2g; %.1f s)%s",
            self._model,
            report.best_runtime,
            100 * fid.agreement,
            fid.probes,
            fid.mean_abs_diff,
            fid.max_abs_diff,
            fid.fp32_max_abs_diff,
            report.seconds,
            f": {report.reason}" if report.reason else "",
        )
        self.conversion_finished.emit(report.best_runtime)

    def _on_task_failed(self, task_id: int, exc: BaseException) -> None:
        self._token = None
        if isinstance(exc, VsaError):
            message = exc.message
            log.warning("ONNX conversion of %s failed: %s (%s)", self._model, message, exc.detail)
        else:
            message = "The text model could not be optimised; the details are in the log."
        self.conversion_failed.emit(message)

    def _on_task_ended(self, task_id: int) -> None:
        self._token = None
