""" "Open batch results…": the batch report inside the window (Matplotlib canvases), with
export to HTML and PDF. The same ``core.batch_report`` numbers and charts as ``vsa report``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import VsaError
from vsa_desktop.gui.dialogs import dialogs_enabled
from vsa_desktop.gui.workers import TaskRunner, TaskSignals

if TYPE_CHECKING:
    from vsa_desktop.core.batch_report import ReportData

log = logging.getLogger(__name__)

TITLES = {
    "fused": "Fused labels",
    "channels": "Per channel",
    "agreement": "Agreement",
    "groups": "By group",
    "trend": "Over time",
}


class ReportView(QDialog):
    """Reads a results JSONL on a worker thread, then shows its report.

    Signals:
        loaded(object): the ``ReportData`` is in and shown.
        exported(object): a report file was written (its ``Path``).
    """

    loaded = Signal(object)
    exported = Signal(object)

    def __init__(
        self,
        path: Path,
        group_column: str | None = None,
        time_column: str | None = None,
        history_path: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Batch results: {path.name}")
        self.path, self.history_path = path, history_path
        self.group_column, self.time_column = group_column, time_column
        self.data: ReportData | None = None
        self.thumbs: dict[str, bytes] = {}
        self.runner = TaskRunner(self, max_threads=1)
        self.summary = QLabel(f"Reading {path.name}…")
        self.summary.setWordWrap(True)
        self.tabs = QTabWidget()
        self.html_button = QPushButton("Export HTML…")
        self.pdf_button = QPushButton("Export PDF…")
        self.html_button.clicked.connect(lambda: self._on_export_clicked(".html"))
        self.pdf_button.clicked.connect(lambda: self._on_export_clicked(".pdf"))
        for button in (self.html_button, self.pdf_button):
            button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.html_button)
        buttons.addWidget(self.pdf_button)
        box = QVBoxLayout(self)
        box.addWidget(self.summary)
        box.addWidget(self.tabs, 1)
        box.addLayout(buttons)
        self.resize(900, 680)
        self.runner.run(self._collect_call(), self._connect)

    def _collect_call(self) -> Any:
        path, group, when, history = (
            self.path,
            self.group_column,
            self.time_column,
            self.history_path,
        )

        def call(_token: CancelToken, _progress: Any) -> tuple[ReportData, dict[str, bytes]]:
            from vsa_desktop.core.batch_report import collect_file
            from vsa_desktop.core.batch_report_images import thumbnails

            data = collect_file(path, group, when)
            return data, thumbnails(data.mixed, path.parent, False, history)

        return call

    def _connect(self, signals: TaskSignals) -> None:
        signals.returned.connect(self._on_task_returned)
        signals.failed.connect(self._on_task_failed)

    def _on_task_returned(self, _task: int, value: tuple[ReportData, dict[str, bytes]]) -> None:
        from vsa_desktop.core import batch_report_charts

        self.data, self.thumbs = value
        data = self.data
        mixed = data.verdicts.get("mixed", 0) + data.verdicts.get("divergent", 0)
        self.summary.setText(
            f"{data.rows:,} rows: {data.results:,} readings, {data.failed:,} failed, "
            f"{mixed:,} mixed signals."
        )
        for key, build in batch_report_charts.sections(data):
            canvas = FigureCanvasQTAgg(build(data))
            self.tabs.addTab(canvas, TITLES.get(key, key))
        browser = QTextBrowser()
        browser.setOpenLinks(False)
        browser.setHtml(_mixed_html(data))
        self.tabs.addTab(browser, "Mixed signals")
        for button in (self.html_button, self.pdf_button):
            button.setEnabled(True)
        self.loaded.emit(data)

    def _on_task_failed(self, _task: int, exc: BaseException) -> None:
        self.summary.setText(
            exc.message
            if isinstance(exc, VsaError)
            else "The results could not be read; see the log."
        )

    def _on_export_clicked(self, suffix: str) -> None:
        if not dialogs_enabled():
            return
        default = str(self.path.with_suffix(suffix))
        name = "HTML page (*.html)" if suffix == ".html" else "PDF (*.pdf)"
        chosen, _ = QFileDialog.getSaveFileName(self, "Export the report", default, name)
        if chosen:
            self.export_to(Path(chosen))

    def export_to(self, target: Path) -> Path:
        """Write the report shown to ``target`` (.html or .pdf), replacing it."""
        from vsa_desktop.core.export import atomic_write

        assert self.data is not None
        data, thumbs = self.data, self.thumbs
        if target.suffix.lower() == ".pdf":
            from vsa_desktop.core.batch_report_pdf import write_pdf

            atomic_write(target, lambda stream: write_pdf(data, thumbs, stream), overwrite=True)
        else:
            from vsa_desktop.core.batch_report_html import write_html

            page = write_html(data, thumbs)
            atomic_write(target, lambda stream: stream.write(page), overwrite=True)
        self.exported.emit(target)
        return target

    def done(self, result: int) -> None:
        self.runner.shutdown()
        super().done(result)


def _mixed_html(data: ReportData) -> str:
    from vsa_desktop.core.batch_report_html import e

    if not data.mixed:
        return "<p>No result has a text and an image that name different emotions.</p>"
    rows = "".join(
        f"<li><b>{e(item.verdict)}</b>: text {e(item.text_label)}, image {e(item.vision_label)}, "
        f"agreement {item.agreement:.2f}<br>{e(item.text)}</li>"
        for item in data.mixed
    )
    return f"<p>{data.mixed_total:,} mixed-signal results; the most divergent first:</p><ol>{rows}</ol>"
