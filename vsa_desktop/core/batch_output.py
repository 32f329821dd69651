"""Batch outputs: JSONL, CSV and Parquet files that know which rows are done.

Every input row ends up in the outputs once, whatever became of it:

* ``ok``: analysed; a ``vsa.result/1`` document with ``batch.status = "ok"``.
* ``partial``: analysed, but something the row named was missing (an image file that is
  not there: the row was read from its text alone, with a warning).
* ``failed``: not analysed; a ``vsa.batch-failure/1`` document (input, error kind and
  message) and a CSV row whose result cells are empty and whose ``error`` cell says why.

A re-run skips ``ok`` rows, and ``partial`` rows whose image is still missing. It retries
``failed`` rows and ``partial`` rows whose image has appeared: their old lines are taken
out of every output first (each file rewritten atomically), so a row is never there twice.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from vsa_desktop.core.batch_input import BatchItem
from vsa_desktop.core.errors import ExportError, InputError
from vsa_desktop.core.export import CSV_COLUMNS, CSV_ENCODING, csv_header, result_to_row, safe_cell
from vsa_desktop.core.result import AnalysisResult, utc_now

log = logging.getLogger(__name__)

STATUS_OK, STATUS_PARTIAL, STATUS_FAILED = "ok", "partial", "failed"
FAILURE_SCHEMA = "vsa.batch-failure/1"
KEY_COLUMN = "batch_item"
BATCH_COLUMNS = (KEY_COLUMN, "status", "error")


@dataclass(frozen=True)
class Outcome:
    """What became of one item: its result, or why it failed.

    Attributes:
        error: ``{"kind", "message"}`` when the item failed, else None.
        status: ``ok``, ``partial`` or ``failed`` (see the module docstring).
    """

    item: BatchItem
    result: AnalysisResult | None = None
    error: dict[str, str] | None = None
    status: str = STATUS_OK


@dataclass(frozen=True)
class Record:
    """One output row ready to write: the JSONL line (no line break) and the CSV cells.

    Attributes:
        label: the fused label (None for a failed row), for the run's summary.
        message: why the row failed ("" otherwise).
    """

    key: str
    status: str
    line: str
    cells: list[Any]
    label: str | None = None
    message: str = ""

    def to_list(self) -> list[Any]:
        """The record as a JSON-able list (how Ray workers hand records to the writer)."""
        return [self.key, self.status, self.line, self.cells, self.label, self.message]

    @classmethod
    def from_list(cls, values: list[Any]) -> Record:
        key, status, line, cells, label, message = values
        return cls(key, status, line, cells, label, message)


def outcome_doc(outcome: Outcome) -> dict[str, Any]:
    """The JSONL document of an outcome (``vsa.result/1`` or ``vsa.batch-failure/1``)."""
    item = outcome.item
    batch: dict[str, Any] = {
        "key": item.key,
        "status": outcome.status,
        "image": item.image_ref or None,
        "extra": item.extra,
    }
    if outcome.result is not None:
        return {**outcome.result.to_dict(), "batch": batch}
    return {
        "schema": FAILURE_SCHEMA,
        "created_at": utc_now(),
        "input": {"text": item.text, "image": _image_name(item)},
        "batch": {**batch, "error": dict(outcome.error or {})},
    }


def make_record(outcome: Outcome, input_columns: list[str]) -> Record:
    """The record of ``outcome`` for outputs whose extra columns are ``input_columns``."""
    item = outcome.item
    message = (outcome.error or {}).get("message", "")
    extra = [item.key, outcome.status, message, *(item.extra.get(c, "") for c in input_columns)]
    if outcome.result is not None:
        cells = result_to_row(outcome.result, extra)
    else:
        values: dict[str, Any] = dict.fromkeys(CSV_COLUMNS)
        values.update(created_at=utc_now(), text=item.text, image_name=_image_name(item))
        cells = [safe_cell(values[c]) for c in CSV_COLUMNS] + [safe_cell(v) for v in extra]
    line = json.dumps(outcome_doc(outcome), ensure_ascii=False)
    fusion = outcome.result.fusion if outcome.result is not None else None
    return Record(item.key, outcome.status, line, cells, fusion.label if fusion else None, message)


def outcome_from_doc(doc: dict[str, Any]) -> Outcome:
    """Rebuild the outcome a JSONL document was written from.

    Raises:
        ValueError: the document is neither a batch result nor a batch failure.
    """
    batch = doc.get("batch") or {}
    inp = doc.get("input") or {}
    image_ref = batch.get("image") or ""
    item = BatchItem(
        key=str(batch.get("key")),
        text=inp.get("text"),
        image=Path(image_ref) if image_ref else None,
        extra={str(k): str(v) for k, v in (batch.get("extra") or {}).items()},
        image_ref=image_ref,
    )
    status = str(batch.get("status") or STATUS_OK)
    if doc.get("schema") == FAILURE_SCHEMA:
        return Outcome(item, None, dict(batch.get("error") or {}), STATUS_FAILED)
    return Outcome(item, AnalysisResult.from_dict(doc), None, status)


def _image_name(item: BatchItem) -> str | None:
    if item.image_ref:
        return Path(item.image_ref).name
    return item.image.name if item.image is not None else None


def check_outputs_apart(source: Path | None, outputs: list[Path]) -> None:
    """Refuse an output that is the input (results would be appended to it and read back as
    rows on the next run) or that is another output.

    Raises:
        InputError: two of the paths name the same file.
    """

    def same(a: Path, b: Path) -> bool:
        try:
            return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
        except OSError:
            return False

    for i, out in enumerate(outputs):
        if source is not None and same(out, source):
            raise InputError(
                f"The output {out.name} is the input itself; write the results to another file."
            )
        if any(same(out, other) for other in outputs[i + 1 :]):
            raise InputError(f"{out.name} is named for two outputs; give each its own file.")


class BatchOutputs:
    """The JSONL, CSV and/or Parquet outputs of a run.

    Attributes:
        statuses: the status of every key already written (``ok``, ``partial``, ``failed``).
    """

    def __init__(
        self,
        jsonl: Path | None,
        csv_path: Path | None,
        extra_columns: list[str],
        parquet: Path | None = None,
        source: Path | None = None,
    ):
        if jsonl is None and csv_path is None and parquet is None:
            raise InputError("Give an output: --jsonl, --csv and/or --parquet.")
        check_outputs_apart(source, [p for p in (jsonl, csv_path, parquet) if p is not None])
        self.jsonl, self.csv_path = jsonl, csv_path
        self.input_columns = list(extra_columns)
        self.header = csv_header([*BATCH_COLUMNS, *extra_columns])
        self.parquet = None
        if parquet is not None:
            from vsa_desktop.core.batch_parquet import ParquetOutput

            self.parquet = ParquetOutput(parquet, self.input_columns)
        self.statuses = self._load()

    # ------------------------------------------------------------------ reading

    def _load(self) -> dict[str, str]:
        for path in (self.jsonl, self.csv_path):
            if path is not None and path.is_dir():
                raise InputError(f"The batch output {path} is a folder; give a file name.")
        try:
            in_jsonl = _jsonl_statuses(self.jsonl) if self.jsonl else None
            in_csv = self._csv_statuses() if self.csv_path else None
            in_parquet = self.parquet.statuses() if self.parquet else None
        except UnicodeDecodeError:
            raise InputError(
                "An existing batch output is not UTF-8 text: choose a new output file."
            ) from None
        except OSError as exc:
            raise ExportError(f"Cannot read the batch output: {exc.strerror}.") from None
        if in_jsonl is not None:
            # A run killed between the JSONL write and the others left rows only in the JSONL.
            self._fill_from_jsonl(
                in_jsonl.keys() - in_csv.keys() if in_csv is not None else set(),
                in_jsonl.keys() - in_parquet.keys() if in_parquet is not None else set(),
            )
        merged: dict[str, str] = {}
        for found in (in_csv, in_parquet, in_jsonl):  # the JSONL, when there is one, wins
            merged.update(found or {})
        return merged

    def _csv_statuses(self) -> dict[str, str]:
        """Statuses already in the CSV; its header must be the one this run writes."""
        assert self.csv_path is not None
        if not self.csv_path.exists() or self.csv_path.stat().st_size == 0:
            return {}
        _cut_torn_csv_row(self.csv_path)
        with self.csv_path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != self.header:
                raise InputError(
                    f"{self.csv_path.name} was written by a batch with other columns (or by "
                    "an older vsa): choose a new CSV output (or the input it was made from)."
                )
            return {row.get(KEY_COLUMN, ""): row.get("status") or STATUS_OK for row in reader}

    def _fill_from_jsonl(self, for_csv: set[str], for_parquet: set[str]) -> None:
        if not (for_csv or for_parquet) or self.jsonl is None:
            return
        records = [
            make_record(outcome_from_doc(doc), self.input_columns)
            for doc in _jsonl_docs(self.jsonl)
            if str((doc.get("batch") or {}).get("key")) in for_csv | for_parquet
        ]
        if for_csv:
            self._append_csv([r for r in records if r.key in for_csv])
        if for_parquet and self.parquet is not None:
            self.parquet.add([r for r in records if r.key in for_parquet])
            self.parquet.flush()

    # ------------------------------------------------------------------ planning

    def pending(self, items: Iterable[BatchItem]) -> tuple[list[BatchItem], int]:
        """The items this run analyses, and how many of them are retries.

        New keys, failed rows and partial rows whose image is there now are analysed; the
        old lines of the retried rows are taken out of every output first.
        """
        todo: list[BatchItem] = []
        retry: set[str] = set()
        for item in items:
            status = self.statuses.get(item.key)
            if status is None:
                todo.append(item)
            elif status == STATUS_FAILED or (
                status == STATUS_PARTIAL and item.image is not None and item.image.exists()
            ):
                todo.append(item)
                retry.add(item.key)
        if retry:
            self._drop(retry)
        return todo, len(retry)

    def _drop(self, keys: set[str]) -> None:
        """Take the rows of ``keys`` out of every output (each file replaced atomically)."""
        try:
            if self.jsonl is not None and self.jsonl.exists():
                _rewrite(self.jsonl, lambda src, dst: _filter_jsonl(src, dst, keys))
            if self.csv_path is not None and self.csv_path.exists():
                _rewrite(self.csv_path, lambda src, dst: _filter_csv(src, dst, keys))
            if self.parquet is not None:
                self.parquet.drop(keys)
        except OSError as exc:
            raise ExportError(
                f"Cannot update the batch output: {exc.strerror}.", detail=str(exc)
            ) from None
        for key in keys:
            self.statuses.pop(key, None)

    # ------------------------------------------------------------------ writing

    def write(self, outcomes: list[Outcome]) -> None:
        """Write finished items to every output."""
        self.write_records([make_record(o, self.input_columns) for o in outcomes])

    def write_records(self, records: list[Record]) -> None:
        """Write records (JSONL first, then CSV, then Parquet's buffer); one fsync a file."""
        if not records:
            return
        try:
            if self.jsonl is not None:
                with self.jsonl.open("a", encoding="utf-8") as f:
                    f.write("".join(r.line + "\n" for r in records))
                    f.flush()
                    os.fsync(f.fileno())
            if self.csv_path is not None:
                self._append_csv(records)
            if self.parquet is not None:
                self.parquet.add(records)
        except OSError as exc:
            raise ExportError(
                f"Cannot write the batch output: {exc.strerror}.", detail=str(exc)
            ) from None
        for r in records:
            self.statuses[r.key] = r.status

    def _append_csv(self, records: list[Record]) -> None:
        with self._csv_file() as writer:
            writer.writerows(r.cells for r in records)

    @contextlib.contextmanager
    def _csv_file(self) -> Iterator[Any]:
        assert self.csv_path is not None
        new = not self.csv_path.exists() or self.csv_path.stat().st_size == 0
        with self.csv_path.open("a", encoding=CSV_ENCODING if new else "utf-8", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(self.header)
            yield writer
            f.flush()
            os.fsync(f.fileno())

    def close(self) -> None:
        """Write what is still buffered (Parquet parts)."""
        if self.parquet is not None:
            try:
                self.parquet.flush()
            except OSError as exc:
                raise ExportError(
                    f"Cannot write the batch output: {exc.strerror}.", detail=str(exc)
                ) from None

    def __enter__(self) -> BatchOutputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _rewrite(path: Path, copy: Callable[[IO[bytes], IO[bytes]], None]) -> None:
    """Replace ``path`` by what ``copy(old, new)`` writes, all at once or not at all."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as dst, path.open("rb") as src:
            copy(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _filter_jsonl(src: IO[bytes], dst: IO[bytes], keys: set[str]) -> None:
    for raw in src:
        try:
            key = str((json.loads(raw).get("batch") or {}).get("key"))
        except (ValueError, AttributeError):
            key = None
        if key not in keys:
            dst.write(raw)


def _filter_csv(src: IO[bytes], dst: IO[bytes], keys: set[str]) -> None:
    import io

    text = io.TextIOWrapper(src, encoding="utf-8-sig", newline="")
    out = io.TextIOWrapper(dst, encoding=CSV_ENCODING, newline="", write_through=True)
    reader, writer = csv.reader(text), csv.writer(out)
    header = next(reader, None)
    if header is None:
        return
    writer.writerow(header)
    at = header.index(KEY_COLUMN) if KEY_COLUMN in header else -1
    for row in reader:
        if at < 0 or at >= len(row) or row[at] not in keys:
            writer.writerow(row)
    out.flush()
    out.detach()
    text.detach()


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


def _jsonl_statuses(path: Path) -> dict[str, str]:
    """Statuses of the keys in a JSONL output; a torn last line (killed run) is cut first."""
    if not path.exists():
        return {}
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        if size:
            f.seek(size - 1)
            torn = f.read(1) != b"\n"
        else:
            torn = False
    if torn:
        data = path.read_bytes()
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)
    statuses = {}
    for doc in _jsonl_docs(path):
        batch = doc.get("batch") or {}
        statuses[str(batch.get("key"))] = str(batch.get("status") or STATUS_OK)
    return statuses
