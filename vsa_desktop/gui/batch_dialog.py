"""The "Batch…" dialog: run a table or a folder of images (local engine) with progress,
cancel and resume, then open its results as a report."""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.plural import count, word
from vsa_desktop.gui.dialogs import dialogs_enabled
from vsa_desktop.gui.workers import TaskRunner, TaskSignals

if TYPE_CHECKING:
    from vsa_desktop.core.batch import BatchSummary
    from vsa_desktop.core.history import HistoryStore
    from vsa_desktop.core.settings import Settings

log = logging.getLogger(__name__)

INPUT_FILTER = "Tables (*.csv *.jsonl *.ndjson *.parquet);;All files (*)"
UPDATES_PER_SECOND = 10
OUTSIDE_OPTION = "Images may lie outside the table's folder"


def default_output(source: Path) -> Path:
    """``posts.csv`` → ``posts.results.jsonl`` beside it (a folder: inside its parent)."""
    return source.with_name(f"{source.stem or source.name}.results.jsonl")


def batch_call(
    source: Path,
    output: Path,
    settings: Settings,
    history: HistoryStore | None,
    stop: CancelToken,
    allow_outside: bool = False,
) -> Any:
    """The worker call: read the input, run the local engine, return the summary.

    ``stop`` is the batch's own token: a stopped batch still returns its summary (the
    runner's token would turn the run into "cancelled" with no summary).
    """

    def call(_token: CancelToken, progress: Any) -> BatchSummary:
        from vsa_desktop.core.batch import (
            BatchOutputs,
            RequestTemplate,
            batch_scope,
            read_items,
            run_batch,
        )
        from vsa_desktop.core.pipeline import settings_request

        items, extra = read_items(source, allow_outside)
        template = RequestTemplate(settings_request(settings))
        last = [0.0]

        def report(processed: int, total: int, _summary: object) -> None:
            now = time.monotonic()
            if processed == total or now - last[0] >= 1 / UPDATES_PER_SECOND:
                last[0] = now
                progress(f"{processed}/{total}", processed / total if total else 1.0)

        return run_batch(
            items,
            BatchOutputs(output, None, extra, source=source),
            template,
            history=history,
            keep_thumbnail=settings.keep_thumbnails,
            progress=report,
            cancel=stop,
            history_scope=batch_scope(source),
        )

    return call


