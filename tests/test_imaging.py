"""Tests of the safe image intake (vsa_desktop.core.imaging) on files made here."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vsa_desktop.core.errors import ImageError
from vsa_desktop.core.imaging import load_image, to_rgb

ORIENTATION = 0x0112


def _gradient(width: int = 64, height: int = 40) -> Image.Image:
    """An RGB image whose pixels differ, so orientation and frames are checkable."""
    x = np.linspace(0, 255, width, dtype=np.uint8)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height, dtype=np.uint8)[:, None].repeat(width, 1)
    return Image.fromarray(np.dstack([x, y, np.full_like(x, 90)]), mode="RGB")


def _mode_and_size(path: Path) -> tuple[str, tuple[int, int], int]:
    with Image.open(path) as img:
        return img.mode, img.size, getattr(img, "n_frames", 1)


def _save(img: Image.Image, path: Path, fmt: str, **params: object) -> Path:
    img.save(path, format=fmt, **params)
    return path


@pytest.mark.parametrize(
    ("fmt", "suffix"),
    [
        ("JPEG", ".jpg"),
        ("PNG", ".png"),
        ("WEBP", ".webp"),
        ("BMP", ".bmp"),
        ("GIF", ".gif"),
        ("TIFF", ".tif"),
    ],
)
def test_common_formats_open_as_rgb(tmp_path: Path, fmt: str, suffix: str) -> None:
    path = _save(_gradient(), tmp_path / f"photo{suffix}", fmt)
    loaded = load_image(path)
    assert loaded.pixels.mode == "RGB"
    assert loaded.pixels.size == (64, 40)
    assert (loaded.info.width, loaded.info.height) == (64, 40)
    assert loaded.info.name == f"photo{suffix}"
    assert loaded.info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_bytes_and_path_give_the_same_fingerprint(tmp_path: Path) -> None:
    path = _save(_gradient(), tmp_path / "a.png", "PNG")
    from_path = load_image(path)
    from_bytes = load_image(path.read_bytes(), name="a.png")
    assert from_path.info == from_bytes.info
    assert np.array_equal(np.asarray(from_path.pixels), np.asarray(from_bytes.pixels))


def test_gif_gives_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (32, 32), color) for color in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert _mode_and_size(path)[2] == 2
    pixels = np.asarray(load_image(path).pixels)
    red, green, blue = pixels[16, 16]
    assert red > 200 and blue < 50 and green < 50


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    img = _gradient(80, 30)
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # "rotate 90 CW to display"
    path = _save(img, tmp_path / "rotated.jpg", "JPEG", exif=exif.tobytes(), quality=95)
    assert _mode_and_size(path)[1] == (80, 30)
    loaded = load_image(path)
    assert loaded.pixels.size == (30, 80)
    assert (loaded.info.width, loaded.info.height) == (30, 80)
    # Orientation 6 puts the original left column at the top: the top row's red is ~0.
    top_row = np.asarray(loaded.pixels)[0, :, 0].astype(int)
    assert top_row.max() < 40


@pytest.mark.parametrize("mode", ["CMYK", "P", "RGBA", "LA", "L", "1"])
def test_modes_come_out_rgb(tmp_path: Path, mode: str) -> None:
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    img = _gradient().convert(mode)
    path = _save(img, tmp_path / f"m.{fmt.lower()}", fmt)
    assert _mode_and_size(path)[0] == mode
    loaded = load_image(path)
    assert loaded.pixels.mode == "RGB"
    assert loaded.pixels.size == (64, 40)


def test_transparent_pixels_become_white(tmp_path: Path) -> None:
    img = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    img.putpixel((5, 5), (255, 0, 0, 255))
    pixels = np.asarray(load_image(_save(img, tmp_path / "a.png", "PNG")).pixels)
    assert tuple(pixels[0, 0]) == (255, 255, 255)
    assert tuple(pixels[5, 5]) == (255, 0, 0)


def test_palette_with_transparency_comes_out_rgb(tmp_path: Path) -> None:
    img = Image.new("P", (8, 8), 0)
    img.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    img.putpixel((1, 1), 1)
    path = _save(img, tmp_path / "p.png", "PNG", transparency=0)
    pixels = np.asarray(load_image(path).pixels)
    assert tuple(pixels[0, 0]) == (255, 255, 255)
    assert tuple(pixels[1, 1]) == (0, 200, 0)


def test_16_bit_grey_is_scaled_not_clipped(tmp_path: Path) -> None:
    ramp = np.linspace(0, 65535, 64 * 40, dtype=np.uint16).reshape(40, 64)
    img = Image.fromarray(ramp)
    path = _save(img, tmp_path / "deep.png", "PNG")
    assert _mode_and_size(path)[0] == "I;16"
    pixels = np.asarray(load_image(path).pixels)
    assert pixels.shape == (40, 64, 3)
    assert pixels[0, 0, 0] == 0
    assert pixels[-1, -1, 0] == 255
    assert 100 < pixels[20, 32, 0] < 160  # mid-grey stays mid-grey (not all white)


def test_to_rgb_handles_float_and_32_bit_images() -> None:
    for mode in ("I", "F", "I;16B"):
        assert to_rgb(Image.new(mode, (4, 4))).mode == "RGB"


def _refusal(source: Path | bytes) -> ImageError:
    with pytest.raises(ImageError) as info:
        load_image(source)
    return info.value


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _huge_bilevel_png(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG, built with zlib in a fraction of a second."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(6)
    block = row * 1000
    parts = [compressor.compress(block) for _ in range(height // 1000)]
    parts.append(compressor.compress(row * (height % 1000)))
    parts.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def _header_size(path: Path) -> tuple[int, int]:
    """Read the size from the header with Pillow's bomb check off (nothing is decoded)."""
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path) as img:
            return img.size
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def test_each_bad_file_gets_its_own_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    good = _save(_gradient(200, 200), tmp_path / "good.jpg", "JPEG").read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good[: len(good) // 2])
    text = tmp_path / "notes.png"
    text.write_text("These are my notes, not a picture.\n", encoding="utf-8")
    huge = tmp_path / "huge.png"
    huge.write_bytes(_huge_bilevel_png(20000, 20000))
    assert _header_size(huge) == (20000, 20000)

    errors = {path.name: _refusal(path) for path in (empty, truncated, text, huge)}

    assert errors["empty.jpg"].kind == "image_empty"
    assert "empty" in errors["empty.jpg"].message
    assert errors["truncated.jpg"].kind == "image_damaged"
    assert "damaged or incomplete" in errors["truncated.jpg"].message
    assert errors["notes.png"].kind == "image_not_image"
    assert "not an image" in errors["notes.png"].message
    assert errors["huge.png"].kind == "image_too_large"
    assert "pixels" in errors["huge.png"].message
    messages = [e.message for e in errors.values()]
    assert len(set(messages)) == len(messages)
    for name, error in errors.items():
        assert name in error.message  # the user sees which file
        assert "Traceback" not in error.message
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__


def test_too_many_pixels_under_the_bomb_limit_is_refused_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    path.write_bytes(_huge_bilevel_png(9000, 8000))  # 72 MP: above our 64 MP, below Pillow's
    error = _refusal(path)
    assert error.kind == "image_too_large"
    assert "9000x8000" in error.message


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert "does not exist" in _refusal(tmp_path / "nope.jpg").message
    assert "not a file" in _refusal(tmp_path).message or "folder" in _refusal(tmp_path).message


def test_unsupported_format_is_named(tmp_path: Path) -> None:
    path = _save(_gradient(), tmp_path / "pic.ico", "ICO")
    error = _refusal(path)
    assert error.kind == "image_format"
    assert "ICO" in error.message


def test_damaged_exif_does_not_stop_a_good_photo(tmp_path: Path) -> None:
    # Pillow warns "Tag data larger than file" and skips the tag; with pytest's
    # filterwarnings=error this used to escape as a bare UserWarning.
    tags = Image.Exif()
    tags[ORIENTATION] = 6
    exif = bytearray(tags.tobytes())
    entry = exif.index(b"\x01\x12\x00\x03")  # tag 0x0112, type SHORT
    exif[entry + 4 : entry + 8] = (1000).to_bytes(4, "big")  # count far beyond the data
    path = _save(_gradient(40, 20), tmp_path / "phone.jpg", "JPEG", exif=bytes(exif))
    loaded = load_image(path)
    assert loaded.pixels.mode == "RGB"
    assert loaded.pixels.size == (40, 20)  # the broken orientation tag is ignored
