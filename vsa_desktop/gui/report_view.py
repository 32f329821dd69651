""" "Open batch results…": the batch report in its own window beside the main one, with
export to HTML and PDF. The same ``core.batch_report`` numbers and charts as ``vsa report``.

The GUI thread never reads the file, lays out or rasterises a Matplotlib figure, or writes
an export: one worker streams the JSONL, builds each section's figure and renders it with
Agg to a QImage; the tabs only paint those images. Exports run on the same worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vsa_desktop.core.cancel import CancelToken, check
from vsa_desktop.core.errors import VsaError
from vsa_desktop.gui.dialogs import dialogs_enabled
from vsa_desktop.gui.report_parts import DISAGREE_TAB, ChartImage, mixed_browser, rasterise
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
UNEXPECTED = "The results could not be read; the details are in the log."
NO_COLUMN = "(none)"


@dataclass(frozen=True)
class Loaded:
    """What the worker hands back: the numbers, the thumbnails (the bytes for the exports,
    decoded for the list), one image per chart."""

    data: ReportData
    thumbs: dict[str, bytes]
    charts: list[tuple[str, QImage]]
    thumb_images: dict[str, QImage]


def load_call(
    path: Path, group: str | None, when: str | None, history: Path | None, ratio: float
) -> Any:
    """The worker call: one streaming pass over ``path``, thumbnails, the charts as images."""

    def call(token: CancelToken, _progress: Any) -> Loaded:
        from vsa_desktop.core.batch_report import collect_file
        from vsa_desktop.core.batch_report_charts import sections
        from vsa_desktop.core.batch_report_images import thumbnails

        data = collect_file(path, group, when)
        check(token)
        thumbs = thumbnails(data.mixed, path.parent, False, history)
        charts = []
        for key, build in sections(data):
            check(token)
            charts.append((key, rasterise(build(data), ratio)))
        decoded = {key: QImage.fromData(raw) for key, raw in thumbs.items()}
        return Loaded(data, thumbs, charts, {k: v for k, v in decoded.items() if not v.isNull()})

    return call


def export_call(data: ReportData, thumbs: dict[str, bytes], target: Path) -> Any:
    """The worker call: write the report to ``target`` (.pdf, else HTML), replacing it."""

    def call(_token: CancelToken, _progress: Any) -> Path:
        from vsa_desktop.core.charts import RENDER_LOCK
        from vsa_desktop.core.export import atomic_write

        if target.suffix.lower() == ".pdf":
            from vsa_desktop.core.batch_report_pdf import write_pdf

            with RENDER_LOCK:
                atomic_write(target, lambda s: write_pdf(data, thumbs, s), overwrite=True)
        else:
            from vsa_desktop.core.batch_report_html import write_html

            with RENDER_LOCK:  # the page's charts are Matplotlib SVGs
                page = write_html(data, thumbs)
            atomic_write(target, lambda s: s.write(page), overwrite=True)
        return target

    return call


class ReportView(QDialog):
    """Reads a results JSONL on a worker thread, then shows its report.

    "By" and "Over time" offer the input columns kept with the results; choosing one reads
    the file again (on the worker) with that breakdown.

    Signals:
        loaded(object): the ``ReportData`` is in and shown.
        exported(object): a report file was written (its ``Path``).
        failed(str): reading or exporting failed (the sentence shown).
    """

    loaded = Signal(object)
    exported = Signal(object)
    failed = Signal(str)

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
        self._latest = 0
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.tabs = QTabWidget()
        self.group_box, self.time_box = QComboBox(), QComboBox()
        self.group_box.setAccessibleName("Break the labels down by")
        self.time_box.setAccessibleName("Show the labels over time by")
        self.html_button = QPushButton("Export HTML…")
        self.pdf_button = QPushButton("Export PDF…")
        self.html_button.clicked.connect(lambda: self._on_export_clicked(".html"))
        self.pdf_button.clicked.connect(lambda: self._on_export_clicked(".pdf"))
        self.group_box.currentTextChanged.connect(self._on_column_chosen)
        self.time_box.currentTextChanged.connect(self._on_column_chosen)
        self._layout()
        self.resize(900, 640)
        self._load()

    def _layout(self) -> None:
        bottom = QHBoxLayout()
        for text, box in (("By", self.group_box), ("Over time", self.time_box)):
            label = QLabel(text)
            label.setBuddy(box)
            bottom.addWidget(label)
            bottom.addWidget(box)
        bottom.addStretch(1)
        bottom.addWidget(self.html_button)
        bottom.addWidget(self.pdf_button)
        box = QVBoxLayout(self)
        box.addWidget(self.summary)
        box.addWidget(self.tabs, 1)
        box.addLayout(bottom)

    def _load(self) -> None:
        """Read the file (again) on the worker with the chosen breakdowns."""
        self._set_idle(False)
        self.summary.setText(f"Reading {self.path.name}…")
        ratio = self.devicePixelRatioF() or 1.0
        call = load_call(self.path, self.group_column, self.time_column, self.history_path, ratio)
        self._latest, _token = self.runner.run(call, self._connect_load)

    def _connect_load(self, signals: TaskSignals) -> None:
        signals.returned.connect(self._on_load_returned)
        signals.failed.connect(self._on_task_failed)

    def _on_load_returned(self, task: int, loaded: Loaded) -> None:
        if task != self._latest:
            return  # another breakdown was chosen meanwhile
        self.data, self.thumbs = loaded.data, loaded.thumbs
        data = loaded.data
        self.summary.setText(_summary_of(data))
        self.tabs.clear()
        for key, image in loaded.charts:
            title = TITLES.get(key, key)
            if key == "groups":
                title = f"By {data.group_column}"
            elif key == "trend":
                title = f"Over time ({data.time_column})"
            self.tabs.addTab(ChartImage(image, f"{title} chart"), title)
        self.tabs.addTab(mixed_browser(data, loaded.thumb_images), DISAGREE_TAB)
        self._fill_columns(data)
        self._set_idle(True)
        self.loaded.emit(data)

    def _fill_columns(self, data: ReportData) -> None:
        choices = [NO_COLUMN, *sorted(data.columns)]
        for box, current in (
            (self.group_box, self.group_column),
            (self.time_box, self.time_column),
        ):
            box.blockSignals(True)  # filling the list is not a choice
            box.clear()
            box.addItems(choices)
            box.setCurrentText(current if current in data.columns else NO_COLUMN)
            box.blockSignals(False)

    def _on_column_chosen(self, _text: str) -> None:
        group, when = self.group_box.currentText(), self.time_box.currentText()
        self.group_column = None if group in ("", NO_COLUMN) else group
        self.time_column = None if when in ("", NO_COLUMN) else when
        self._load()

    def _on_task_failed(self, task: int, exc: BaseException) -> None:
        if task != self._latest:
            return  # a load superseded by another choice
        if not isinstance(exc, VsaError):
            log.error("batch report failed", exc_info=exc)
        message = exc.message if isinstance(exc, VsaError) else UNEXPECTED
        self.summary.setText(message)
        self._set_idle(self.data is not None)
        self.failed.emit(message)

    def _set_idle(self, idle: bool) -> None:
        """Export and breakdown choices only while nothing runs and there is a report."""
        on = idle and self.data is not None
        for widget in (self.html_button, self.pdf_button, self.group_box, self.time_box):
            widget.setEnabled(on)

    def _on_export_clicked(self, suffix: str) -> None:
        if not dialogs_enabled():
            return
        default = str(self.path.with_suffix(suffix))
        name = "HTML page (*.html)" if suffix == ".html" else "PDF (*.pdf)"
        chosen, _ = QFileDialog.getSaveFileName(self, "Export the report", default, name)
        if chosen:
            self.export_to(Path(chosen))

    def export_to(self, target: Path) -> None:
        """Write the report shown to ``target`` (.html or .pdf) on the worker; ``exported``
        follows (or ``failed`` with the reason)."""
        if self.data is None:
            return
        self._set_idle(False)
        self.summary.setText(f"Writing {target.name}…")
        self._latest, _token = self.runner.run(
            export_call(self.data, self.thumbs, target), self._connect_export
        )

    def _connect_export(self, signals: TaskSignals) -> None:
        signals.returned.connect(self._on_export_returned)
        signals.failed.connect(self._on_task_failed)

    def _on_export_returned(self, _task: int, target: Path) -> None:
        self._set_idle(True)
        if self.data is not None:
            self.summary.setText(f"{_summary_of(self.data)} Saved {target.name}.")
        self.exported.emit(target)

    def done(self, result: int) -> None:
        self.runner.shutdown()
        super().done(result)


def _summary_of(data: ReportData) -> str:
    from vsa_desktop.core.batch_report import disagree_count
    from vsa_desktop.core.plural import count

    return (
        f"{count(data.rows, 'row')}: {count(data.results, 'reading')}, {data.failed:,} "
        f"failed, {disagree_count(data.disagreements)}."
    )