class BatchDialog(QDialog):
    """Choose an input and a results file, run, watch, cancel; a re-run resumes.

    Signals:
        results_opened(object): the user asked to see the results (the JSONL ``Path``).
        run_finished(object): a run ended (its ``BatchSummary``), cancelled or not.
    """

    results_opened = Signal(object)
    run_finished = Signal(object)

    def __init__(
        self,
        settings: Settings,
        history: HistoryStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch")
        self.settings, self.history = settings, history
        self.runner = TaskRunner(self, max_threads=1)
        self.token: CancelToken | None = None
        self.summary: BatchSummary | None = None
        self.input_edit, self.output_edit = QLineEdit(), QLineEdit()
        self.input_edit.setPlaceholderText("a CSV, JSONL or Parquet file, or a folder of images")
        self.output_edit.setPlaceholderText("results.jsonl (a re-run resumes it)")
        self.input_edit.textChanged.connect(self._on_input_changed)
        # Off by default: a table from elsewhere must not pull any file of this computer
        # into the results' thumbnails and the history.
        self.outside_box = QCheckBox(OUTSIDE_OPTION)
        self.progress = QProgressBar()
        self.status = QLabel("Choose what to analyse.")
        self.status.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.cancel_button = QPushButton("Cancel")
        self.open_button = QPushButton("Open results…")
        self.close_button = QPushButton("Close")
        self._layout()
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self._on_open_clicked)
        self.close_button.clicked.connect(self.reject)
        self._set_running(False)

    def _layout(self) -> None:
        form = QFormLayout()
        pick = QHBoxLayout()
        pick.addWidget(self.input_edit)
        for text, folder in (("File…", False), ("Folder…", True)):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, f=folder: self._on_browse_clicked(f))
            pick.addWidget(button)
        form.addRow("Input", pick)
        form.addRow("Results", self.output_edit)
        form.addRow("", self.outside_box)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.start_button, self.cancel_button, self.open_button, self.close_button):
            buttons.addWidget(button)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.progress)
        box.addWidget(self.status)
        box.addLayout(buttons)
        self.resize(640, 240)

    def _on_browse_clicked(self, folder: bool) -> None:
        if not dialogs_enabled():
            return
        if folder:
            chosen = QFileDialog.getExistingDirectory(self, "Choose a folder of images")
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose a table", "", INPUT_FILTER)
        if chosen:
            self.input_edit.setText(chosen)

    def _on_input_changed(self, text: str) -> None:
        if text.strip():
            self.output_edit.setText(str(default_output(Path(text.strip()))))
        self._update_start_label()
        if self.token is None:  # a new input: an earlier run's sentence no longer applies
            self.status.setText(self._idle_sentence())

    def _idle_sentence(self) -> str:
        """What the status line says before a run: what to do next."""
        if not self.input_edit.text().strip():
            return "Choose what to analyse."
        if self.start_button.text() == "Resume":
            return "Press Resume to go on from where the last run stopped."
        return "Press Start to analyse it."

    def _update_start_label(self) -> None:
        out = self.output_edit.text().strip()
        self.start_button.setText("Resume" if out and Path(out).is_file() else "Start")

    def set_paths(self, source: Path, output: Path | None = None) -> None:
        """Fill in the input (and the results file, default beside the input)."""
        self.input_edit.setText(str(source))
        if output is not None:
            self.output_edit.setText(str(output))
        self._update_start_label()
        if self.token is None:
            self.status.setText(self._idle_sentence())

    def start(self) -> None:
        """Run (or resume) the batch on a worker thread."""
        source, output = self.input_edit.text().strip(), self.output_edit.text().strip()
        if not source or not output:
            self.status.setText("Choose an input and a results file first.")
            return
        self.summary = None
        self.progress.setValue(0)
        self.status.setText("Reading the input…")
        self._set_running(True)
        self.token = CancelToken()
        call = batch_call(
            Path(source),
            Path(output),
            self.settings,
            self.history,
            self.token,
            self.outside_box.isChecked(),
        )
        self.runner.run(call, self._connect)

    def _connect(self, signals: TaskSignals) -> None:
        signals.progressed.connect(self._on_task_progressed)
        signals.returned.connect(self._on_task_returned)
        signals.failed.connect(self._on_task_failed)
        signals.cancelled.connect(self._on_task_cancelled)

    def cancel(self) -> None:
        """Stop after the item in progress; what is written stays, a re-run goes on."""
        if self.token is not None:
            self.token.cancel()
            self.status.setText("Stopping after the item in progress…")

    def _on_task_progressed(self, _task: int, stage: str, fraction: float) -> None:
        self.progress.setValue(round(100 * fraction))
        self.status.setText(f"Analysed {stage} items.")

    def _on_task_returned(self, _task: int, summary: BatchSummary) -> None:
        self.summary = summary
        self.progress.setValue(100 if not summary.cancelled else self.progress.value())
        self.status.setText(summary_sentence(summary))
        self._stopped()
        self.run_finished.emit(summary)

    def _on_task_failed(self, _task: int, exc: BaseException) -> None:
        message = (
            exc.message
            if isinstance(exc, VsaError)
            else "Something unexpected went wrong; the details are in the log."
        )
        # A core refusal names the CLI option; the window has a tick box for it instead.
        self.status.setText(for_gui_batch(message))
        self._stopped()

    def _on_task_cancelled(self, _task: int) -> None:  # the dialog closed while running
        self._stopped()

    def _stopped(self) -> None:
        self.token = None
        self._set_running(False)
        self._update_start_label()

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.input_edit.setEnabled(not running)
        self.output_edit.setEnabled(not running)
        self.outside_box.setEnabled(not running)
        out = self.output_edit.text().strip()
        self.open_button.setEnabled(not running and bool(out) and Path(out).is_file())

    def _on_open_clicked(self) -> None:
        self.results_opened.emit(Path(self.output_edit.text().strip()))

    def done(self, result: int) -> None:
        # Closing stops the run after the item in progress (the runner's own cancel does not
        # reach the batch's token); what is written stays and a re-run resumes it.
        if self.token is not None:
            self.token.cancel()
        self.runner.shutdown()
        super().done(result)


def summary_sentence(summary: BatchSummary) -> str:
    """What a run did, in a few sentences: counts, the commonest failure reason, history."""
    said = (
        f"Analysed {summary.done:,} of {count(summary.total, 'item')}; {summary.skipped:,} "
        f"{word(summary.skipped, 'was', 'were')} already done, {len(summary.failures):,} failed."
    )
    if summary.partial:
        said += f" {summary.partial:,} {word(summary.partial, 'was', 'were')} read from the text "
        said += f"alone ({word(summary.partial, 'image', 'images')} missing)."
    if summary.failures:
        reason, n = Counter(message for _key, message in summary.failures).most_common(1)[0]
        said += f" Most failures ({n:,}): {for_gui_batch(reason)}"
    if summary.not_kept and summary.history_problem:
        said += f" {count(summary.not_kept, 'result was', 'results were')} not kept in history: "
        said += for_gui_batch(summary.history_problem)
    if summary.cancelled:
        said += " Stopped: press Resume to go on."
    elif summary.failures:
        said += (
            " The failed row is in the results with its reason; Resume tries it again."
            if len(summary.failures) == 1
            else " Failed rows are in the results with their reason; Resume tries them again."
        )
    return said


def for_gui_batch(message: str) -> str:
    """A core sentence in the window's words (the dialog's tick box for the CLI option)."""
    from vsa_desktop.core.batch_input import OUTSIDE_HINT
    from vsa_desktop.gui.wording import for_gui

    return for_gui(message.replace(OUTSIDE_HINT, f"tick “{OUTSIDE_OPTION}” to allow it"))
