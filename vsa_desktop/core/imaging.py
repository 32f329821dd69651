"""Safe image intake: open, check, orient, normalise to RGB and fingerprint an image."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vsa_desktop.core.errors import ImageError
from vsa_desktop.core.result import ImageInfo

if TYPE_CHECKING:
    from PIL import Image as PILImage

MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_PIXELS = 64_000_000  # 8000 x 8000; larger images are refused before decoding
ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "BMP", "GIF", "TIFF")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class LoadedImage:
    """An image ready for the vision backends.

    Attributes:
        pixels: the first frame, EXIF orientation applied, mode RGB.
        info: name, sha256 of the file's bytes, width and height (after orientation).
    """

    pixels: PILImage.Image
    info: ImageInfo


def load_image(source: str | Path | bytes, name: str | None = None) -> LoadedImage:
    """Open an image from a path or from bytes.

    Raises:
        ImageError: with one sentence that says what is wrong (missing, empty, not an
            image, damaged, too large, unsupported format).
    """
    data, name = _read_source(source, name)
    digest = hashlib.sha256(data).hexdigest()
    pixels = _decode(data, name)
    width, height = pixels.size
    return LoadedImage(pixels=pixels, info=ImageInfo(name, digest, width, height))


def _read_source(source: str | Path | bytes, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        name = name or "pasted image"
    else:
        path = Path(source)
        name = name or path.name
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise ImageError(f"{name} is not a file.")
            if size > MAX_FILE_BYTES:
                raise ImageError(
                    f"{name} is {size / 2**20:.0f} MB; images up to "
                    f"{MAX_FILE_BYTES // 2**20} MB are accepted."
                )
            data = path.read_bytes()
        except FileNotFoundError:
            raise ImageError(f"The image {name} does not exist.") from None
        except PermissionError:
            raise ImageError(f"The image {name} cannot be read (permission denied).") from None
        except IsADirectoryError:
            raise ImageError(f"{name} is a folder, not an image.") from None
        except OSError as exc:
            raise ImageError(f"The image {name} cannot be read.", detail=str(exc)) from None
    if not data:
        raise ImageError(f"The image file {name} is empty (0 bytes).", kind="image_empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"{name} is larger than {MAX_FILE_BYTES // 2**20} MB.")
    return data, name


def _decode(data: bytes, name: str) -> PILImage.Image:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow warns (UserWarning) about damaged EXIF/TIFF tags and skips them; the
            # pixels are still good, so such photos load instead of failing under -W error.
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: PILImage.Image = Image.open(io.BytesIO(data))
            if img.format not in ACCEPTED_FORMATS:
                raise ImageError(
                    f"{name} is a {img.format} image; use JPEG, PNG, WebP, BMP, GIF or TIFF.",
                    kind="image_format",
                )
            if img.width * img.height > MAX_PIXELS:
                raise _too_large(name, img.width, img.height)
            img.seek(0)
            img.load()
            img = ImageOps.exif_transpose(img) or img
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"{name} has too many pixels to open safely (over {MAX_PIXELS // 1_000_000} "
            "megapixels).",
            kind="image_too_large",
        ) from None
    except UnidentifiedImageError:
        raise ImageError(
            f"{name} is not an image (or not a format this app reads: JPEG, PNG, WebP, "
            "BMP, GIF, TIFF).",
            kind="image_not_image",
        ) from None
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(
            f"{name} is damaged or incomplete and cannot be decoded.",
            detail=str(exc),
            kind="image_damaged",
        ) from None
    return to_rgb(img)


def _too_large(name: str, width: int, height: int) -> ImageError:
    return ImageError(
        f"{name} is {width}x{height} pixels; images up to {MAX_PIXELS // 1_000_000} "
        "megapixels are accepted.",
        kind="image_too_large",
    )


def to_rgb(img: PILImage.Image) -> PILImage.Image:
    """Return ``img`` as 8-bit RGB: 16-bit scaled, palette expanded, alpha over white."""
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        hi = arr.max() or 1.0
        img = Image.fromarray((arr / hi * 255.0).clip(0, 255).astype("uint8"), mode="L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB") if img.mode != "RGB" else img
