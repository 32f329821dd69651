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

from PySide6.QtCore import QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from vsa_desktop.core.cancel import CancelToken, check
from vsa_desktop.core.errors import VsaError
from vsa_desktop.gui.dialogs import dialogs_enabled
from vsa_desktop.gui.workers import TaskRunner, TaskSignals

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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
THUMB_PX = 64


@dataclass(frozen=True)
class Loaded:
    """What the worker hands back: the numbers, the thumbnails (the bytes for the exports,
    decoded for the list), one image per chart."""

    data: ReportData
    thumbs: dict[str, bytes]
    charts: list[tuple[str, QImage]]
    thumb_images: dict[str, QImage]


def rasterise(figure: Figure, ratio: float) -> QImage:
    """``figure`` drawn by Agg at ``ratio`` device pixels per pixel (worker threads only)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from vsa_desktop.core.batch_report_charts import quiet_glyphs
    from vsa_desktop.core.charts import RENDER_LOCK

    with RENDER_LOCK:  # Matplotlib's font cache and text layout are shared between threads
        figure.set_dpi(figure.get_dpi() * ratio)
        canvas = FigureCanvasAgg(figure)
        quiet_glyphs(canvas.draw)
        width, height = canvas.get_width_height(physical=True)
        data = bytes(canvas.buffer_rgba())
    image = QImage(data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()
    image.setDevicePixelRatio(ratio)
    return image


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


class ChartImage(QWidget):
    """Paints one rendered chart, scaled to fit and centred (no Matplotlib on this thread)."""

    def __init__(self, image: QImage, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = image
        self.setAccessibleName(name)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 120)

    def sizeHint(self) -> QSize:
        ratio = self.image.devicePixelRatio() or 1.0
        return QSize(round(self.image.width() / ratio), round(self.image.height() / ratio))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.white)  # the charts are drawn on white
        size = self.sizeHint().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        if size.width() > self.sizeHint().width():  # never blow a chart up past its size
            size = self.sizeHint()
        x, y = (self.width() - size.width()) / 2, (self.height() - size.height()) / 2
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(QRectF(x, y, size.width(), size.height()), self.image)
        painter.end()


class ReportView(QDialog):
    """Reads a results JSONL on a worker thread, then shows its report.

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
        self.path = path
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
        self._set_exportable(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.html_button)
        buttons.addWidget(self.pdf_button)
        box = QVBoxLayout(self)
        box.addWidget(self.summary)
        box.addWidget(self.tabs, 1)
        box.addLayout(buttons)
        self.resize(900, 640)
        call = load_call(
            path, group_column, time_column, history_path, self.devicePixelRatioF() or 1.0
        )
        self.runner.run(call, self._connect_load)

    def _connect_load(self, signals: TaskSignals) -> None:
        signals.returned.connect(self._on_load_returned)
        signals.failed.connect(self._on_task_failed)

    def _on_load_returned(self, _task: int, loaded: Loaded) -> None:
        self.data, self.thumbs = loaded.data, loaded.thumbs
        data = loaded.data
        self.summary.setText(_summary_of(data))
        for key, image in loaded.charts:
            title = TITLES.get(key, key)
            self.tabs.addTab(ChartImage(image, f"{title} chart"), title)
        browser = QTextBrowser()
        browser.setOpenLinks(False)
        browser.setAccessibleName("Mixed signals")
        for key, image in loaded.thumb_images.items():
            browser.document().addResource(
                QTextDocument.ResourceType.ImageResource, QUrl(_thumb_url(key)), image
            )
        browser.setHtml(_mixed_html(data, set(loaded.thumb_images)))
        self.tabs.addTab(browser, "Mixed signals")
        self._set_exportable(True)
        self.loaded.emit(data)

    def _on_task_failed(self, _task: int, exc: BaseException) -> None:
        if not isinstance(exc, VsaError):
            log.error("batch report failed", exc_info=exc)
        message = exc.message if isinstance(exc, VsaError) else UNEXPECTED
        self.summary.setText(message)
        self._set_exportable(self.data is not None)
        self.failed.emit(message)

    def _set_exportable(self, on: bool) -> None:
        for button in (self.html_button, self.pdf_button):
            button.setEnabled(on)

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
        self._set_exportable(False)
        self.summary.setText(f"Writing {target.name}…")
        self.runner.run(export_call(self.data, self.thumbs, target), self._connect_export)

    def _connect_export(self, signals: TaskSignals) -> None:
        signals.returned.connect(self._on_export_returned)
        signals.failed.connect(self._on_task_failed)

    def _on_export_returned(self, _task: int, target: Path) -> None:
        self._set_exportable(True)
        if self.data is not None:
            self.summary.setText(f"{_summary_of(self.data)} Saved {target.name}.")
        self.exported.emit(target)

    def done(self, result: int) -> None:
        self.runner.shutdown()
        super().done(result)


def _summary_of(data: ReportData) -> str:
    mixed = data.verdicts.get("mixed", 0) + data.verdicts.get("divergent", 0)
    return (
        f"{data.rows:,} rows: {data.results:,} readings, {data.failed:,} failed, "
        f"{mixed:,} mixed signals."
    )


def _thumb_url(key: str) -> str:
    return "thumb:" + QUrl.toPercentEncoding(key).data().decode("ascii")


def _mixed_html(data: ReportData, with_thumb: set[str]) -> str:
    """The mixed-signal items as rows: thumbnail, verdict and labels, the text, where from."""
    from vsa_desktop.core.batch_report_html import e
    from vsa_desktop.core.verdict import VERDICT_TITLES, percent

    if not data.mixed:
        return "<p>No result has a text and an image that name different emotions.</p>"
    rows = []
    for item in data.mixed:
        thumb = (
            f'<img src="{_thumb_url(item.key)}" width="{THUMB_PX}">'
            if item.key in with_thumb
            else ""
        )
        tags = " · ".join(
            (
                f"<b>{e(VERDICT_TITLES.get(item.verdict, item.verdict))}</b>",
                f"text {e(item.text_label)}",
                f"image {e(item.vision_label)}",
                f"fused {e(item.fused_label)} {percent(item.confidence)}",
                f"agreement {item.agreement:.2f}",
            )
        )
        rows.append(
            f'<tr><td width="{THUMB_PX + 8}">{thumb}</td><td>{tags}<br>{e(item.text)}<br>'
            f'<span style="color:gray">{e(item.image_name)} · row {e(item.key)}</span></td></tr>'
        )
    intro = (
        f"<p>{data.mixed_total:,} results have a text and an image that name different "
        f"emotions; the {len(data.mixed)} most divergent (lowest agreement) first.</p>"
    )
    return f'{intro}<table cellspacing="6">{"".join(rows)}</table>'
