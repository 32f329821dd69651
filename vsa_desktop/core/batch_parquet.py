"""The Parquet output of a batch: a folder of part files, each written all at once.

A Parquet file cannot be appended to, so ``--parquet out.parquet`` names a folder (the
layout Ray, Spark, pandas and DuckDB read as one table) that gets a new
``part-NNNNN.parquet`` every ``PART_ROWS`` rows and at the end of a run. Columns: the
row's key, status and error, the main fields of the result, the fused scores, the input's
extra columns as ``input.<name>``, and ``document`` (the whole JSONL document).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vsa_desktop.core.errors import InputError
from vsa_desktop.core.taxonomy import EMOTIONS

if TYPE_CHECKING:
    from vsa_desktop.core.batch_output import Record

PART_ROWS = 20_000
TEXT_FIELDS = (
    "batch_item", "status", "error", "id", "created_at", "mode", "text", "image_name",
    "text_model", "vision_backend", "text_label", "vision_label", "fused_label",
    "agreement_verdict",
)  # fmt: skip
NUMBER_FIELDS = ("fused_confidence", "agreement_score", *(f"fused_{e}" for e in EMOTIONS))


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet
    except ImportError:
        raise InputError(
            "Writing Parquet needs pyarrow: install the scale extra "
            "(pip install 'vsa-desktop[scale]')."
        ) from None
    return pa


def parquet_row(record: Record, input_columns: list[str]) -> dict[str, Any]:
    """The Parquet row of a record (flat fields read from its JSONL document)."""
    doc = json.loads(record.line)
    batch = doc.get("batch") or {}
    inp = doc.get("input") or {}
    text, vision = doc.get("text") or {}, doc.get("vision") or {}
    fusion = doc.get("fusion") or {}
    agreement = fusion.get("agreement") or {}
    shown = fusion.get("probabilities") or fusion.get("scores") or {}
    row: dict[str, Any] = {
        "batch_item": record.key,
        "status": record.status,
        "error": (batch.get("error") or {}).get("message"),
        "id": doc.get("id"),
        "created_at": doc.get("created_at"),
        "mode": doc.get("mode"),
        "text": inp.get("text"),
        "image_name": (inp.get("image") or {}).get("name")
        if isinstance(inp.get("image"), dict)
        else inp.get("image"),
        "text_model": text.get("model"),
        "vision_backend": vision.get("backend"),
        "text_label": text.get("label"),
        "vision_label": vision.get("label"),
        "fused_label": fusion.get("label"),
        "agreement_verdict": agreement.get("verdict") or agreement.get("level"),
        "fused_confidence": fusion.get("confidence"),
        "agreement_score": agreement.get("score"),
        **{f"fused_{e}": shown.get(e) for e in EMOTIONS},
    }
    extra = batch.get("extra") or {}
    for name in input_columns:
        row[f"input.{name}"] = extra.get(name)
    row["document"] = record.line
    return row


class ParquetOutput:
    """The part files of one ``--parquet`` folder."""

    def __init__(self, folder: Path, input_columns: list[str]) -> None:
        if folder.exists() and not folder.is_dir():
            raise InputError(
                f"{folder} is a file; --parquet names a folder of part files (it is made)."
            )
        self.pa = _pyarrow()
        self.folder = folder
        self.input_columns = input_columns
        self.schema = self.pa.schema(
            [(n, self.pa.string()) for n in TEXT_FIELDS]
            + [(n, self.pa.float64()) for n in NUMBER_FIELDS]
            + [(f"input.{n}", self.pa.string()) for n in input_columns]
            + [("document", self.pa.string())]
        )
        self.buffer: list[dict[str, Any]] = []

    def parts(self) -> list[Path]:
        """The part files, oldest first."""
        return sorted(self.folder.glob("part-*.parquet")) if self.folder.is_dir() else []

    def statuses(self) -> dict[str, str]:
        """Statuses of the keys already in the part files."""
        import pyarrow.parquet as pq

        found: dict[str, str] = {}
        for part in self.parts():
            table = pq.read_table(part, columns=["batch_item", "status"])
            found.update(
                zip(table["batch_item"].to_pylist(), table["status"].to_pylist(), strict=True)
            )
        return found

    def add(self, records: list[Record]) -> None:
        """Buffer rows; a part file is written every ``PART_ROWS`` rows."""
        self.buffer.extend(parquet_row(r, self.input_columns) for r in records)
        if len(self.buffer) >= PART_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as a new part file."""
        if not self.buffer:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        table = self.pa.Table.from_pylist(self.buffer, schema=self.schema)
        parts = self.parts()
        number = int(parts[-1].stem.split("-")[1]) + 1 if parts else 0
        self._write(table, self.folder / f"part-{number:05d}.parquet")
        self.buffer = []

    def drop(self, keys: set[str]) -> None:
        """Take the rows of ``keys`` out of the part files."""
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        value_set = self.pa.array(sorted(keys), type=self.pa.string())
        for part in self.parts():
            table = pq.read_table(part)
            hit = pc.is_in(table["batch_item"], value_set=value_set)
            if not pc.any(hit).as_py():
                continue
            kept = table.filter(pc.invert(hit))
            if kept.num_rows:
                self._write(kept, part)
            else:
                part.unlink()
        self.buffer = [row for row in self.buffer if row["batch_item"] not in keys]

    def _write(self, table: Any, path: Path) -> None:
        import pyarrow.parquet as pq

        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            pq.write_table(table, tmp)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
