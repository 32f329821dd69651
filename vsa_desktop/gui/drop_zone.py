"""The image drop zone: drag and drop, click to browse, paste; shows the image and face boxes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QPointF, QRectF, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QHelpEvent,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QFileDialog, QFrame, QSizePolicy, QToolTip, QWidget

from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import ImageError
from vsa_desktop.core.imaging import IMAGE_SUFFIXES, LoadedImage
from vsa_desktop.core.result import Face
from vsa_desktop.gui.image_intake import read_image
from vsa_desktop.gui.reading_parts import face_at, face_rect, face_tooltip
from vsa_desktop.gui.workers import LatestTask

log = logging.getLogger(__name__)

PROMPT = "Drop an image here, click to choose one, or paste it (Ctrl+V)"
WEB_IMAGE = (
    "That is a link to a web page or image, not the picture itself: save the image first, "
    "then drop the file (the app does not download anything)."
)
NOT_AN_IMAGE = "Only image files can be dropped here (JPEG, PNG, WebP, BMP, GIF, TIFF)."
FILE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"
LOADING = "Reading the image…"
UNEXPECTED = "This image could not be opened; the details are in the log."


class DropZone(QFrame):
    """Accepts one image and shows it, with the analysed faces' boxes on top.

    The image is read and checked with ``core.imaging.load_image`` on a worker thread (a
    60-megapixel photo takes seconds to decode); the newest drop wins. A refused file leaves
    the previous image in place and shows the reason inline.

    Signals:
        image_loading(): an image is being read (``loading`` is True until one of the next two).
        image_changed(): a new image was accepted (or the image was cleared).
        image_rejected(str): the one sentence saying why a file or paste was refused.
    """

    image_loading = Signal()
    image_changed = Signal()
    image_rejected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(180, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName("Image drop zone")
        self.setAccessibleDescription(PROMPT)
        self.setToolTip(PROMPT)
        self._loaded: LoadedImage | None = None
        self._source: str | Path | bytes | None = None
        self._pixmap: QImage | None = None  # the screen preview (at most PREVIEW_SIDE)
        self._faces: tuple[Face, ...] = ()
        self._message = ""
        self._dragging = False
        self._scaled: QPixmap | None = None
        self._task = LatestTask(self)
        self._task.returned.connect(self._on_task_returned)
        self._task.failed.connect(self._on_task_failed)

    # ------------------------------------------------------------------ state

    @property
    def loaded(self) -> LoadedImage | None:
        """The accepted image (pixels and info), or None."""
        return self._loaded

    @property
    def loading(self) -> bool:
        """True while a dropped, pasted or chosen image is being read."""
        return self._task.running

    @property
    def source(self) -> str | Path | bytes | None:
        """Where the accepted image came from: its file path, or the pasted/dropped bytes."""
        return self._source

    @property
    def image_name(self) -> str | None:
        """The accepted image's name."""
        return self._loaded.info.name if self._loaded else None

    @property
    def message(self) -> str:
        """The inline message shown (empty when none)."""
        return self._message

    @property
    def faces(self) -> tuple[Face, ...]:
        """The face boxes drawn over the image."""
        return self._faces

    def clear(self) -> None:
        """Forget the image (and stop reading one)."""
        self._task.cancel()
        self._loaded = self._source = self._pixmap = self._scaled = None
        self._faces = ()
        self._set_message("")
        self.image_changed.emit()

    def set_faces(self, faces: tuple[Face, ...]) -> None:
        """Draw these face boxes (``x, y, w, h`` in the original image's pixels)."""
        self._faces = tuple(faces)
        self.update()

    # ------------------------------------------------------------------ intake

    def load_path(self, path: str | Path) -> bool:
        """Start reading the image file at ``path`` (``image_changed`` or ``image_rejected``)."""
        return self._accept(Path(path), None)

    def load_bytes(self, data: bytes, name: str = "pasted image") -> bool:
        """Start reading image bytes (pasted or dragged from a browser)."""
        return self._accept(data, name)

    def shutdown(self) -> None:
        """Stop reading and wait for the worker."""
        self._task.shutdown()

    def load_mime(self, mime: QMimeData) -> bool:
        """Accept what a drop or a paste carries: a local file URL, else image data."""
        local = [u for u in mime.urls() if u.isLocalFile()]
        if local:
            return self.load_path(local[0].toLocalFile())
        if mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():  # encoded as PNG on the worker, not here
                return self._accept(image, _name_from_urls(mime.urls()))
        return self._reject(WEB_IMAGE if mime.hasUrls() else NOT_AN_IMAGE)

    def _accept(self, source: Path | bytes | QImage, name: str | None) -> bool:
        def call(token: CancelToken, progress: Callable[[str, float], None]) -> Any:
            return read_image(source, name, token)

        self._task.start(call)
        self._set_message(LOADING if self._pixmap is None else "")
        self.image_loading.emit()
        return True

    def _on_task_returned(self, value: tuple[LoadedImage, QImage, Any]) -> None:
        loaded, preview, source = value
        self._loaded, self._source, self._faces = loaded, source, ()
        self._pixmap = preview
        self._scaled = None
        self._set_message("")
        self.setAccessibleDescription(f"Image: {loaded.info.name}")
        self.image_changed.emit()

    def _on_task_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ImageError):
            log.info("image refused: %s %s", exc.message, exc.detail)
            self._reject(exc.message)
        else:
            log.error("image could not be read: %r", exc)
            self._reject(UNEXPECTED)

    def _reject(self, message: str) -> bool:
        self._set_message(message)
        self.image_rejected.emit(message)
        return False

    def _set_message(self, message: str) -> None:
        self._message = message
        self.update()

    def browse(self) -> None:
        """Ask for an image file with the file dialog."""
        path, _ = QFileDialog.getOpenFileName(self, "Choose an image", "", FILE_FILTER)
        if path:
            self.load_path(path)

    def paste(self) -> bool:
        """Accept the clipboard's image (or image file); False when it holds none."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return self._reject("The clipboard is empty.")
        return self.load_mime(mime)

    # ------------------------------------------------------------------ events

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            self._dragging = True
            self.update()
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: object) -> None:
        self._dragging = False
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        self._dragging = False
        self.load_mime(event.mimeData())
        event.acceptProposedAction()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.browse()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            face = self.face_at(QPointF(event.pos()))
            if face is not None:  # a face box: its seven scores and its share
                QToolTip.showText(event.globalPos(), face_tooltip(face, len(self._faces)), self)
                return True
        return super().event(event)

    def face_at(self, point: QPointF) -> Face | None:
        """The analysed face whose box is under ``point`` (widget coordinates), if any."""
        if not self._faces or self._loaded is None:
            return None
        return face_at(self._faces, self.image_rect(), self._loaded.info.width, point)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        plain = not (event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
        elif plain and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.browse()  # only the bare key: Ctrl+Return is Analyze, Shift+Space is typing
        elif event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._loaded:
            self.clear()
        else:
            super().keyPressEvent(event)

    # ------------------------------------------------------------------ painting

    def image_rect(self) -> QRectF:
        """Where the image is drawn (aspect kept, centred, inside an 8 px margin)."""
        if self._pixmap is None:
            return QRectF()
        area = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        size = self._pixmap.size()
        scale = min(area.width() / size.width(), area.height() / size.height())
        w, h = size.width() * scale, size.height() * scale
        return QRectF(area.center().x() - w / 2, area.center().y() - h / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = self.palette()
        if self._dragging or self.hasFocus():
            pen = QPen(palette.highlight().color(), 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(QRectF(self.rect()).adjusted(2, 2, -3, -3))
        if self._pixmap is not None:
            target = self.image_rect()
            painter.drawPixmap(target.topLeft(), self._scaled_pixmap(target))
            self._paint_faces(painter, target)
        if self._pixmap is None or self._message:
            self._paint_text(painter)
        painter.end()

    def _scaled_pixmap(self, target: QRectF) -> QPixmap:
        """The preview scaled to ``target`` once per size (not on every paint)."""
        assert self._pixmap is not None
        size = target.size().toSize()
        if self._scaled is None or self._scaled.size() != size:
            scaled = self._pixmap.scaled(
                size,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            self._scaled = QPixmap.fromImage(scaled)
        return self._scaled

    def _paint_faces(self, painter: QPainter, target: QRectF) -> None:
        if not self._faces or self._loaded is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for face in self._faces:
            box = face_rect(face, target, self._loaded.info.width)
            painter.setPen(QPen(QColor("#E69F00"), 2))
            painter.drawRect(box)
            label_rect = QRectF(box.x(), box.y() - 18, max(box.width(), 60), 18)
            painter.fillRect(label_rect, QColor(0, 0, 0, 160))
            painter.setPen(QColor("white"))
            painter.drawText(label_rect, Qt.AlignmentFlag.AlignCenter, face.label)

    def _paint_text(self, painter: QPainter) -> None:
        area = self.rect().adjusted(16, 16, -16, -16)
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        if self._message:
            loading = self._message == LOADING
            painter.setPen(
                self.palette().placeholderText().color() if loading else QColor("#C0392B")
            )
            area = area.adjusted(0, area.height() - 60, 0, 0) if self._pixmap else area
            if self._pixmap is not None:
                painter.fillRect(area, self.palette().window())
            painter.drawText(area, flags, self._message)
        else:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(area, flags, PROMPT)


def _name_from_urls(urls: list[QUrl]) -> str:
    for url in urls:
        name = Path(url.path()).name
        if name:
            return name
    return "dropped image"
