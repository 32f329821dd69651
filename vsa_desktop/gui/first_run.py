"""The first-run notice: what the app measures, where images go, where its use is restricted."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

TEXT = (
    "<b>Welcome to VSA Desktop.</b> It reads the emotion <i>expressed</i> in a text and in a "
    "face — what the words and the face show — not what a person really feels.<br>"
    "With cloud vision (Groq) switched on and an API key set, the image is sent to Groq; "
    "in offline mode nothing leaves this computer.<br>"
    "Emotion recognition is restricted in some settings: the EU AI Act forbids it in "
    "workplaces and education (except for medical or safety reasons)."
)


class FirstRunNotice(QFrame):
    """A non-modal panel shown at the top of the window until dismissed.

    Signals:
        dismissed(bool): closed; True when "Don't show again" was ticked.
    """

    dismissed = Signal(bool)

    def __init__(self, parent: QFrame | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunNotice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("First-run notice")
        self.label = QLabel(TEXT, self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.dont_show = QCheckBox("Don't show again", self)
        self.dont_show.setChecked(True)
        self.close_button = QPushButton("Got it", self)
        self.close_button.setAccessibleName("Close the first-run notice")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.dont_show)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.label)
        layout.addLayout(buttons)
        self.close_button.clicked.connect(self._on_close_button_clicked)

    def _on_close_button_clicked(self) -> None:
        self.hide()
        self.dismissed.emit(self.dont_show.isChecked())
