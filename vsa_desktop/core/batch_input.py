"""Batch input: rows from a CSV, a JSONL or a Parquet file, or a folder of images.

Every engine (local or Ray) reads its input here, so the same input gives the same row keys,
the same refusals and the same notes whichever engine runs it, and a run started on one
engine can be resumed on the other.

A row's key is ``<row number>:<first 12 hex of sha1(text NUL image)>`` for tables (the
row number counts data rows from 1) and the image's file name for a folder.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vsa_desktop.core.errors import InputError
from vsa_desktop.core.imaging import IMAGE_SUFFIXES
from vsa_desktop.core.textfile import decode, read_capped, read_text_file

MAX_CSV_BYTES = 256 * 2**20
MAX_TABLE_BYTES = 2 * 2**30  # JSONL and Parquet inputs: read whole, then parsed
MAX_JSONL_LINE_BYTES = 8 * 2**20
OUTSIDE_HINT = "add --allow-paths-outside to allow it"


@dataclass(frozen=True)
class BatchItem:
    """One thing to analyze. ``key`` is stable across runs, so a re-run can skip it.

    Attributes:
        problem: why this row is refused before analysis (a path outside the input's
            folder, an unreadable companion text), else None.
        text_encoding: the encoding the text was read with when it was not UTF-8.
        image_ref: the image as the input names it (a CSV cell, a file name), "" for none.
    """

    key: str
    text: str | None
    image: Path | None
    extra: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    text_encoding: str | None = None
    image_ref: str = ""


def read_items(source: Path, allow_outside: bool = False) -> tuple[list[BatchItem], list[str]]:
    """Read batch items from a table or a folder of images.

    Tables: a CSV, a JSONL (``.jsonl``/``.ndjson``, one object per line) or a Parquet file
    with ``text`` and/or ``image`` columns (image paths relative to the file); other columns
    are kept with each output row. A folder: its images, each with the text of a same-name
    ``.txt`` file when there is one. Image paths (and ``.txt`` companions) must lead inside
    the input's folder, symbolic links followed; rows that leave it are refused one by one
    (``problem``) unless ``allow_outside``.

    Returns:
        The items and the names of the extra columns kept with each output row.

    Raises:
        InputError: the source is missing or not a regular file or folder, a table that is
            not text, has broken quoting or a broken line (the line is named), or has no
            text/image column.
    """
    if source.is_dir():
        return _folder_items(source, allow_outside), []
    suffix = source.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        fields, rows = _jsonl_rows(source)
        return _table_items(source, fields, rows, allow_outside, None)
    if suffix == ".parquet":
        fields, rows = _parquet_rows(source)
        return _table_items(source, fields, rows, allow_outside, None)
    decoded = decode(read_capped(source, MAX_CSV_BYTES, "The batch input"), source.name)
    fields, rows = _parse_csv(decoded.text, source.name)
    encoding = None if decoded.is_utf8 else decoded.encoding
    return _table_items(source, fields, rows, allow_outside, encoding)


def batch_scope(source: Path) -> str:
    """A short id of the batch input, so history keys of two inputs never collide."""
    try:
        where = str(source.resolve())
    except (OSError, RuntimeError):
        where = str(source.absolute())
    return hashlib.sha1(where.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def row_key(number: int, text: str, image_cell: str) -> str:
    """The key of a table row: its number and a digest of what it holds."""
    digest = hashlib.sha1(f"{text}\0{image_cell}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{number}:{digest[:12]}"


def row_name(key: str, extra: Mapping[str, object] | None = None) -> str:
    """How messages name a row: ``row 5 (id a4)``, ``row 5``, or a folder item's file name.

    The key (``5:20509571ff33``) is for resuming, not for people: its digest means nothing
    to them, while the row number and the input's own ``id`` find the row in the table.
    """
    number, sep, digest = key.partition(":")
    if not (sep and number.isdigit() and len(digest) == 12):
        return key  # a folder item: its key is the image's file name
    ident = str((extra or {}).get("id") or "").strip()
    return f"row {number} (id {ident})" if ident else f"row {number}"


def _table_items(
    path: Path,
    fields: list[str],
    rows: list[dict[str, str]],
    allow_outside: bool,
    encoding: str | None,
) -> tuple[list[BatchItem], list[str]]:
    lower = {name.strip().lower(): name for name in fields}
    text_col, image_col = lower.get("text"), lower.get("image")
    if text_col is None and image_col is None:
        raise InputError(f"{path.name} needs a 'text' and/or an 'image' column.")
    extra_cols = [name for name in fields if name and name not in (text_col, image_col)]
    folder = _resolved(path.parent)
    items = []
    for number, row in enumerate(rows, start=1):
        text = (row.get(text_col) or "") if text_col else ""
        image_cell = (row.get(image_col) or "").strip() if image_col else ""
        image = (path.parent / image_cell) if image_cell else None
        extra = {name: row.get(name) or "" for name in extra_cols}
        problem = _outside(image, image_cell, folder, allow_outside) if image else None
        has_text = bool(text.strip())
        items.append(
            BatchItem(
                row_key(number, text, image_cell),
                text if has_text else None,
                image,
                extra,
                problem,
                encoding if has_text else None,
                image_cell,
            )
        )
    return items, extra_cols


def _parse_csv(text: str, name: str) -> tuple[list[str], list[dict[str, str]]]:
    """Parse strictly: broken quoting or a row wider than the header names its line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[dict[str, str]] = []
    fields: list[str] = []
    start = 1
    try:
        for row in reader:
            if not fields:
                fields = row
            elif row:
                rows.append(_row_fields(row, fields, name, start))
            start = reader.line_num + 1
    except csv.Error as exc:
        reason = (
            "a quote opened there is never closed"
            if "end of data" in str(exc)
            else f"broken quoting ({exc})"
        )
        raise InputError(
            f"{name} line {start} is malformed: {reason}; fix the quoting and run again.",
            detail=str(exc),
        ) from None
    if not [f for f in fields if f.strip()]:
        raise InputError(f"{name} is empty or has no header line.")
    return fields, rows


