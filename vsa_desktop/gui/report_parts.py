"""The batch report window's parts: charts rendered off the GUI thread and shown as images,
and the list of readings whose text and image disagree as rich text with its thumbnails."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, QSize, Qt, QUrl
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QTextDocument
from PySide6.QtWidgets import QSizePolicy, QTextBrowser, QWidget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from vsa_desktop.core.batch_report import ReportData

THUMB_PX = 64
DISAGREE_TAB = "Channels disagree"


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


def mixed_browser(data: ReportData, thumbs: dict[str, QImage]) -> QTextBrowser:
    """The readings whose channels disagree in a read-only browser, thumbnails as document resources."""
    browser = QTextBrowser()
    browser.setOpenLinks(False)
    browser.setAccessibleName(DISAGREE_TAB)
    for key, image in thumbs.items():
        browser.document().addResource(
            QTextDocument.ResourceType.ImageResource, QUrl(_thumb_url(key)), image
        )
    browser.setHtml(_mixed_html(data, set(thumbs)))
    return browser


def _thumb_url(key: str) -> str:
    return "thumb:" + QUrl.toPercentEncoding(key).data().decode("ascii")


def _mixed_html(data: ReportData, with_thumb: set[str]) -> str:
    """The readings whose channels disagree as rows: thumbnail, verdict and labels, the text, where from."""
    from vsa_desktop.core.batch_report import disagree_intro
    from vsa_desktop.core.batch_report_html import e
    from vsa_desktop.core.verdict import VERDICT_TITLES, percent

    if not data.mixed:
        return f"<p>{disagree_intro(data)}</p>"
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
            f'<span style="color:gray">{e(item.image_name)} · {e(item.row or item.key)}</span></td></tr>'
        )
    intro = f"<p>{disagree_intro(data)}</p>"
    return f'{intro}<table cellspacing="6">{"".join(rows)}</table>'
