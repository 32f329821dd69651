"""The text box with its character count; images pasted into it go to the drop zone."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Signal
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

PLACEHOLDER = "Type or paste the text: a caption, a message, a post…"


class _Editor(QPlainTextEdit):
    """A plain-text editor that hands pasted or dropped images to its owner."""

    def __init__(self, owner: TextInput) -> None:
        super().__init__(owner)
        self._owner = owner

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return _is_image(source) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if _is_image(source):
            self._owner.image_pasted.emit(source)
        else:
            super().insertFromMimeData(source)


def _is_image(mime: QMimeData) -> bool:
    if mime.hasImage():
        return True
    return not mime.hasText() and any(u.isLocalFile() for u in mime.urls())


class TextInput(QWidget):
    """A multi-line text box with a live character count.

    Signals:
        text_changed(str): the text was edited.
        image_pasted(QMimeData): an image (not text) was pasted or dropped into the box.
    """

    text_changed = Signal(str)
    image_pasted = Signal(QMimeData)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = _Editor(self)
        self.editor.setPlaceholderText(PLACEHOLDER)
        self.editor.setTabChangesFocus(True)
        self.editor.setAccessibleName("Text to analyze")
        self.counter = QLabel(self)
        self.counter.setAccessibleName("Character count")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.editor)
        layout.addWidget(self.counter)
        self.editor.textChanged.connect(self._on_editor_text_changed)
        self._on_editor_text_changed()

    def text(self) -> str:
        """The text as typed."""
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        """Replace the text."""
        self.editor.setPlainText(text)

    def _on_editor_text_changed(self) -> None:
        text = self.text()
        n = len(text)
        self.counter.setText(f"{n:,} character{'s' if n != 1 else ''}")
        self.text_changed.emit(text)
