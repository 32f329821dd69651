"""Prepare an image for a cloud vision model: downscale, re-encode JPEG, stay in the limits."""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vsa_desktop.core.errors import VisionError

if TYPE_CHECKING:
    from PIL import Image as PILImage

# Groq refuses base64 image requests over 4 MB and images over 33 megapixels. The budget
# leaves room for the prompt and the JSON around the image.
MAX_BASE64_CHARS = 4 * 1024 * 1024 - 128 * 1024
MAX_PIXELS = 33_000_000
JPEG_QUALITIES = (85, 75, 60)
MIN_SIDE = 32


@dataclass(frozen=True)
class PreparedImage:
    """A JPEG ready to send.

    Attributes:
        data_url: ``data:image/jpeg;base64,...``.
        width: width of the encoded JPEG.
        height: height of the encoded JPEG.
        quality: the JPEG quality used.
    """

    data_url: str
    width: int
    height: int
    quality: int

    @property
    def base64_chars(self) -> int:
        """Length of the base64 payload (without the ``data:`` prefix)."""
        return len(self.data_url) - len("data:image/jpeg;base64,")


def prepare_image(
    pixels: PILImage.Image, max_side: int, max_base64_chars: int = MAX_BASE64_CHARS
) -> PreparedImage:
    """Downscale ``pixels`` to at most ``max_side`` and encode a JPEG within the size budget.

    The longest side is at most ``max_side``, the image has fewer than 33 megapixels, and
    the base64 text is shorter than ``max_base64_chars``: quality drops first, then size.

    Raises:
        VisionError: (kind ``too_large``) when even a tiny JPEG does not fit the budget.
    """
    img = pixels if pixels.mode == "RGB" else pixels.convert("RGB")
    side = max(MIN_SIDE, int(max_side))
    while True:
        scaled = fit_within(img, side)
        for quality in JPEG_QUALITIES:
            data = _jpeg(scaled, quality)
            if _base64_len(len(data)) < max_base64_chars:
                url = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
                return PreparedImage(url, scaled.width, scaled.height, quality)
        side = int(max(scaled.size) * 0.75)
        if side < MIN_SIDE:
            raise VisionError(
                "The image cannot be made small enough for the vision service.",
                kind="too_large",
            )


def smaller(pixels: PILImage.Image, previous: PreparedImage) -> PreparedImage:
    """Return a re-encode at half the previous longest side and half its size budget."""
    side = max(MIN_SIDE, max(previous.width, previous.height) // 2)
    return prepare_image(pixels, side, max(1024, previous.base64_chars // 2))


def fit_within(img: PILImage.Image, max_side: int) -> PILImage.Image:
    """Return ``img`` scaled down (never up) so its longest side and pixel count fit."""
    from PIL import Image

    width, height = img.size
    scale = min(1.0, max_side / max(width, height), math.sqrt((MAX_PIXELS - 1) / (width * height)))
    if scale >= 1.0:
        return img
    size = (max(1, math.floor(width * scale)), max(1, math.floor(height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _jpeg(img: PILImage.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def _base64_len(n_bytes: int) -> int:
    return 4 * math.ceil(n_bytes / 3)
