"""Export results as JSON, CSV or a chart (PNG/SVG/PDF), written atomically.

CSV choices:
    * Encoding UTF-8 with a BOM (``utf-8-sig``): Excel reads a BOM-less CSV as the local
      ANSI code page and garbles any non-ASCII text; Python (``encoding="utf-8-sig"``),
      pandas and LibreOffice read the BOM correctly. Line ends are CRLF (RFC 4180).
    * Numbers are written as numbers (full ``repr`` precision); an absent channel leaves its
      cells empty.
    * Spreadsheet-formula injection: a *text* cell that starts with ``= + - @``, a tab or a
      carriage return is prefixed with a single quote (OWASP advice). Numbers are never
      altered, so a negative number stays a number.
    * ``text_top_words``: the words that raised the text's label most, with their weights
      (``disgusting +11.07; hate +1.19``), for a result explained on request; else empty.

Batch writers append rows themselves: ``csv_header(extra_columns)`` then
``result_to_row(result, extra)`` per result, in a file opened with ``encoding=CSV_ENCODING``
and ``newline=""`` (Python writes the BOM only at the start of a new file, not on append).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from vsa_desktop.core.errors import ExportError
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.verdict import verdict_of

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CSV_ENCODING = "utf-8-sig"
CHART_SUFFIXES = (".png", ".svg", ".pdf")
SUPPORTED_SUFFIXES = (".json", ".csv", *CHART_SUFFIXES)
PNG_DPI = 150  # 1200 x 750 px for the 8 x 5 inch figure: sharp on HiDPI screens and in print
FILE_MODE = 0o644
WARNING_SEPARATOR = " | "
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS: tuple[str, ...] = (
    "id", "created_at", "mode", "text", "image_name", "image_sha256",
    "text_model", "vision_backend", "vision_model",
    *(f"text_{e}" for e in EMOTIONS),
    *(f"vision_{e}" for e in EMOTIONS),
    *(f"fused_{e}" for e in EMOTIONS),
    "text_label", "vision_label", "fused_label", "fused_confidence",
    "agreement_score", "agreement_level", "agreement_verdict", "fusion_rule", "calibrated",
    "warnings", "text_top_words",
)  # fmt: skip
TOP_WORDS = 3  # words in ``text_top_words``


def export_results(
    results: Sequence[AnalysisResult],
    path: Path,
    overwrite: bool = False,
    caption: bool = True,
    thumbnails: Mapping[str, bytes] | None = None,
) -> Path:
    """Write ``results`` to ``path`` in the format its suffix names.

    ``.json``: one result gives its ``vsa.result/1`` document, several give a list.
    ``.csv``: one row per result (see ``CSV_COLUMNS``).
    ``.png``/``.svg``: the result chart for one result, the history chart for several, with a
    caption underneath (input, image, date, id, models, verdict, calibration) unless
    ``caption`` is False. ``.pdf``: a report, one page per result, the history summary page
    first when there are several (``caption=False``: the bare charts, same pages).
    ``thumbnails`` (result id to JPEG bytes, e.g. from the history) go into captions.

    Returns:
        The path written.

    Raises:
        ExportError: unknown suffix, nothing to export, file exists (without ``overwrite``),
            missing or read-only folder, full disk. A failed write leaves no file behind.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ExportError(
            f"{path.name} has no supported file type; use one of {', '.join(SUPPORTED_SUFFIXES)}.",
            kind="export_format",
        )
    if not results:
        raise ExportError("There is nothing to export.", kind="export_empty")
    writer = _writer_for(suffix, list(results), caption, thumbnails or {})
    return atomic_write(path, writer, overwrite=overwrite)


def _writer_for(
    suffix: str, results: list[AnalysisResult], caption: bool, thumbnails: Mapping[str, bytes]
) -> Callable[[IO[bytes]], object]:
    if suffix == ".json":
        return lambda stream: stream.write(results_json(results).encode("utf-8"))
    if suffix == ".csv":
        rows = [result_to_row(r) for r in results]
        return lambda stream: stream.write(csv_bytes(rows))
    return lambda stream: _save_chart(results, suffix[1:], stream, caption, thumbnails)


