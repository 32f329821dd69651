"""The window's input column: the image drop zone, the text box and the Analyze/Cancel buttons."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from vsa_desktop.gui.drop_zone import DropZone
from vsa_desktop.gui.text_input import TextInput


class InputColumn(QWidget):
    """Lays out what the next analysis reads; the window wires the buttons.

    Signals:
        (none: its children's own.)
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.drop_zone = DropZone(self)
        self.text_input = TextInput(self)
        self.analyze_button = QPushButton("Analyze", self)
        self.analyze_button.setToolTip("Analyze the image and the text (Ctrl+Enter)")
        self.analyze_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the analysis (Esc)")
        self.cancel_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.analyze_button)
        text_label = QLabel("&Text", self)
        text_label.setBuddy(self.text_input.editor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.drop_zone, 3)
        layout.addWidget(text_label)
        layout.addWidget(self.text_input, 2)
        layout.addLayout(buttons)
        self.setTabOrder(self.drop_zone, self.text_input.editor)
        self.setTabOrder(self.text_input.editor, self.analyze_button)
        self.setTabOrder(self.analyze_button, self.cancel_button)
