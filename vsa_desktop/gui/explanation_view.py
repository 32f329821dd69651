"""The analysed text with its words highlighted by how much they moved the reading."""

from __future__ import annotations

import bisect

from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QHelpEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from vsa_desktop.core.explain.highlight import (
    EMOTION_STYLE,
    LOWERED_COLOR,
    MIN_STRENGTH,
    Mark,
    marks,
)
from vsa_desktop.core.explanation import LOGIT_UNIT, TextExplanation
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.terminal import inert_bidi

MAX_SHOWN_CHARS = 20_000  # a longer text shows its beginning (the whole stays in exports)
STRONGEST = "strongest"
PENDING = "Finding the words behind the reading…"
SWATCH = 14
MIN_LINES, MAX_LINES = 2, 7  # the text view's height in lines (a longer text scrolls)


def qt_positions(text: str) -> list[int]:
    """For each index of ``text`` (and its end), the position in a ``QTextDocument``.

    Qt counts UTF-16 code units: a character beyond the BMP (most emoji) takes two.
    """
    out = [0]
    for char in text:
        out.append(out[-1] + (2 if ord(char) > 0xFFFF else 1))
    return out


def displayed(text: str) -> str:
    """``text`` as the view holds it: line breaks Qt would merge are kept one character each.

    ``setPlainText`` turns CR LF into one break; a space before the LF keeps the count.
    """
    return inert_bidi(text.replace("\r\n", " \n").replace("\r", "\n"))


def _qt_brush_style(name: str) -> Qt.BrushStyle:
    return getattr(Qt.BrushStyle, name)


def swatch(emotion: str | None, size: int = SWATCH) -> QPixmap:
    """A small square in an emotion's colour and hatch (None: the "lowered" grey)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    rect = QRectF(0.5, 0.5, size - 1, size - 1)
    if emotion is None:
        painter.setPen(QPen(QColor(LOWERED_COLOR), 2, Qt.PenStyle.DashLine))
        painter.drawLine(0, size - 2, size, size - 2)
    else:
        _paint_mark_rect(painter, rect, emotion, 1.0)
        painter.setPen(QPen(QColor(EMOTION_STYLE[emotion]["color"]).darker(150), 1))
        painter.drawRect(rect)
    painter.end()
    return pixmap


def _paint_mark_rect(painter: QPainter, rect: QRectF, emotion: str, strength: float) -> None:
    """A fill whose opacity follows ``strength``, with the emotion's hatch over it."""
    style = EMOTION_STYLE[emotion]
    fill = QColor(style["color"])
    fill.setAlphaF(0.15 + 0.55 * strength)
    painter.fillRect(rect, fill)
    hatch = QColor(style["color"]).darker(160)
    hatch.setAlphaF(0.15 + 0.35 * strength)
    painter.fillRect(rect, QBrush(hatch, _qt_brush_style(style["qt_pattern"])))


