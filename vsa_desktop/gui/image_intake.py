"""Reading a dropped or pasted image off the GUI thread, and the Qt/PIL image conversions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

from vsa_desktop.core.cancel import CancelToken, check
from vsa_desktop.core.imaging import LoadedImage, load_image

PREVIEW_SIDE = 1024  # longest side of the picture kept for the screen (the analysis uses all)


def pil_to_qimage(pixels: object, max_side: int = 0) -> QImage:
    """Copy a PIL image into an RGB QImage (owning its own buffer), at most ``max_side`` a side."""
    image: Any = pixels
    if max_side and max(image.size) > max_side:
        from PIL import Image

        scale = max_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    if image.mode != "RGB":
        image = image.convert("RGB")
    data = image.tobytes()
    width, height = image.size
    return QImage(data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def read_image(
    source: Path | bytes | QImage, name: str | None, token: CancelToken
) -> tuple[LoadedImage, QImage, Path | bytes]:
    """Worker: decode and check the image, and make its screen preview (never on the GUI thread).

    A QImage (pasted, or dragged from a browser) is encoded as PNG first, so it is checked
    like any file.
    """
    if isinstance(source, QImage):
        source = qimage_to_png(source)
    check(token)
    loaded = load_image(source, name)
    check(token)
    return loaded, pil_to_qimage(loaded.pixels, PREVIEW_SIDE), source


def qimage_to_png(image: QImage) -> bytes:
    """Encode a QImage as PNG bytes (for pasted or browser-dragged image data)."""
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(array.data())