def _row_fields(row: list[str], fields: list[str], name: str, line: int) -> dict[str, str]:
    if len(row) > len(fields) and any(cell.strip() for cell in row[len(fields) :]):
        raise InputError(
            f"{name} line {line} is malformed: it has {len(row)} fields but the header has "
            f"{len(fields)}; quote cells that hold commas and run again."
        )
    return dict(zip(fields, [*row, *[""] * (len(fields) - len(row))], strict=False))


def _cell(value: Any) -> str:
    """A JSONL or Parquet value as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if hasattr(value, "isoformat"):  # Parquet dates and timestamps
        return str(value.isoformat())
    return json.dumps(value, ensure_ascii=False, default=str)


def _jsonl_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Rows of a JSONL file (UTF-8, one JSON object per line; blank lines skipped)."""
    data = read_capped(path, MAX_TABLE_BYTES, "The batch input")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    fields: dict[str, None] = {}
    rows = [
        _jsonl_row(raw, path.name, number, fields)
        for number, raw in enumerate(data.split(b"\n"), start=1)
        if raw.strip()
    ]
    if not rows:
        raise InputError(f"{path.name} is empty: it holds no JSON lines.")
    return list(fields), rows


def _jsonl_row(raw: bytes, name: str, number: int, fields: dict[str, None]) -> dict[str, str]:
    if len(raw) > MAX_JSONL_LINE_BYTES:
        raise InputError(f"{name} line {number} is longer than {MAX_JSONL_LINE_BYTES // 2**20} MB.")
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{name} line {number} is not UTF-8 text; JSONL must be UTF-8.") from None
    except ValueError as exc:
        raise InputError(
            f"{name} line {number} is not JSON ({exc.args[0] if exc.args else exc}); "
            "fix it and run again."
        ) from None
    if not isinstance(value, dict):
        raise InputError(f"{name} line {number} is not a JSON object; each line must be one.")
    for key in value:
        fields.setdefault(str(key), None)
    return {str(k): _cell(v) for k, v in value.items()}


def _parquet_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            "Reading Parquet needs pyarrow: install the scale extra "
            "(pip install 'vsa-desktop[scale]')."
        ) from None
    data = read_capped(path, MAX_TABLE_BYTES, "The batch input")
    try:
        table = pq.read_table(pa.BufferReader(data))
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        raise InputError(
            f"{path.name} is not a readable Parquet file ({type(exc).__name__}).",
            detail=str(exc),
        ) from None
    fields = [str(name) for name in table.column_names]
    rows = [{str(k): _cell(v) for k, v in row.items()} for row in table.to_pylist()]
    return fields, rows


def _folder_items(folder: Path, allow_outside: bool) -> list[BatchItem]:
    root = _resolved(folder)
    items = []
    for image in sorted(folder.iterdir()):
        if image.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if not image.is_symlink() and not image.is_file():
            continue  # a folder named like an image
        problem = _outside(image, image.name, root, allow_outside)
        text, encoding = None, None
        if problem is None:
            try:
                text, encoding = _companion_text(image.with_suffix(".txt"), root, allow_outside)
            except InputError as exc:
                problem = exc.message
        items.append(BatchItem(image.name, text, image, {}, problem, encoding, image.name))
    return items


def _companion_text(
    text_file: Path, root: Path, allow_outside: bool
) -> tuple[str | None, str | None]:
    """The text of an image's ``.txt`` companion (None when there is none)."""
    if not text_file.is_symlink() and not text_file.exists():
        return None, None
    problem = _outside(text_file, text_file.name, root, allow_outside, "text file")
    if problem:
        raise InputError(problem)
    decoded = read_text_file(text_file, "The text file")
    text = decoded.text.strip() or None
    return text, (None if decoded.is_utf8 or text is None else decoded.encoding)


def _resolved(folder: Path) -> Path:
    try:
        return folder.resolve()
    except (OSError, RuntimeError) as exc:
        raise InputError(f"The folder {folder} cannot be followed ({exc}).") from None


def _outside(
    path: Path, shown: str, root: Path, allow_outside: bool, what: str = "image"
) -> str | None:
    """Why ``path`` is refused (it leads outside ``root``), else None."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return f"The {what} {shown} cannot be followed (a loop of symbolic links)."
    if allow_outside or resolved == root or resolved.is_relative_to(root):
        return None
    return f"The {what} {shown} lies outside the input's folder; {OUTSIDE_HINT}."


def inside(path: Path, root: Path) -> bool:
    """True when ``path`` (symbolic links followed) lies inside the folder ``root``."""
    return _outside(path, path.name, _resolved(root), False) is None
