"""The embedded Matplotlib chart: ``core.charts.result_figure`` drawn into a Qt canvas."""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from vsa_desktop.core.charts import result_figure, update_result_figure
from vsa_desktop.core.result import AnalysisResult

EMPTY = "The scores of the seven emotions appear here after an analysis."
NARROW_PX = 480


def _hex(palette: QPalette, role: QPalette.ColorRole) -> str:
    return palette.color(role).name()


class ChartCanvas(FigureCanvasQTAgg):
    """Shows one result's grouped bars; colours follow the widget palette (light or dark).

    Signals:
        (none)
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        self.figure = Figure(figsize=(6.0, 3.6), dpi=100, layout="constrained")
        super().__init__(self.figure)
        # Matplotlib gives the canvas a fixed white palette; inherit the window's instead.
        self.setPalette(QPalette())
        self.setParent(parent)
        self.setMinimumSize(280, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Emotion scores chart")
        self.result: AnalysisResult | None = None
        self._apply_palette()

    def show_result(self, result: AnalysisResult | None) -> None:
        """Redraw for ``result`` (None shows where the chart will appear)."""
        self.result = result
        if result is None:
            self.figure.clear()
            self.figure.text(0.5, 0.5, EMPTY, ha="center", va="center", fontsize=10)
        elif update_result_figure(result, self.figure):
            for ax in self.figure.axes:
                ax.set_title("", loc="left")  # the view above says the same in words
            self.setAccessibleDescription(_describe(result))
            self.draw_idle()  # same channels: only the bar heights moved
            return
        else:
            result_figure(result, figure=self.figure)
            for ax in self.figure.axes:
                ax.set_title("", loc="left")  # the view above says the same in words
        self._fit()
        self._apply_palette()
        self.setAccessibleDescription(_describe(result))
        self.draw_idle()

    def _fit(self) -> None:
        """Smaller, slanted tick labels when the canvas is narrow (1024x640 windows)."""
        narrow = self.width() < NARROW_PX
        for ax in self.figure.axes:
            ax.tick_params(
                axis="x", labelsize=8 if narrow else 10, labelrotation=30 if narrow else 0
            )

    def resizeEvent(self, event: QResizeEvent) -> None:
        was_narrow = event.oldSize().width() < NARROW_PX
        if (event.size().width() < NARROW_PX) != was_narrow:
            self._fit()  # before the base class redraws at the new size
        super().resizeEvent(event)

    def bar_heights(self) -> dict[str, list[float]]:
        """The drawn bar heights per channel label (text, vision, fused), in emotion order."""
        heights: dict[str, list[float]] = {}
        for ax in self.figure.axes:
            for container in ax.containers:
                heights[str(container.get_label())] = [p.get_height() for p in container]
        return heights

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
            self.draw_idle()

    def _apply_palette(self) -> None:
        palette = self.palette()
        background = _hex(palette, QPalette.ColorRole.Base)
        foreground = _hex(palette, QPalette.ColorRole.Text)
        self.figure.set_facecolor(background)
        for ax in self.figure.axes:
            ax.set_facecolor(background)
            ax.tick_params(colors=foreground)
            for spine in ax.spines.values():
                spine.set_color(foreground)
        for text in self.figure.findobj(Text):
            text.set_color(foreground)


def _describe(result: AnalysisResult | None) -> str:
    if result is None or result.fusion is None:
        return "No result yet."
    from vsa_desktop.core.verdict import reading

    return f"Fused reading: {reading(result.fusion)}."
