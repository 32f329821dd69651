"""The inline message bar above the result: one sentence for an expected error or a notice."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

# (background, text, border): readable in light and dark themes alike.
STYLES = {
    "error": ("#FDECEA", "#611A15", "#F5C2C0"),
    "warning": ("#FFF4E5", "#663C00", "#FFD699"),
    "info": ("#E8F4FD", "#0D3C61", "#B3DAF7"),
}


class MessageBar(QFrame):
    """A dismissable one-line message (error, warning or info), hidden when empty.

    Signals:
        dismissed(): the user closed the message.
    """

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName("Message")
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setAccessibleName("Dismiss message")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.close_button.clicked.connect(self._on_close_button_clicked)
        self.kind = ""
        self.hide()

    @property
    def text(self) -> str:
        """The message shown ("" when hidden)."""
        return self.label.text() if not self.isHidden() else ""

    def show_message(self, text: str, kind: str = "error") -> None:
        """Show ``text``; ``kind`` is error, warning or info."""
        self.kind = kind
        background, text_color, border = STYLES.get(kind, STYLES["info"])
        self.setStyleSheet(
            f"QFrame#messageBar {{background:{background}; border:1px solid {border};"
            f" border-radius:4px;}} QLabel {{color:{text_color}; background:transparent;}}"
            f" QToolButton {{color:{text_color};}}"
        )
        self.label.setText(text)
        self.show()

    def clear(self) -> None:
        """Hide the bar."""
        self.label.clear()
        self.kind = ""
        self.hide()

    def _on_close_button_clicked(self) -> None:
        self.clear()
        self.dismissed.emit()
