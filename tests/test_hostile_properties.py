"""Property-based tests (hypothesis) of image intake, text decoding and batch input.

Whatever bytes, names, texts and paths come in: image intake gives an RGB image or an
ImageError; text decoding gives the exact text back (UTF-8/16/32) or an InputError; a
batch CSV or folder gives one item per row/image with its text unchanged, and refuses
exactly the paths that lead outside the input's folder. Nothing else is ever raised.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.hostile_corpus import png_bytes
from vsa_desktop.core.batch import read_items
from vsa_desktop.core.errors import ImageError, InputError
from vsa_desktop.core.imaging import MAX_PIXELS, load_image
from vsa_desktop.core.textfile import decode

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def sample(fmt: str) -> bytes:
    img = Image.new("RGB", (24, 16), (200, 40, 40))
    img.paste((20, 200, 90), (4, 4, 12, 12))
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return buffer.getvalue()


SAMPLES = {fmt: sample(fmt) for fmt in FORMATS}


def check_intake(data: bytes) -> None:
    try:
        loaded = load_image(data, "x")
    except ImageError as exc:
        assert exc.message and exc.message.endswith(".")
        return
    assert loaded.pixels.mode == "RGB"
    assert loaded.info.width * loaded.info.height <= MAX_PIXELS


@FAST
@given(data=st.binary(max_size=4096))
def test_any_bytes_are_an_image_or_an_image_error(data: bytes) -> None:
    check_intake(data)


@FAST
@given(
    fmt=st.sampled_from(FORMATS),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
)
def test_damaged_images_are_an_image_or_an_image_error(
    fmt: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(SAMPLES[fmt][: max(1, int(len(SAMPLES[fmt]) * (0.3 + 0.7 * cut)))])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    check_intake(bytes(data))


@FAST
@given(width=st.integers(1, 2**31 - 1), height=st.integers(1, 2**31 - 1))
def test_headers_claiming_any_size_never_decode_a_bomb(width: int, height: int) -> None:
    data = png_bytes(width, height)
    if width * height > MAX_PIXELS:
        with pytest.raises(ImageError):
            load_image(data, "bomb.png")
    else:
        check_intake(data)


TEXTS = st.text(st.characters(exclude_categories=("Cs",)), max_size=200)


@FAST
@given(text=TEXTS, encoding=st.sampled_from(("utf-8", "utf-8-sig", "utf-16", "utf-32")))
def test_unicode_encodings_decode_exactly(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    if encoding == "utf-8" and text.startswith("\ufeff"):
        text = text[1:]  # a leading BOM is a BOM
    assert decode(data, "t").text == text


@FAST
@given(data=st.binary(max_size=2048))
def test_any_bytes_decode_or_are_refused(data: bytes) -> None:
    try:
        decoded = decode(data, "t")
    except InputError as exc:
        assert "is not text" in exc.message
        return
    # Never a lenient read: the named encoding gives exactly this text, with no surrogates.
    assert data.decode(decoded.encoding) == decoded.text
    decoded.text.encode("utf-8")


# ------------------------------------------------------------------ batch input

CELLS = st.one_of(
    st.sampled_from(
        ["", "ok.png", "sub/ok.png", "../x.png", "../../etc/passwd", "/etc/hosts",
         "sub/../ok.png", "sub/../../x.png", "./ok.png", "a b/ç.png", ".."]
    ),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"), max_size=12),
)  # fmt: skip


def inside(folder: Path, cell: str) -> bool:
    """The test's own judgement: does ``cell`` (no symlinks here) stay inside ``folder``?"""
    target = os.path.normpath(os.path.join(folder, cell.strip()))
    return target == str(folder) or target.startswith(str(folder) + os.sep)


@FAST
@given(
    rows=st.lists(st.tuples(TEXTS, CELLS), min_size=1, max_size=15),
    encoding=st.sampled_from(("utf-8", "utf-8-sig", "utf-16")),
)
def test_csv_rows_keep_their_text_and_refuse_paths_outside(
    rows: list[tuple[str, str]], encoding: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp).resolve() / "input"
        folder.mkdir()
        source = folder / "in.csv"
        with source.open("w", encoding=encoding, newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "image", "note"])
            writer.writerows([[text, cell, "x"] for text, cell in rows])
        items, extra = read_items(source)
        again, _ = read_items(source)
    assert extra == ["note"] and len(items) == len(rows)
    assert [i.key for i in items] == [i.key for i in again]
    assert len({i.key for i in items}) == len(items)
    for item, (text, cell) in zip(items, rows, strict=True):
        assert item.text == (text if text.strip() else None)
        if not cell.strip():
            assert item.image is None and item.problem is None
        elif inside(folder, cell):
            assert item.problem is None, (cell, item.problem)
        else:
            assert item.problem and "outside the input's folder" in item.problem, cell


UNREADABLE = "<a companion the decoder refuses>"
NAMES = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="/\0"), min_size=1, max_size=10
)


@FAST
@given(
    files=st.dictionaries(
        NAMES,
        st.tuples(st.sampled_from([".png", ".JPG", ".webp", ".txt", ".md"]),
                  st.one_of(st.none(), TEXTS), st.sampled_from(["utf-8", "utf-16"])),
        max_size=12,
    ),
    link_out=st.booleans(),
)  # fmt: skip
def test_folder_items_pair_images_with_their_texts(
    files: dict[str, tuple[str, str | None, str]], link_out: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        folder = root / "pics"
        folder.mkdir()
        expected: dict[str, str | None] = {}
        for stem, (suffix, companion, encoding) in files.items():
            name = stem + suffix
            if name in (".", "..") or (folder / name).exists():
                continue
            try:
                (folder / name).write_bytes(b"not decoded by read_items")
            except OSError:  # a name the file system refuses (too long in bytes...)
                continue
            if suffix != ".txt" and suffix != ".md":
                expected[name] = None
                text_file = (folder / name).with_suffix(".txt")
                if companion is not None and not text_file.exists():
                    text_file.write_bytes(companion.encode(encoding))
        for name in expected:
            text_file = (folder / name).with_suffix(".txt")
            if text_file.exists():
                try:
                    expected[name] = decode(text_file.read_bytes(), "t").text.strip() or None
                except InputError:  # e.g. a NUL in UTF-16 text: refused for that row only
                    expected[name] = UNREADABLE
        if link_out:
            (root / "secret.png").write_bytes(b"x")
            (folder / "zz-link.png").symlink_to(root / "secret.png")
        items = read_items(folder)[0]
    by_name = {i.key: i for i in items}
    assert set(by_name) == set(expected) | ({"zz-link.png"} if link_out else set())
    for name, text in expected.items():
        if text is UNREADABLE:
            assert "not text" in (by_name[name].problem or ""), by_name[name]
            continue
        assert by_name[name].problem is None and by_name[name].text == text
    if link_out:
        assert "outside the input's folder" in (by_name["zz-link.png"].problem or "")