class HighlightedText(QTextBrowser):
    """Read-only text with marks painted under the words; hovering a word says its weight.

    Only the marks in view are painted, so a long text scrolls as fast as a plain one.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setOpenLinks(False)
        self.setUndoRedoEnabled(False)
        self.setMouseTracking(True)
        self.setObjectName("explanationText")
        self._marks: list[Mark] = []
        self._starts: list[int] = []  # Qt positions of the marks' starts, ascending
        self._ends: list[int] = []
        self._unit = LOGIT_UNIT
        self.highlighting = True

    def set_content(self, text: str, shown: list[Mark], unit: str) -> None:
        """Show ``text`` with ``shown`` marks (offsets into ``text``)."""
        if self.toPlainText() != displayed(text):
            self.setPlainText(displayed(text))
        positions = qt_positions(text)
        kept = [m for m in shown if m.end <= len(text)]
        self._marks = kept
        self._starts = [positions[m.start] for m in kept]
        self._ends = [positions[m.end] for m in kept]
        self._unit = unit
        self.fit_height()
        self.viewport().update()

    def fit_height(self) -> None:
        """As tall as the text needs, from ``MIN_LINES`` to ``MAX_LINES`` lines (then scroll)."""
        doc = self.document()
        doc.setTextWidth(self.viewport().width())
        line = self.fontMetrics().lineSpacing()
        frame = 2 * self.frameWidth() + int(doc.documentMargin()) * 2
        wanted = int(doc.size().height()) + 2 * self.frameWidth() + 2
        self.setMaximumHeight(max(MIN_LINES * line + frame, min(MAX_LINES * line + frame, wanted)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_height()

    def set_highlighting(self, on: bool) -> None:
        """Paint the marks or not (the text stays)."""
        self.highlighting = on
        self.viewport().update()

    def mark_rects(self, index: int) -> list[QRectF]:
        """The rectangles (viewport coordinates) that mark ``index`` covers, one per line."""
        start, end = self._starts[index], self._ends[index]
        doc = self.document()
        out: list[QRectF] = []
        block = doc.findBlock(start)
        dx = -self.horizontalScrollBar().value()
        dy = -self.verticalScrollBar().value()
        while block.isValid() and block.position() < end:
            layout = block.layout()
            origin = layout.position()
            for i in range(layout.lineCount()):
                line = layout.lineAt(i)
                a = max(start - block.position(), line.textStart())
                b = min(end - block.position(), line.textStart() + line.textLength())
                if a >= b:
                    continue
                x1, x2 = line.cursorToX(a)[0], line.cursorToX(b)[0]
                out.append(
                    QRectF(
                        origin.x() + min(x1, x2) + dx,
                        origin.y() + line.y() + dy,
                        abs(x2 - x1),
                        line.height(),
                    )
                )
            block = block.next()
        return out

    def visible_marks(self) -> range:
        """Indices of the marks that may be in view."""
        top = self.cursorForPosition(self.viewport().rect().topLeft()).position()
        bottom = self.cursorForPosition(self.viewport().rect().bottomRight()).position()
        first = bisect.bisect_left(self._ends, top)
        last = bisect.bisect_right(self._starts, bottom + 1)
        return range(first, max(first, last))

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.highlighting and self._marks:
            painter = QPainter(self.viewport())
            for i in self.visible_marks():
                mark = self._marks[i]
                for rect in self.mark_rects(i):
                    if mark.raised:
                        _paint_mark_rect(painter, rect, mark.emotion, mark.strength)
                    else:
                        pen = QPen(QColor(LOWERED_COLOR), 1 + 2 * mark.strength)
                        pen.setStyle(Qt.PenStyle.DashLine)
                        painter.setPen(pen)
                        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
            painter.end()
        super().paintEvent(event)

    def mark_at(self, position: int) -> Mark | None:
        """The mark at a Qt document position, if any."""
        i = bisect.bisect_right(self._starts, position) - 1
        if i >= 0 and position < self._ends[i]:
            return self._marks[i]
        return None

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            mark = self.mark_at(self.cursorForPosition(event.pos()).position())
            if mark is not None and self.highlighting:
                QToolTip.showText(event.globalPos(), describe_mark(mark, self._unit), self)
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)


def describe_mark(mark: Mark, unit: str) -> str:
    """What a word did, in a sentence: "hate" raised disgust by 1.19 in log-odds."""
    verb = "raised" if mark.raised else "lowered"
    if unit == LOGIT_UNIT:
        amount = f"{abs(mark.weight):.2f} in log-odds"
    else:
        amount = f"{abs(mark.weight) * 100:.1f} points"
    return f"“{mark.text}” {verb} {mark.emotion} by {amount}"


class ExplanationView(QWidget):
    """ "Why this reading": the analysed text, its words painted by their weight, a legend.

    The explanation arrives after the result (``show_pending`` first, then
    ``show_explanation``); nothing here computes one.

    Signals:
        highlight_toggled(bool): the Highlight switch changed.
    """

    highlight_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explanationView")
        self.explanation: TextExplanation | None = None
        self._text = ""
        self.title = QLabel("Why this reading", self)
        self.toggle = QCheckBox("&Highlight words", self)
        self.toggle.setChecked(True)
        self.toggle.setToolTip("Paint the words by how much they raised or lowered the emotion")
        self.chooser = QComboBox(self)
        self.chooser.setToolTip("Which emotion's words to paint")
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.legend = QHBoxLayout()
        self.legend.setSpacing(8)
        self.text_view = HighlightedText(self)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.chooser)
        header.addWidget(self.toggle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.status)
        layout.addWidget(self.text_view, 1)
        layout.addLayout(self.legend)
        self.toggle.toggled.connect(self._on_toggle_toggled)
        self.chooser.currentIndexChanged.connect(self._on_chooser_changed)
        self.clear()

    def clear(self) -> None:
        """Nothing to explain (no result, or a result without text)."""
        self.explanation = None
        self._text = ""
        self.text_view.set_content("", [], LOGIT_UNIT)
        self._say("")
        self._fill_chooser(None)
        self._fill_legend([])
        self.setVisible(False)

    def show_pending(self, text: str) -> None:
        """A result is on screen and its explanation is being computed."""
        self.explanation = None
        self._text = text[:MAX_SHOWN_CHARS]
        self.text_view.set_content(self._text, [], LOGIT_UNIT)
        self._say(PENDING)
        self._fill_chooser(None)
        self._fill_legend([])
        self.setVisible(True)

    def show_unavailable(self, message: str) -> None:
        """The explanation could not be made; the text stays, unpainted."""
        self.explanation = None
        self._say(message)
        self._fill_chooser(None)
        self._fill_legend([])

    def show_explanation(self, text: str, explanation: TextExplanation) -> None:
        """Paint ``text`` (as analysed) with ``explanation``."""
        self.explanation = explanation
        self._text = text[:MAX_SHOWN_CHARS]
        notes = []
        if len(text) > MAX_SHOWN_CHARS:
            notes.append(f"The first {MAX_SHOWN_CHARS:,} characters are shown.")
        if not explanation.complete:
            notes.append("Long text: words were weighed in its strongest sentences only.")
        self._say(" ".join(notes))
        self._fill_chooser(explanation)
        self._repaint_marks()
        self.setVisible(True)

    # ------------------------------------------------------------------ internals

    def _say(self, words: str) -> None:
        self.status.setText(words)
        self.status.setVisible(bool(words))

    def _fill_chooser(self, explanation: TextExplanation | None) -> None:
        self.chooser.blockSignals(True)
        self.chooser.clear()
        if explanation is not None:
            self.chooser.addItem(f"{explanation.label} (the text's reading)", explanation.label)
            if explanation.spans and explanation.spans[0].weights is not None:
                self.chooser.addItem("each word's strongest emotion", STRONGEST)
                for emotion in EMOTIONS:
                    if emotion != explanation.label:
                        self.chooser.addItem(emotion, emotion)
        self.chooser.setEnabled(self.chooser.count() > 1)
        self.chooser.setVisible(self.chooser.count() > 0)
        self.chooser.blockSignals(False)

    def _current_marks(self) -> list[Mark]:
        if self.explanation is None:
            return []
        choice = self.chooser.currentData()
        if choice == STRONGEST:
            found = marks(self.explanation, strongest=True)
        else:
            found = marks(self.explanation, emotion=choice or self.explanation.label)
        return [m for m in found if m.strength >= MIN_STRENGTH]

    def _repaint_marks(self) -> None:
        shown = self._current_marks()
        unit = self.explanation.unit if self.explanation else LOGIT_UNIT
        self.text_view.set_content(self._text, shown, unit)
        self._fill_legend(shown)

    def _fill_legend(self, shown: list[Mark]) -> None:
        while self.legend.count():
            item = self.legend.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # gone from the screen now, deleted later
                widget.deleteLater()
        raised = [e for e in EMOTIONS if any(m.raised and m.emotion == e for m in shown)]
        entries: list[tuple[str | None, str]] = [(e, f"raised {e}") for e in raised]
        if any(not m.raised for m in shown):
            entries.append((None, "lowered it"))
        for emotion, words in entries:
            icon = QLabel(self)
            icon.setPixmap(swatch(emotion))
            self.legend.addWidget(icon)
            self.legend.addWidget(QLabel(words, self))
        self.legend.addStretch(1)

    def _on_toggle_toggled(self, on: bool) -> None:
        self.text_view.set_highlighting(on)
        self.highlight_toggled.emit(on)

    def _on_chooser_changed(self, _index: int) -> None:
        self._repaint_marks()
