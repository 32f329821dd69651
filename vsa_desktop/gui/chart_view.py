"""The result chart: ``core.charts.result_figure`` rendered by Agg on a worker, shown as an image.

The GUI thread never lays out or rasterises a Matplotlib figure: it hands the result, the
size and the palette colours to a worker, gets back a QImage (and the figure, to read the
bars back), and paints the image. A new result or size supersedes a render in flight.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QImage, QPainter, QPaintEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from vsa_desktop.core.cancel import CancelToken, check
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.gui.workers import LatestTask

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

EMPTY = "The scores of the seven emotions appear here after an analysis."
NARROW_PX = 480
RESIZE_SETTLE_MS = 120


@dataclass(frozen=True)
class ChartSpec:
    """What one render needs, all plain data (safe to hand to a worker)."""

    width: int
    height: int
    ratio: float
    background: str
    foreground: str


@dataclass(frozen=True)
class Rendered:
    """A finished render: the image for the screen and the figure it came from."""

    image: QImage
    figure: Figure
    thread: int


def render_chart(result: AnalysisResult, spec: ChartSpec, token: CancelToken) -> Rendered:
    """Build and rasterise the result figure with fixed margins (no layout engine); worker only."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from vsa_desktop.core.charts import RENDER_LOCK, result_figure

    dpi = 100 * spec.ratio
    width_in, height_in = max(spec.width, 50) / 100, max(spec.height, 50) / 100
    narrow = spec.width < NARROW_PX
    figure = Figure(figsize=(width_in, height_in), dpi=dpi)
    with RENDER_LOCK:
        check(token)
        result_figure(result, figure=figure, margins=_margins(width_in, height_in, narrow))
        for ax in figure.axes:
            ax.set_title("", loc="left")  # the view above says the same in words
            ax.tick_params(
                axis="x", labelsize=8 if narrow else 10, labelrotation=30 if narrow else 0
            )
        figure.set_facecolor(spec.background)
        for ax in figure.axes:
            ax.set_facecolor(spec.background)
            ax.tick_params(colors=spec.foreground)
            for spine in ax.spines.values():
                spine.set_color(spec.foreground)
        for text in figure.findobj(Text):
            text.set_color(spec.foreground)
        check(token)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        width, height = canvas.get_width_height(physical=True)
        data = bytes(canvas.buffer_rgba())
    image = QImage(data, width, height, 4 * width, QImage.Format.Format_RGBA8888).copy()
    image.setDevicePixelRatio(spec.ratio)
    return Rendered(image, figure, threading.get_ident())


def _margins(width_in: float, height_in: float, narrow: bool) -> dict[str, float]:
    """Fixed margins in figure fractions: room for the y label, the ticks and the legend."""
    left, right, top = 0.62, 0.12, 0.38
    bottom = 0.62 if narrow else 0.42
    return {
        "left": min(0.4, left / width_in),
        "right": 1 - min(0.2, right / width_in),
        "top": 1 - min(0.35, top / height_in),
        "bottom": min(0.45, bottom / height_in),
    }


class ChartView(QWidget):
    """Shows one result's grouped bars; colours follow the widget palette (light or dark).

    Signals:
        chart_drawn(object): the chart of this result (or None) is on screen.
    """

    chart_drawn = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(220, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Emotion scores chart")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.result: AnalysisResult | None = None
        self.figure: Figure | None = None
        self.render_thread = 0
        self._image: QImage | None = None
        self._task = LatestTask(self)
        self._task.returned.connect(self._on_task_returned)
        self._task.failed.connect(self._on_task_failed)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(RESIZE_SETTLE_MS)
        self._settle.timeout.connect(self._on_settle_timeout)

    def sizeHint(self) -> QSize:
        return QSize(600, 360)

    def show_result(self, result: AnalysisResult | None) -> None:
        """Draw ``result`` (None shows where the chart will appear); ``chart_drawn`` follows."""
        self.result = result
        self.setAccessibleDescription(_describe(result))
        if result is None:
            self._task.cancel()
            self._image, self.figure = None, None
            self.update()
            self.chart_drawn.emit(result)
            return
        self._render()

    def bar_heights(self) -> dict[str, list[float]]:
        """The drawn bar heights per channel label (text, vision, fused), in emotion order."""
        if self.figure is None:
            return {}
        from vsa_desktop.core.charts import bar_heights

        return bar_heights(self.figure)

    @property
    def rendering(self) -> bool:
        """True while a render is due (after a resize), queued or running."""
        return self._task.running or self._settle.isActive()

    def shutdown(self) -> None:
        """Stop rendering and wait for the worker."""
        self._settle.stop()
        self._task.shutdown()

    # ------------------------------------------------------------------ rendering

    def _spec(self) -> ChartSpec:
        palette = self.palette()
        return ChartSpec(
            width=max(self.width(), self.minimumWidth()),
            height=max(self.height(), self.minimumHeight()),
            ratio=self.devicePixelRatioF(),
            background=palette.color(QPalette.ColorRole.Base).name(),
            foreground=palette.color(QPalette.ColorRole.Text).name(),
        )

    def _render(self) -> None:
        result = self.result
        if result is None:
            return
        spec = self._spec()

        def call(token: CancelToken, progress: Callable[[str, float], None]) -> Any:
            return render_chart(result, spec, token)

        self._task.start(call)

    def _on_task_returned(self, rendered: Rendered) -> None:
        self._image, self.figure = rendered.image, rendered.figure
        self.render_thread = rendered.thread
        self.update()
        if not self._fits():
            self._settle.start()  # the view was resized while this was being drawn
        self.chart_drawn.emit(self.result)

    def _on_task_failed(self, exc: BaseException) -> None:
        log.error("the chart could not be drawn: %r", exc)
        self._image, self.figure = None, None
        self.update()
        self.chart_drawn.emit(self.result)

    def _fits(self) -> bool:
        """True when the image on screen was drawn for the view's current size."""
        if self._image is None:
            return False
        ratio = self._image.devicePixelRatio()
        drawn = (round(self._image.width() / ratio), round(self._image.height() / ratio))
        spec = self._spec()
        return abs(drawn[0] - spec.width) <= 1 and abs(drawn[1] - spec.height) <= 1

    def _on_settle_timeout(self) -> None:
        if self.result is not None and not self._task.running and not self._fits():
            self._render()

    # ------------------------------------------------------------------ events

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if self._image is not None:
            # Same size: a plain copy. Resized: a fast (unsmoothed) stretch until the worker
            # has drawn the new size; smoothing a full-width chart costs the GUI thread ~20 ms.
            painter.drawImage(QRectF(self.rect()), self._image)
        elif self.result is None:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(self.rect().adjusted(16, 16, -16, -16), flags, EMPTY)
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.result is not None:
            self._settle.start()  # re-render once the size stops changing

    def hideEvent(self, event: QHideEvent) -> None:
        self._settle.stop()
        super().hideEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.result is not None:
            self._render()


def _describe(result: AnalysisResult | None) -> str:
    if result is None or result.fusion is None:
        return "No result yet."
    from vsa_desktop.core.verdict import reading

    return f"Fused reading: {reading(result.fusion)}."
