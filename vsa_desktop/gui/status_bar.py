"""The status bar: active text model and vision backend, online/offline, progress."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

STAGE_WORDS = {
    "image": "Reading the image…",
    "text": "Reading the text…",
    "vision": "Reading the face(s)…",
    "fusion": "Combining…",
    "done": "Done",
}
STAGE_FRACTIONS = {"image": 0.05, "text": 0.2, "vision": 0.55, "fusion": 0.9, "done": 1.0}
LITE_LINK = "<a href='download'>lite model — download full</a>"


class StatusBar(QStatusBar):
    """Shows which models are active, whether the app is offline, and analysis progress.

    Signals:
        download_requested(): the "lite model — download full" link was clicked.
    """

    download_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = QLabel("Text: loading…  ·  Vision: …", self)
        self.models.setAccessibleName("Active models")
        self.network = QLabel(self)
        self.network.setAccessibleName("Network mode")
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Analysis progress")
        self.progress.hide()
        self.activity = QLabel(self)
        self.activity.setAccessibleName("Activity")
        self.lite_link = QLabel(LITE_LINK, self)
        self.lite_link.setAccessibleName("Download the full text model")
        self.lite_link.setToolTip("The built-in lite model reads the text: download DistilRoBERTa")
        self.lite_link.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.lite_link.linkActivated.connect(self._on_lite_link_activated)
        self.lite_link.hide()
        self.background = QLabel(self)
        self.background.setAccessibleName("Background work")
        self.background.hide()
        self.addWidget(self.models, 0)
        self.addWidget(self.lite_link, 0)
        self.addWidget(QLabel(self), 1)  # keeps the link beside the models
        self.addPermanentWidget(self.background)
        self.addPermanentWidget(self.activity)
        self.addPermanentWidget(self.progress)
        self.addPermanentWidget(self.network)
        self.set_offline(False)

    def set_models(self, text: str, vision: str) -> None:
        """Show the text model (with runtime) and the vision backend in use."""
        self.models.setText(f"Text: {text}  ·  Vision: {vision}")

    def set_lite(self, lite: bool) -> None:
        """Show the "download full" link while the built-in lite model reads the text."""
        self.lite_link.setVisible(lite)

    def show_background(self, message: str, tip: str = "") -> None:
        """Show background work (e.g. the ONNX conversion); "" hides it."""
        self.background.setText(message)
        self.background.setToolTip(tip)
        self.background.setVisible(bool(message))

    def set_offline(self, offline: bool) -> None:
        """Show online or offline (text-only cloud use off)."""
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
