"""Batch runs: many texts and/or images from a CSV or a folder, resumable, to JSONL and CSV."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from vsa_desktop.core.cancel import CancelToken, check
from vsa_desktop.core.errors import Cancelled, ExportError, InputError, VsaError
from vsa_desktop.core.export import CSV_ENCODING, csv_header, result_to_row
from vsa_desktop.core.imaging import IMAGE_SUFFIXES, LoadedImage, load_image
from vsa_desktop.core.pipeline import AnalysisRequest, analyze
from vsa_desktop.core.result import AnalysisResult, TextResult
from vsa_desktop.core.text.loader import load_text_analyzer
from vsa_desktop.core.textfile import decode, read_capped, read_text_file

if TYPE_CHECKING:
    from vsa_desktop.core.history import HistoryStore

log = logging.getLogger(__name__)

KEY_COLUMN = "batch_item"
TEXT_GROUP = 32  # texts analysed together (grouped by length) for throughput
MAX_CSV_BYTES = 256 * 2**20
OUTSIDE_HINT = "add --allow-paths-outside to allow it"


@dataclass(frozen=True)
class BatchItem:
    """One thing to analyze. ``key`` is stable across runs, so a re-run can skip it.

    Attributes:
        problem: why this row is refused before analysis (a path outside the input's
            folder, an unreadable companion text), else None.
        text_encoding: the encoding the text was read with when it was not UTF-8.
    """

    key: str
    text: str | None
    image: Path | None
    extra: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    text_encoding: str | None = None


@dataclass
class BatchSummary:
    """What a batch run did.

    Attributes:
        not_kept: results analysed and written out but not kept in history.
        history_problem: why the first of those was not kept (one sentence).
    """

    total: int = 0
    done: int = 0
    skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    labels: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    cancelled: bool = False
    not_kept: int = 0
    history_problem: str | None = None

    @property
    def per_second(self) -> float:
        """Items analysed per second in this run."""
        return self.done / self.seconds if self.seconds > 0 else 0.0


# progress(processed, total, summary-so-far)
BatchProgress = Callable[[int, int, BatchSummary], None]


def read_items(source: Path, allow_outside: bool = False) -> tuple[list[BatchItem], list[str]]:
    """Read batch items from a CSV (``text`` and/or ``image`` columns) or a folder of images.

    Image paths (and a folder's ``.txt`` companions) must lead inside the input's folder,
    symbolic links followed; rows that leave it are refused one by one (``problem``)
    unless ``allow_outside``.

    Returns:
        The items and the names of the extra columns kept with each output row.

    Raises:
        InputError: the source is missing or not a regular file or folder, a CSV that is
            not text, has broken quoting (the line is named) or no text/image column.
    """
    if source.is_dir():
        return _folder_items(source, allow_outside), []
    return _csv_items(source, allow_outside)


def batch_scope(source: Path) -> str:
    """A short id of the batch input, so history keys of two inputs never collide."""
    try:
        where = str(source.resolve())
    except (OSError, RuntimeError):
        where = str(source.absolute())
    return hashlib.sha1(where.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _csv_items(path: Path, allow_outside: bool) -> tuple[list[BatchItem], list[str]]:
    decoded = decode(read_capped(path, MAX_CSV_BYTES, "The batch input"), path.name)
    fields, rows = _parse_csv(decoded.text, path.name)
    lower = {name.strip().lower(): name for name in fields}
    text_col, image_col = lower.get("text"), lower.get("image")
    if text_col is None and image_col is None:
        raise InputError(f"{path.name} needs a 'text' and/or an 'image' column.")
    extra_cols = [name for name in fields if name and name not in (text_col, image_col)]
    folder = _resolved(path.parent)
    encoding = None if decoded.is_utf8 else decoded.encoding
    items = []
    for number, row in enumerate(rows, start=1):
        text = (row.get(text_col) or "") if text_col else ""
        image_cell = (row.get(image_col) or "").strip() if image_col else ""
        image = (path.parent / image_cell) if image_cell else None
        digest = hashlib.sha1(f"{text}\0{image_cell}".encode("utf-8", "surrogatepass")).hexdigest()[
            :12
        ]
        extra = {name: row.get(name) or "" for name in extra_cols}
        problem = _outside(image, image_cell, folder, allow_outside) if image else None
        items.append(
            BatchItem(
                f"{number}:{digest}",
                text if text.strip() else None,
                image,
                extra,
                problem,
                encoding if text.strip() else None,
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
        items.append(BatchItem(image.name, text, image, {}, problem, encoding))
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


class BatchOutputs:
    """The JSONL and/or CSV outputs of a run: knows what is done, appends what is new."""

    def __init__(self, jsonl: Path | None, csv_path: Path | None, extra_columns: list[str]):
        if jsonl is None and csv_path is None:
            raise InputError("Give an output: --jsonl and/or --csv.")
        self.jsonl, self.csv_path = jsonl, csv_path
        self.extra_columns = [KEY_COLUMN, *extra_columns]
        self.done_keys = self._load_done()

    def _load_done(self) -> set[str]:
        for path in (self.jsonl, self.csv_path):
            if path is not None and path.is_dir():
                raise InputError(f"The batch output {path} is a folder; give a file name.")
        try:
            json_keys = set(_jsonl_keys(self.jsonl)) if self.jsonl else None
            csv_keys = self._csv_keys() if self.csv_path else None
        except UnicodeDecodeError:
            raise InputError(
                "An existing batch output is not UTF-8 text: choose a new output file."
            ) from None
        except OSError as exc:
            raise ExportError(f"Cannot read the batch output: {exc.strerror}.") from None
        if json_keys is not None and csv_keys is not None:
            # A run killed between the JSONL and the CSV write left rows only in the JSONL.
            self._fill_csv_from_jsonl(json_keys - csv_keys)
            return json_keys | csv_keys
        return json_keys if json_keys is not None else (csv_keys or set())

    def _csv_keys(self) -> set[str]:
        """Keys already in the CSV; its header must be the one this run writes."""
        assert self.csv_path is not None
        if not self.csv_path.exists() or self.csv_path.stat().st_size == 0:
            return set()
        _cut_torn_csv_row(self.csv_path)
        with self.csv_path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != csv_header(self.extra_columns):
                raise InputError(
                    f"{self.csv_path.name} was written by a batch with other columns: "
                    "choose a new CSV output (or the input it was made from)."
                )
            return {row.get(KEY_COLUMN, "") for row in reader}

    def _fill_csv_from_jsonl(self, missing: set[str]) -> None:
        """A run killed between the JSONL and the CSV write: copy those rows to the CSV."""
        if not missing or self.jsonl is None:
            return
        with self._csv_file() as (_f, writer):
            for doc in _jsonl_docs(self.jsonl):
                batch = doc.get("batch") or {}
                key = str(batch.get("key"))
                if key in missing:
                    result = AnalysisResult.from_dict(doc)
                    writer.writerow(self._row(result, key, batch.get("extra", {})))

    def _row(self, result: AnalysisResult, key: str, extra: dict[str, str]) -> list[object]:
        values = [key, *(extra.get(name, "") for name in self.extra_columns[1:])]
        return result_to_row(result, values)

    @contextlib.contextmanager
    def _csv_file(self) -> Iterator[tuple[IO[str], csv.writer]]:  # type: ignore[valid-type]
        assert self.csv_path is not None
        new = not self.csv_path.exists() or self.csv_path.stat().st_size == 0
        with self.csv_path.open("a", encoding=CSV_ENCODING if new else "utf-8", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(csv_header(self.extra_columns))
            yield f, writer
            f.flush()
            os.fsync(f.fileno())

    def append(self, item: BatchItem, result: AnalysisResult) -> None:
        """Write one finished item to every output (JSONL first, then CSV)."""
        try:
            if self.jsonl is not None:
                doc = result.to_dict()
                doc["batch"] = {"key": item.key, "extra": item.extra}
                with self.jsonl.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(doc, ensure_ascii=False) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            if self.csv_path is not None:
                with self._csv_file() as (_f, writer):
                    writer.writerow(self._row(result, item.key, item.extra))
        except OSError as exc:
            raise ExportError(
                f"Cannot write the batch output: {exc.strerror}.", detail=str(exc)
            ) from None
        self.done_keys.add(item.key)


def _cut_torn_csv_row(path: Path) -> None:
    """A run killed mid-write left half a row: cut the file back to its last whole row.

    Rows end with a line break outside quotes (``csv.writer`` quotes any cell that holds
    a quote or a line break, and doubles inner quotes), so one pass finds the boundary.
    """
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    text = data.decode("utf-8", errors="surrogateescape")
    quoted, end = False, 0
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "\n" and not quoted:
            end = i + 1
    keep = len(text[:end].encode("utf-8", errors="surrogateescape"))
    log.info("cutting a torn last row from %s (%d bytes)", path, len(data) - keep)
    with path.open("r+b") as f:
        f.truncate(keep)


def _jsonl_docs(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            with contextlib.suppress(ValueError):
                doc = json.loads(line)
                if isinstance(doc, dict):
                    yield doc


def _jsonl_keys(path: Path) -> list[str]:
    """Keys already in a JSONL output; a torn last line (killed run) is cut off first."""
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)
    return [str((d.get("batch") or {}).get("key")) for d in _jsonl_docs(path)]


def run_batch(
    items: list[BatchItem],
    outputs: BatchOutputs,
    make_request: Callable[[BatchItem], AnalysisRequest],
    *,
    history: HistoryStore | None = None,
    keep_thumbnail: bool = True,
    progress: BatchProgress | None = None,
    cancel: CancelToken | None = None,
    history_scope: str = "",
) -> BatchSummary:
    """Analyze every item not already done; bad items are reported and skipped.

    Texts are analysed in groups of ``TEXT_GROUP`` (sorted by length, dynamic padding), then
    each item goes through ``pipeline.analyze`` with its text result. Each result is kept
    in history first, under the batch key ``history_scope + "|" + item.key`` (a re-run
    replaces, never duplicates, it), then appended to the outputs. A history that cannot
    be written does not stop the run: ``summary.not_kept`` counts those rows.
    """
    started = time.perf_counter()
    run = _BatchRun(outputs, make_request, history, keep_thumbnail, history_scope, cancel)
    run.summary.total = len(items)
    todo = [item for item in items if item.key not in outputs.done_keys]
    run.summary.skipped = len(items) - len(todo)
    processed = run.summary.skipped
    try:
        for start in range(0, len(todo), TEXT_GROUP):
            group = todo[start : start + TEXT_GROUP]
            texts = _group_texts([i for i in group if i.problem is None], make_request)
            for item in group:
                check(cancel)
                run.one(item, texts.get(item.key))
                processed += 1
                if progress:
                    progress(processed, len(items), run.summary)
    except Cancelled:
        run.summary.cancelled = True
    run.summary.seconds = time.perf_counter() - started
    return run.summary


def _group_texts(
    group: list[BatchItem], make_request: Callable[[BatchItem], AnalysisRequest]
) -> dict[str, TextResult]:
    with_text = [item for item in group if item.text]
    if not with_text:
        return {}
    request = make_request(with_text[0])
    try:
        analyzer = load_text_analyzer(request.text_model, request.text_runtime)
        results = analyzer.analyze_batch([item.text or "" for item in with_text])
    except VsaError as exc:  # one bad text or a model problem: fall back to one by one
        log.info("grouped text analysis failed (%s); analysing one by one", exc.message)
        return {}
    return {item.key: r for item, r in zip(with_text, results, strict=True)}


@dataclass
class _BatchRun:
    """What every item of one run needs, and the summary it adds to."""

    outputs: BatchOutputs
    make_request: Callable[[BatchItem], AnalysisRequest]
    history: HistoryStore | None
    keep_thumbnail: bool
    scope: str
    cancel: CancelToken | None
    summary: BatchSummary = field(default_factory=BatchSummary)

    def one(self, item: BatchItem, text: TextResult | None) -> None:
        """Analyze one item, keep it in history, append it to the outputs."""
        try:
            result, image = self._analyze(item, text)
        except Cancelled:
            raise
        except VsaError as exc:
            self.summary.failures.append((item.key, exc.message))
            return
        result = self._keep(item, result, image)
        self.outputs.append(item, result)
        self.summary.done += 1
        if result.fusion:
            self.summary.labels[result.fusion.label] += 1

    def _analyze(
        self, item: BatchItem, text: TextResult | None
    ) -> tuple[AnalysisResult, LoadedImage | None]:
        if item.problem is not None:
            raise InputError(item.problem)
        if item.text is None and item.image is None:
            raise InputError("The row has neither text nor image.")
        request = self.make_request(item)
        image, image_ms = None, 0.0
        if item.image is not None:  # loaded here so its pixels can make the thumbnail
            t0 = time.perf_counter()
            image = load_image(item.image)
            image_ms = (time.perf_counter() - t0) * 1000.0
            request = dataclasses.replace(request, image=image)
        result = analyze(request, self.cancel, text_result=text)
        timings = dict(result.timings_ms)
        if image is not None:
            timings["image"] = image_ms
            timings["total"] = timings.get("total", 0.0) + image_ms
        notes = (_encoding_note(item.text_encoding),) if item.text_encoding else ()
        return dataclasses.replace(
            result, warnings=(*notes, *result.warnings), timings_ms=timings
        ), image

    def _keep(
        self, item: BatchItem, result: AnalysisResult, image: LoadedImage | None
    ) -> AnalysisResult:
        """Keep ``result`` in history under its batch key; a failure is counted, not fatal."""
        if self.history is None:
            return result
        try:
            self.history.add(
                result,
                thumbnail_source=image.pixels if image else None,
                keep_thumbnail=self.keep_thumbnail,
                batch_key=f"{self.scope}|{item.key}",
            )
        except VsaError as exc:
            self.summary.not_kept += 1
            if self.summary.history_problem is None:
                self.summary.history_problem = exc.message
                log.info("history write failed: %s (%s)", exc.message, exc.detail)
            return dataclasses.replace(
                result, warnings=(*result.warnings, f"Not saved to history: {exc.message}")
            )
        return result


def _encoding_note(encoding: str) -> str:
    return f"The text is not UTF-8; it was read as {encoding.upper()}."
