"""Batch runs: many texts and/or images from a CSV or a folder, resumable, to JSONL and CSV."""

from __future__ import annotations

import contextlib
import csv
import hashlib
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
from vsa_desktop.core.imaging import IMAGE_SUFFIXES
from vsa_desktop.core.pipeline import AnalysisRequest, analyze
from vsa_desktop.core.result import AnalysisResult, TextResult
from vsa_desktop.core.text.loader import load_text_analyzer

if TYPE_CHECKING:
    from vsa_desktop.core.history import HistoryStore

log = logging.getLogger(__name__)

KEY_COLUMN = "batch_item"
TEXT_GROUP = 32  # texts analysed together (grouped by length) for throughput


@dataclass(frozen=True)
class BatchItem:
    """One thing to analyze. ``key`` is stable across runs, so a re-run can skip it."""

    key: str
    text: str | None
    image: Path | None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class BatchSummary:
    """What a batch run did."""

    total: int = 0
    done: int = 0
    skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    labels: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    cancelled: bool = False

    @property
    def per_second(self) -> float:
        """Items analysed per second in this run."""
        return self.done / self.seconds if self.seconds > 0 else 0.0


# progress(processed, total, summary-so-far)
BatchProgress = Callable[[int, int, BatchSummary], None]


def read_items(source: Path) -> tuple[list[BatchItem], list[str]]:
    """Read batch items from a CSV (``text`` and/or ``image`` columns) or a folder of images.

    Returns:
        The items and the names of the extra columns kept with each output row.

    Raises:
        InputError: the source is missing, or a CSV without text/image columns.
    """
    if source.is_dir():
        return _folder_items(source), []
    if not source.is_file():
        raise InputError(f"The batch input {source} does not exist.")
    return _csv_items(source)


def _csv_items(path: Path) -> tuple[list[BatchItem], list[str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            fields = [name for name in (reader.fieldnames or []) if name]
            rows = list(reader)
    except UnicodeDecodeError:
        raise InputError(f"{path.name} is not UTF-8 text.") from None
    except (OSError, csv.Error) as exc:
        raise InputError(f"{path.name} cannot be read as CSV: {exc}.") from None
    lower = {name.strip().lower(): name for name in fields}
    text_col, image_col = lower.get("text"), lower.get("image")
    if text_col is None and image_col is None:
        raise InputError(f"{path.name} needs a 'text' and/or an 'image' column.")
    extra_cols = [name for name in fields if name not in (text_col, image_col)]
    items = []
    for number, row in enumerate(rows, start=1):
        text = (row.get(text_col) or "") if text_col else ""
        image_cell = (row.get(image_col) or "").strip() if image_col else ""
        image = (path.parent / image_cell) if image_cell else None
        digest = hashlib.sha1(f"{text}\0{image_cell}".encode()).hexdigest()[:12]
        extra = {name: row.get(name) or "" for name in extra_cols}
        items.append(BatchItem(f"{number}:{digest}", text if text.strip() else None, image, extra))
    return items, extra_cols


def _folder_items(folder: Path) -> list[BatchItem]:
    items = []
    for image in sorted(folder.iterdir()):
        if image.suffix.lower() not in IMAGE_SUFFIXES or not image.is_file():
            continue
        text_file = image.with_suffix(".txt")
        text = None
        if text_file.is_file():
            text = text_file.read_text(encoding="utf-8", errors="replace").strip() or None
        items.append(BatchItem(image.name, text, image))
    return items


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
) -> BatchSummary:
    """Analyze every item not already done; bad items are reported and skipped.

    Texts are analysed in groups of ``TEXT_GROUP`` (sorted by length, dynamic padding), then
    each item goes through ``pipeline.analyze`` with its text result.
    """
    started = time.perf_counter()
    summary = BatchSummary(total=len(items))
    todo = [item for item in items if item.key not in outputs.done_keys]
    summary.skipped = len(items) - len(todo)
    processed = summary.skipped
    try:
        for start in range(0, len(todo), TEXT_GROUP):
            group = todo[start : start + TEXT_GROUP]
            texts = _group_texts(group, make_request)
            for item in group:
                check(cancel)
                _run_one(
                    item,
                    texts.get(item.key),
                    outputs,
                    make_request,
                    history,
                    keep_thumbnail,
                    summary,
                    cancel,
                )
                processed += 1
                if progress:
                    progress(processed, len(items), summary)
    except Cancelled:
        summary.cancelled = True
    summary.seconds = time.perf_counter() - started
    return summary


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


def _run_one(
    item: BatchItem,
    text: TextResult | None,
    outputs: BatchOutputs,
    make_request: Callable[[BatchItem], AnalysisRequest],
    history: HistoryStore | None,
    keep_thumbnail: bool,
    summary: BatchSummary,
    cancel: CancelToken | None = None,
) -> None:
    try:
        if item.text is None and item.image is None:
            raise InputError("The row has neither text nor image.")
        result = analyze(
            make_request(item),
            cancel,
            history=history,
            keep_thumbnail=keep_thumbnail,
            text_result=text,
        )
    except Cancelled:
        raise
    except VsaError as exc:
        summary.failures.append((item.key, exc.message))
        return
    outputs.append(item, result)
    summary.done += 1
    if result.fusion:
        summary.labels[result.fusion.label] += 1