def results_json(results: Sequence[AnalysisResult]) -> str:
    """The JSON text: the document for one result, a list of documents for several."""
    data: Any = results[0].to_dict() if len(results) == 1 else [r.to_dict() for r in results]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def chart_figures(
    results: Sequence[AnalysisResult], fmt: str, caption: bool, thumbnails: Mapping[str, bytes]
) -> list[Figure]:
    """The figures a chart export draws: one for PNG/SVG, one per page for PDF."""
    from vsa_desktop.core.charts import history_figure, result_figure
    from vsa_desktop.core.report import captioned_figure, report_pages, summary_page

    if fmt == "pdf":
        if caption:
            return report_pages(results, thumbnails)
        summary = [history_figure(results)] if len(results) > 1 else []
        return summary + [result_figure(r) for r in results]
    if len(results) == 1:
        result = results[0]
        return [
            captioned_figure(result, thumbnails.get(result.id))
            if caption
            else result_figure(result)
        ]
    return [summary_page(results) if caption else history_figure(results)]


def _save_chart(
    results: list[AnalysisResult],
    fmt: str,
    stream: IO[bytes],
    caption: bool,
    thumbnails: Mapping[str, bytes],
) -> None:
    import matplotlib

    from vsa_desktop.core.charts import RENDER_LOCK

    with RENDER_LOCK, matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays text
        figures = chart_figures(results, fmt, caption, thumbnails)
        if fmt == "pdf":
            from matplotlib.backends.backend_pdf import PdfPages

            from vsa_desktop.core.report import PDF_METADATA

            with PdfPages(stream, metadata=PDF_METADATA) as pdf:
                for figure in figures:
                    pdf.savefig(figure)
            return
        # Figure.savefig picks the Agg/SVG canvas for the format itself: no pyplot, no GUI.
        figures[0].savefig(stream, format=fmt, dpi=PNG_DPI if fmt == "png" else None)


# --------------------------------------------------------------------------- CSV


def csv_header(extra_columns: Sequence[str] = ()) -> list[str]:
    """The CSV header: ``CSV_COLUMNS`` followed by ``extra_columns``, no name twice.

    An extra column whose name is already taken (an input CSV's own ``id`` or ``text``
    column kept by a batch run) is written as ``input.<name>`` (then ``input.<name>.2``...).
    """
    header = list(CSV_COLUMNS)
    taken = set(header)
    for name in extra_columns:
        unique = name
        if unique in taken:
            unique = f"input.{name}"
            n = 2
            while unique in taken:
                unique, n = f"input.{name}.{n}", n + 1
        taken.add(unique)
        header.append(unique)
    return header


def safe_cell(value: object) -> object:
    """Return ``value`` ready for a spreadsheet cell.

    None becomes an empty cell; text that a spreadsheet would run as a formula gets a
    leading single quote; numbers and booleans are returned unchanged.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def result_to_row(result: AnalysisResult, extra: Sequence[object] = ()) -> list[object]:
    """One CSV row for ``result`` (columns of ``csv_header``), then the ``extra`` values.

    Every cell, extras included, goes through ``safe_cell``.
    """
    text, vision, fusion = result.text, result.vision, result.fusion
    agreement = fusion.agreement if fusion else None
    image = result.image
    cells: list[object] = [
        result.id,
        result.created_at,
        result.mode,
        result.text_input,
        image.name if image else None,
        image.sha256 if image else None,
        text.model if text else None,
        vision.backend if vision else None,
        vision.model if vision else None,
        *_scores(text.shown_scores if text else None),
        *_scores(vision.shown_scores if vision else None),
        *_scores(fusion.shown_scores if fusion else None),
        text.label if text else None,
        vision.label if vision else None,
        fusion.label if fusion else None,
        fusion.confidence if fusion else None,
        agreement.score if agreement else None,
        agreement.level if agreement else None,
        verdict_of(agreement) if agreement else None,
        fusion.rule if fusion else None,
        fusion.calibrated if fusion else None,
        WARNING_SEPARATOR.join(result.warnings),
        top_words(result),
        *extra,
    ]
    return [safe_cell(cell) for cell in cells]


def top_words(result: AnalysisResult, n: int = TOP_WORDS) -> str | None:
    """The words that raised the text's label most, ``disgusting +11.07; hate +1.19``.

    None (an empty cell) when the result carries no explanation; an empty string when it
    does but no word raised the label.
    """
    explanation = result.text.explanation if result.text else None
    if explanation is None:
        return None
    return "; ".join(f"{word} {weight:+.2f}" for word, weight in explanation.top_words(n))


def _scores(scores: dict[str, float] | None) -> list[float | None]:
    return [scores[e] for e in EMOTIONS] if scores else [None] * len(EMOTIONS)


def csv_bytes(rows: Iterable[Sequence[object]], extra_columns: Sequence[str] = ()) -> bytes:
    """The whole CSV file (BOM, header, rows) as bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(csv_header(extra_columns))
    writer.writerows(rows)
    return buffer.getvalue().encode(CSV_ENCODING)


