"""The status bar: active text model and vision backend, online/offline, progress."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QSizePolicy, QStatusBar, QWidget

STAGE_WORDS = {
    "image": "Reading the image…",
    "text": "Reading the text…",
    "vision": "Reading the face(s)…",
    "fusion": "Combining…",
    "done": "Done",
}
STAGE_FRACTIONS = {"image": 0.05, "text": 0.2, "vision": 0.55, "fusion": 0.9, "done": 1.0}
LITE_LINK = "<a href='download'>lite model — download full</a>"
LITE_LINK_OFFLINE = "<a href='download'>lite model — go online and download full</a>"
MIN_TEXT_PX = 60


class ElidedLabel(QLabel):
    """A plain-text label that shrinks with "…" instead of pushing its neighbours over.

    The full text stays in ``text()`` and in the tooltip.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        # Preferred: as wide as its text when there is room, down to MIN_TEXT_PX when not.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        return QSize(MIN_TEXT_PX, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        elided = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), elided)
        painter.end()


class StatusBar(QStatusBar):
    """Shows which models are active, whether the app is offline, and analysis progress.

    Signals:
        download_requested(): the "lite model — download full" link was clicked.
    """

    download_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = ElidedLabel("Text: loading…  ·  Vision: …", self)
        self.models.setAccessibleName("Active models")
        self.network = QLabel(self)
        self.network.setAccessibleName("Network mode")
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Analysis progress")
        self.progress.hide()
        self.activity = ElidedLabel("", self)
        self.activity.setAccessibleName("Activity")
        self.lite_link = QLabel(LITE_LINK, self)
        self.lite_link.setAccessibleName("Download the full text model")
        self.lite_link.setToolTip("The built-in lite model reads the text: download DistilRoBERTa")
        self.lite_link.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.lite_link.linkActivated.connect(self._on_lite_link_activated)
        self.lite_link.hide()
        self.background = ElidedLabel("", self)
        self.background.setAccessibleName("Background work")
        self.background.hide()
        # Everything is a normal (not permanent) widget with a stretch, so the bar shares its
        # width out and nothing is drawn over anything else at any window width.
        self.addWidget(self.models, 0)
        self.addWidget(self.lite_link, 0)
        self.addWidget(self.background, 0)
        self.addWidget(self.activity, 1)  # takes what is left, so the link stays by the models
        self.addWidget(self.progress, 0)
        self.addWidget(self.network, 0)
        self._offline = False
        self._lite = False
        self.set_offline(False)

    def set_models(self, text: str, vision: str) -> None:
        """Show the text model (with runtime) and the vision backend in use."""
        self.models.setText(f"Text: {text}  ·  Vision: {vision}")

    def set_lite(self, lite: bool) -> None:
        """Show the "download full" link while the built-in lite model reads the text."""
        self._lite = lite
        self.lite_link.setVisible(lite)

    def show_background(self, message: str, tip: str = "") -> None:
        """Show background work (e.g. the ONNX conversion); "" hides it."""
        self.background.setText(message)
        self.background.setToolTip(tip or message)
        self.background.setVisible(bool(message))

    def set_offline(self, offline: bool) -> None:
        """Show online or offline (text-only cloud use off)."""
        self._offline = offline
        self.lite_link.setText(LITE_LINK_OFFLINE if offline else LITE_LINK)
        self.lite_link.setToolTip(
            "The built-in lite model reads the text: go online and download DistilRoBERTa"
            if offline
            else "The built-in lite model reads the text: download DistilRoBERTa"
        )
        self.network.setText("● Offline" if offline else "● Online")
        self.network.setStyleSheet("color: #B35900;" if offline else "color: #009E73;")

    def show_progress(self, stage: str, fraction: float) -> None:
        """Show an analysis stage; the bar moves through the stages."""
        base = STAGE_FRACTIONS.get(stage, 0.5)
        self.progress.setValue(round(100 * min(1.0, base + 0.1 * fraction)))
        self.progress.show()
        self.activity.setText(STAGE_WORDS.get(stage, stage))

    def end_progress(self, message: str = "") -> None:
        """Hide the bar; show ``message`` until the next activity."""
        self.progress.hide()
        self.activity.setText(message)

    def show_activity(self, message: str) -> None:
        """Show a short note (e.g. where an export went) beside the models."""
        self.activity.setText(message)

    def _on_lite_link_activated(self, _link: str) -> None:
        self.download_requested.emit()