def export_csv_rows(
    rows: Iterable[Sequence[object]],
    path: Path,
    extra_columns: Sequence[str] = (),
    overwrite: bool = False,
) -> Path:
    """Write a CSV of rows made by ``result_to_row`` (with ``extra_columns``) atomically.

    Raises:
        ExportError: as for ``export_results``.
    """
    data = csv_bytes(list(rows), extra_columns)
    return atomic_write(Path(path), lambda stream: stream.write(data), overwrite=overwrite)


# ---------------------------------------------------------------------- writing


def atomic_write(path: Path, write: Callable[[IO[bytes]], object], overwrite: bool = False) -> Path:
    """Write a file through ``write(stream)`` all at once or not at all.

    The bytes go to a temporary file in the same folder, are flushed to disk (fsync), then
    renamed over ``path``. Without ``overwrite`` an existing ``path`` is never replaced, even
    by a file that appears while writing.

    Raises:
        ExportError: with one sentence for the user; no temporary file is left behind.
    """
    _check_target(path, overwrite)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, FILE_MODE)
        _publish(tmp, path, overwrite)
        tmp = None
    except OSError as exc:
        raise _export_error(exc, path) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _sync_folder(path.parent)
    return path


def _check_target(path: Path, overwrite: bool) -> None:
    folder = path.parent
    if not folder.exists():
        raise ExportError(
            f"The folder {folder} does not exist; choose another folder.",
            kind="export_folder",
        )
    if not folder.is_dir():
        raise ExportError(
            f"{folder} is a file, not a folder; choose another folder.", kind="export_folder"
        )
    if path.is_dir():
        raise ExportError(f"{path.name} is a folder; choose a file name.", kind="export_exists")
    if path.exists() and not overwrite:
        raise _exists(path)


def _exists(path: Path) -> ExportError:
    return ExportError(
        f"{path.name} already exists; choose another name or allow overwrite.",
        kind="export_exists",
    )


def _publish(tmp: str, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if path exists: no clobbering a file made meanwhile
    except FileExistsError:
        raise _exists(path) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if path.exists():  # no hard links on this file system (FAT, some shares)
            raise _exists(path) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _sync_folder(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _export_error(exc: OSError, path: Path) -> ExportError:
    code = exc.errno
    detail = f"{type(exc).__name__}: {exc}"
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        message = f"The disk is full: free some space, then export {path.name} again."
        kind = "export_disk_full"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        message = (
            f"The folder {path.parent} is read-only (or you may not write there); "
            "choose another folder."
        )
        kind = "export_read_only"
    elif code in (errno.ENOENT, errno.ENOTDIR):
        message = f"The folder {path.parent} does not exist; choose another folder."
        kind = "export_folder"
    elif code == errno.ENAMETOOLONG:
        message = f"The file name {path.name} is too long; choose a shorter one."
        kind = "export_name"
    else:
        message = f"{path.name} could not be written ({exc.strerror or exc})."
        kind = "export"
    return ExportError(message, detail=detail, kind=kind)
