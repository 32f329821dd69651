"""The history of analyses: one SQLite file, one row per result (full JSON plus indexed columns).

Design notes:
    * One connection per store, shared by threads under a lock (``check_same_thread=False``).
      Every statement is short, so a reader on the GUI thread waits at most one write.
    * WAL journal with ``synchronous=NORMAL``: a killed process (even SIGKILL) never loses a
      committed row and never leaves a damaged file; a power cut may lose the last commits
      but still leaves a consistent file. ``busy_timeout`` lets the CLI and the GUI share it.
    * ``PRAGMA user_version`` is the schema version; ``MIGRATIONS[i]`` upgrades version ``i``
      to ``i + 1`` inside one transaction. Adding schema v2 is appending one function.
    * A damaged file is renamed ``history.sqlite3.corrupt-<UTC timestamp>`` (with its
      -wal/-shm) and kept as it was. Its rows are then rescued from a copy: first by
      rebuilding the indexes (``REINDEX``), else by copying every readable row into a fresh
      file; ``recovery_message`` says how many were saved. A file that is not SQLite at all
      is set aside the same way and a new history is started.
    * When the file cannot be written (full disk, read-only file or medium) it is opened
      read-only: listing and searching still work, writes raise ``HistoryError`` with the
      reason (``read_only_reason``).
    * A batch row carries its batch key (``add(..., batch_key=...)``): adding the same key
      again replaces that row, so a batch re-run after a kill never keeps a second copy.
    * The original image is never copied: only its name, sha256 and an optional small JPEG
      thumbnail are kept.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from vsa_desktop.core import paths
from vsa_desktop.core.errors import HistoryError, InputError
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.taxonomy import EMOTIONS, canonical

if TYPE_CHECKING:
    from PIL import Image as PILImage

log = logging.getLogger(__name__)

FILE_NAME = "history.sqlite3"
THUMBNAIL_SIDE = 128
THUMBNAIL_QUALITY = 80
EXCERPT_CHARS = 200
BUSY_TIMEOUT_S = 5.0

# SQLite primary result codes (https://www.sqlite.org/rescode.html).
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_SQLITE_FULL = 13
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_IOERR = 10
_SQLITE_HEADER = b"SQLite format 3\x00"


def _migrate_v1(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS analyses (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            mode TEXT NOT NULL,
            text_label TEXT,
            vision_label TEXT,
            fused_label TEXT,
            fused_confidence REAL,
            agreement_score REAL,
            agreement_level TEXT,
            text_excerpt TEXT,
            image_sha256 TEXT,
            image_name TEXT,
            thumbnail BLOB,
            result_json TEXT NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX IF NOT EXISTS analyses_created ON analyses(created_at)")
    conn.execute("CREATE INDEX IF NOT EXISTS analyses_fused_label ON analyses(fused_label)")


def _migrate_v2(conn: sqlite3.Connection) -> None:
    """The batch key of a row written by a batch run (NULL otherwise), unique."""
    conn.execute("ALTER TABLE analyses ADD COLUMN batch_key TEXT")
    conn.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS analyses_batch_key ON analyses(batch_key) "
        "WHERE batch_key IS NOT NULL"
    )


# Casefolded like the scan search (ß finds ss); vsa_fold is registered on every connection
# that writes (``HistoryStore._open``).
_FTS_BODY = "vsa_fold(json_extract({row}.result_json, '$.input.text'))"
_FTS_NAME = "vsa_fold({row}.image_name)"
FTS_MIN_CHARS = 3  # the trigram index finds substrings of 3 characters and more


def _migrate_v3(conn: sqlite3.Connection) -> None:
    """A trigram full-text index of the input text and image name.

    Search as you type reads the index instead of every row's JSON. Adding a result writes
    nothing more than before (a full disk stays a full-disk case, not an index one): new rows
    are indexed by the next search (``HistoryStore._index_new``), and until then a search
    scans just those. Triggers only take deleted and replaced rows out. Without FTS5 in this
    SQLite build nothing is created and search scans, as before.
    """
    try:
        conn.execute(
            "CREATE VIRTUAL TABLE analyses_fts USING fts5(body, image_name, tokenize='trigram')"
        )
    except sqlite3.OperationalError as exc:  # no fts5 module, or no trigram tokenizer
        log.warning("history search index not available: %s", exc)
        return
    new_body, new_name = _FTS_BODY.format(row="new"), _FTS_NAME.format(row="new")
    triggers = (
        "CREATE TRIGGER analyses_fts_replaced BEFORE INSERT ON analyses BEGIN "
        "DELETE FROM analyses_fts WHERE rowid IN (SELECT rowid FROM analyses WHERE id = new.id); "
        "END",
        "CREATE TRIGGER analyses_fts_deleted AFTER DELETE ON analyses BEGIN "
        "DELETE FROM analyses_fts WHERE rowid = old.rowid; END",
        "CREATE TRIGGER analyses_fts_updated AFTER UPDATE OF result_json, image_name "
        f"ON analyses BEGIN UPDATE analyses_fts SET body = {new_body}, "
        f"image_name = {new_name} WHERE rowid = old.rowid; END",
    )
    for trigger in triggers:  # one by one: executescript would commit the migration
        conn.execute(trigger)


FTS_BATCH = 5_000  # rows indexed per transaction (a writer waits at most one batch)
FTS_BATCHES_PER_SEARCH = 8  # the rest is scanned this time and indexed by later searches
_FTS_INDEX_NEW = (
    "INSERT INTO analyses_fts(rowid, body, image_name) "
    f"SELECT rowid, {_FTS_BODY.format(row='analyses')}, {_FTS_NAME.format(row='analyses')} "
    "FROM analyses WHERE rowid > (SELECT coalesce(max(rowid), 0) FROM analyses_fts) "
    "ORDER BY rowid LIMIT ?"
)


def _has_fts(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'analyses_fts'").fetchone()
    return row is not None


# MIGRATIONS[i] takes the schema from version i to i + 1. Append, never edit.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_v1, _migrate_v2, _migrate_v3]
SCHEMA_VERSION = len(MIGRATIONS)

# The columns of schema v1, which every version has (what a rescue copies).
_V1_COLUMNS = (
    "id, created_at, mode, text_label, vision_label, fused_label, fused_confidence, "
    "agreement_score, agreement_level, text_excerpt, image_sha256, image_name, thumbnail, "
    "result_json"
)
_NEARLY_FULL_BYTES = 1 << 20  # less free space than this and a disk error means "full"
_RESCUE_GIVE_UP = 10_000  # consecutive unreadable row ids before a rescue stops probing
# Errors after which the file may still be readable: open it read-only then.
_READ_ONLY_CODES = (_SQLITE_FULL, _SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_IOERR)

_ENTRY_COLUMNS = (
    "id, created_at, mode, text_label, vision_label, fused_label, fused_confidence, "
    "agreement_score, agreement_level, text_excerpt, image_name, thumbnail IS NOT NULL"
)


@dataclass(frozen=True)
class HistoryEntry:
    """One row of the history list: the indexed columns, without the full JSON.

    Labels and agreement are None when that channel (or the agreement) is absent.
    """

    id: str
    created_at: str
    mode: str
    text_label: str | None
    vision_label: str | None
    fused_label: str | None
    fused_confidence: float | None
    agreement_score: float | None
    agreement_level: str | None
    excerpt: str
    image_name: str | None
    has_thumbnail: bool


EntryList = list[HistoryEntry]


def default_path() -> Path:
    """The history file in the app's data folder (``VSA_HOME/data`` when set)."""
    return paths.data_dir() / FILE_NAME


class HistoryStore:
    """The analyses history in one SQLite file; safe to use from several threads.

    Attributes:
        path: the database file.
        recovered_from: where a damaged file found at open was moved, else None.
        recovery_message: one sentence for the user about that move, else None.
        rows_rescued: how many rows were saved from that damaged file (0 when none).
        read_only_reason: why the file was opened read-only (one sentence), else None.
    """

    def __init__(self, path: Path | None = None) -> None:
        """Open (creating or upgrading) the history at ``path`` (default: ``default_path()``).

        Raises:
            HistoryError: when the folder or file cannot be created or opened.
        """
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.recovered_from: Path | None = None
        self.recovery_message: str | None = None
        self.rows_rescued = 0
        self.read_only_reason: str | None = None
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = self._open_or_recover()
        self._fts = _has_fts(self._conn)

    # ----------------------------------------------------------------- opening

    def _open_or_recover(self) -> sqlite3.Connection:
        _make_folder(self.path.parent)
        if _not_sqlite(self.path):
            # Set aside before SQLite opens it: SQLite may remove the -wal/-shm on close.
            self._move_aside("file is not a database (bad header)")
            self._say_started_anew()
        try:
            return self._open()
        except sqlite3.DatabaseError as exc:
            if _is_corruption(exc):
                return self._recover(str(exc))
            if _code(exc) in _READ_ONLY_CODES and _has_data(self.path):
                return self._open_read_only(exc)
            raise _history_error(exc, self.path) from None

    def _open(self, path: Path | None = None) -> sqlite3.Connection:
        conn = sqlite3.connect(
            path or self.path,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.create_function("vsa_fold", 1, _fold, deterministic=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            _quick_check(conn)
            _migrate(conn, path or self.path)
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_read_only(self, cause: sqlite3.Error) -> sqlite3.Connection:
        """Open the file for reading only; writes will raise the reason ``cause`` gives.

        ``mode=ro`` still needs a usable -shm file; when there is none (full or read-only
        disk) and the -wal holds nothing, ``immutable=1`` reads the file alone, safely.
        """
        base = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        uris = [base]
        if not _has_data(Path(f"{self.path}-wal")):
            uris.append(base + "&immutable=1")
        for uri in uris:
            try:
                conn = sqlite3.connect(
                    uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                    check_same_thread=False,
                )  # fmt: skip
            except sqlite3.Error:
                continue
            try:
                conn.create_function("vsa_fold", 1, _fold, deterministic=True)
                conn.execute("SELECT COUNT(*) FROM analyses").fetchone()
            except sqlite3.Error as exc:
                log.info("read-only open of %s failed: %s", uri, exc)
                conn.close()
                continue
            self.read_only_reason = _history_error(cause, self.path).message
            log.info("History %s opened read-only: %s", self.path, cause)
            return conn
        raise _history_error(cause, self.path)

    def _recover(self, reason: str) -> sqlite3.Connection:
        """Keep the damaged file aside, rescue its rows, and open the rescued history."""
        kept = self._move_aside(reason)
        work = self.path.with_name(f"{self.path.name}.rescue")
        _remove_db_files(work)
        how = "its indexes were rebuilt"
        try:
            for suffix in ("", "-wal"):
                if Path(f"{kept}{suffix}").exists():
                    shutil.copyfile(f"{kept}{suffix}", f"{work}{suffix}")
            if _reindexed(work):
                _replace_db_files(work, self.path)
            else:
                how = "the readable results were copied into a new file"
                fresh = self._open()
                try:
                    fresh.execute("BEGIN IMMEDIATE")
                    _rescue_rows(work, fresh)
                    fresh.execute("COMMIT")
                finally:
                    fresh.close()
        except (OSError, sqlite3.Error) as exc:
            log.info("rescuing rows from %s failed: %s", kept, exc)
        finally:
            _remove_db_files(work)
        try:
            conn = self._open()
        except sqlite3.DatabaseError as exc:
            raise _history_error(exc, self.path) from None
        self.rows_rescued = _count(conn)
        self._say_rescued(kept, how)
        return conn

    def _move_aside(self, reason: str) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            for suffix in ("", "-wal", "-shm"):
                side = Path(f"{self.path}{suffix}")
                if side.exists():
                    side.rename(f"{target}{suffix}")
        except OSError as exc:
            raise HistoryError(
                f"The history file {self.path} is damaged and could not be moved aside; "
                "move or delete it yourself, then start the app again.",
                detail=f"{reason}; {exc}",
            ) from None
        self.recovered_from = target
        log.warning("History %s is damaged (%s); kept as %s", self.path, reason, target)
        return target

    def _say_started_anew(self) -> None:
        assert self.recovered_from is not None
        self.recovery_message = (
            f"The history file was damaged; it was kept as {self.recovered_from.name} and a "
            "new, empty history was started."
        )

    def _say_rescued(self, kept: Path, how: str) -> None:
        n = self.rows_rescued
        if n == 0:
            self._say_started_anew()
            return
        self.recovery_message = (
            f"The history file was damaged; {how} and {n:,} result{'s were' if n != 1 else ' was'} "
            f"saved (the damaged file is kept as {kept.name})."
        )

    # ----------------------------------------------------------------- plumbing

    @contextmanager
    def _cursor(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            if conn is None:
                raise HistoryError("The history is closed.", kind="history_closed")
            if write and self.read_only_reason is not None:
                raise HistoryError(self.read_only_reason, kind="history_read_only")
            try:
                if write:
                    conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                if write:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise _history_error(exc, self.path) from None

    def close(self) -> None:
        """Close the database (further calls raise HistoryError). Safe to call twice."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- writing

    def add(
        self,
        result: AnalysisResult,
        thumbnail_source: PILImage.Image | None = None,
        keep_thumbnail: bool = True,
        batch_key: str | None = None,
    ) -> str:
        """Store ``result`` (a result with the same id is replaced) and return its id.

        Args:
            result: the analysis to keep.
            thumbnail_source: the analysed image; a JPEG of at most 128 px a side is kept.
            keep_thumbnail: False stores no thumbnail even when a source is given.
            batch_key: the batch row this result is for; a row already kept for the same
                key is replaced (a re-run never keeps two copies).

        Raises:
            HistoryError: when the row cannot be written (full disk, read-only file...).
        """
        thumb = make_thumbnail(thumbnail_source) if keep_thumbnail and thumbnail_source else None
        row = _row(result, thumb)
        with self._cursor(write=True) as conn:
            if batch_key is not None:
                conn.execute("DELETE FROM analyses WHERE batch_key = ?", (batch_key,))
            conn.execute(
                f"INSERT OR REPLACE INTO analyses ({_V1_COLUMNS}, batch_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, batch_key),
            )
        return result.id

    def delete(self, result_id: str) -> bool:
        """Delete one analysis; return False when no row had that id."""
        with self._cursor(write=True) as conn:
            return conn.execute("DELETE FROM analyses WHERE id = ?", (result_id,)).rowcount > 0

    def clear(self) -> int:
        """Delete every analysis and return how many there were."""
        with self._cursor(write=True) as conn:
            return conn.execute("DELETE FROM analyses").rowcount

    # ----------------------------------------------------------------- reading

    def get(self, result_id: str) -> AnalysisResult:
        """Return the stored result with id ``result_id``.

        Raises:
            HistoryError: when there is no such analysis or its stored JSON is unreadable.
        """
        with self._cursor() as conn:
            row = conn.execute(
                "SELECT result_json FROM analyses WHERE id = ?", (result_id,)
            ).fetchone()
        if row is None:
            raise HistoryError(
                f"There is no analysis with id {result_id} in the history.",
                kind="history_missing",
            )
        try:
            return AnalysisResult.from_json(row[0])
        except (ValueError, KeyError, TypeError) as exc:
            raise HistoryError(
                f"The stored analysis {result_id} is unreadable; delete it from the history.",
                detail=repr(exc),
            ) from None

    def thumbnail(self, result_id: str) -> bytes | None:
        """Return the JPEG thumbnail of an analysis, or None when it has none (or no row)."""
        with self._cursor() as conn:
            row = conn.execute(
                "SELECT thumbnail FROM analyses WHERE id = ?", (result_id,)
            ).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def ids_with_prefix(self, prefix: str, limit: int = 10) -> list[str]:
        """Full ids that start with ``prefix`` (so people can type the first few characters)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._cursor() as conn:
            rows = conn.execute(
                "SELECT id FROM analyses WHERE id LIKE ? ESCAPE '\\' LIMIT ?",
                (escaped + "%", limit),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def count(self) -> int:
        """Number of analyses in the history."""
        with self._cursor() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM analyses").fetchone()[0])

    def list(self, limit: int = 50, offset: int = 0) -> EntryList:
        """Return a page of entries, newest first."""
        return self.search(limit=limit, offset=offset)

    def _index_new(self, text_contains: str | None) -> None:
        """Index rows added since the last search (when the search will use the index).

        A read-only or full disk just leaves them to the scan of unindexed rows.
        """
        if not (self._fts and _uses_fts(text_contains)) or self.read_only_reason is not None:
            return
        for _ in range(FTS_BATCHES_PER_SEARCH):
            try:
                with self._cursor(write=True) as conn:
                    added = conn.execute(_FTS_INDEX_NEW, (FTS_BATCH,)).rowcount
            except HistoryError as exc:
                log.info("history search index not brought up to date: %s", exc.message)
                return
            if added < FTS_BATCH:
                return

    def search(
        self,
        text_contains: str | None = None,
        label: str | None = None,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> EntryList:
        """Return a page of matching entries, newest first.

        Args:
            text_contains: case-insensitive substring of the input text or the image name.
            label: an emotion (aliases allowed: "joy" means happy) matched against the text,
                vision and fused labels.
            since: keep analyses created at or after this time (naive means UTC).
            until: keep analyses created before this time (exclusive; a date means its
                midnight UTC).
            limit: page size (at most this many entries).
            offset: entries to skip.

        Raises:
            InputError: for an unknown label, an unreadable time or a negative page.
        """
        where, params = _filters(text_contains, label, since, until, self._fts)
        if limit < 0 or offset < 0:
            raise InputError("The page size and offset must not be negative.")
        self._index_new(text_contains)
        sql = (
            f"SELECT {_ENTRY_COLUMNS} FROM analyses {where} "
            "ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?"
        )
        with self._cursor() as conn:
            rows = conn.execute(sql, [*params, limit, offset]).fetchall()
        return [_entry(row) for row in rows]

    def count_matching(
        self,
        text_contains: str | None = None,
        label: str | None = None,
        since: datetime | date | str | None = None,
        until: datetime | date | str | None = None,
    ) -> int:
        """Number of analyses ``search`` would find with the same filters (for paging)."""
        where, params = _filters(text_contains, label, since, until, self._fts)
        self._index_new(text_contains)
        with self._cursor() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM analyses {where}", params).fetchone()[0])


# --------------------------------------------------------------------- helpers


def make_thumbnail(image: PILImage.Image, side: int = THUMBNAIL_SIDE) -> bytes:
    """Return a JPEG of ``image`` scaled to at most ``side`` pixels on its longest side."""
    from PIL import Image

    scale = min(1.0, side / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # resize (no full copy first); reducing_gap shrinks by whole factors before filtering.
    small = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if small.mode != "RGB":
        small = small.convert("RGB")
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return buffer.getvalue()


def _row(result: AnalysisResult, thumbnail: bytes | None) -> tuple[Any, ...]:
    fusion = result.fusion
    agreement = fusion.agreement if fusion else None
    text = result.text_input or ""
    return (
        result.id,
        normalize_time(result.created_at),
        result.mode,
        result.text.label if result.text else None,
        result.vision.label if result.vision else None,
        fusion.label if fusion else None,
        fusion.confidence if fusion else None,
        agreement.score if agreement else None,
        agreement.level if agreement else None,
        text[:EXCERPT_CHARS],
        result.image.sha256 if result.image else None,
        result.image.name if result.image else None,
        thumbnail,
        result.to_json(indent=None),
    )


def _entry(row: tuple[Any, ...]) -> HistoryEntry:
    return HistoryEntry(
        id=row[0],
        created_at=row[1],
        mode=row[2],
        text_label=row[3],
        vision_label=row[4],
        fused_label=row[5],
        fused_confidence=row[6],
        agreement_score=row[7],
        agreement_level=row[8],
        excerpt=row[9] or "",
        image_name=row[10],
        has_thumbnail=bool(row[11]),
    )


def _filters(
    text_contains: str | None,
    label: str | None,
    since: datetime | date | str | None,
    until: datetime | date | str | None,
    fts: bool = False,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    folded = _fold(text_contains) or ""
    scan = (
        "(instr(vsa_fold(json_extract(result_json, '$.input.text')), ?) > 0 "
        "OR instr(vsa_fold(image_name), ?) > 0)"
    )
    if fts and _uses_fts(text_contains):
        # Indexed rows through the index; rows added since the last indexing by a scan.
        clauses.append(
            "(rowid IN (SELECT rowid FROM analyses_fts WHERE analyses_fts MATCH ?) "
            f"OR (rowid > (SELECT coalesce(max(rowid), 0) FROM analyses_fts) AND {scan}))"
        )
        params += ['"' + folded.replace('"', '""') + '"', folded, folded]  # one phrase
    elif text_contains:
        clauses.append(scan)
        params += [folded] * 2
    if label:
        key = canonical(label)
        if key is None:
            raise InputError(f"{label!r} is not an emotion; use one of {', '.join(EMOTIONS)}.")
        clauses.append("(text_label = ? OR vision_label = ? OR fused_label = ?)")
        params += [key] * 3
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(_bound(since, "since"))
    if until is not None:
        clauses.append("created_at < ?")
        params.append(_bound(until, "until"))
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _uses_fts(text_contains: str | None) -> bool:
    """True when a search for ``text_contains`` goes through the trigram index."""
    return len(_fold(text_contains) or "") >= FTS_MIN_CHARS


def _fold(value: object) -> str | None:
    return None if value is None else str(value).casefold()


def normalize_time(value: str) -> str:
    """Return an ISO-8601 time as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC (as-is when unparsable).

    The history compares these strings, so every stored time has this one form.
    """
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    return _format_utc(moment)


def _format_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bound(value: datetime | date | str, name: str) -> str:
    if isinstance(value, datetime):
        return _format_utc(value)
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    try:
        return _format_utc(datetime.fromisoformat(str(value)))
    except ValueError:
        raise InputError(
            f"{name}={value!r} is not a date or time; use a form like 2026-05-01 or "
            "2026-05-01T14:30."
        ) from None


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        conn.close()
        raise HistoryError(
            f"The history at {path} was written by a newer version of VSA Desktop "
            f"(schema {version}); update the app to open it.",
            kind="history_newer",
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[target - 1](conn)
            conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.info("History %s upgraded to schema %d", path, target)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise HistoryError(
            f"The history folder {folder} cannot be created because a file is in the way; "
            "choose another history location.",
            kind="history_folder",
        ) from None
    except OSError as exc:
        raise HistoryError(
            f"The history folder {folder} cannot be created ({exc.strerror}); "
            "choose another history location.",
            detail=str(exc),
            kind="history_folder",
        ) from None
    if not folder.is_dir():
        raise HistoryError(
            f"{folder} is not a folder; choose another history location.", kind="history_folder"
        )


def _quick_check(conn: sqlite3.Connection) -> None:
    check = conn.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise sqlite3.DatabaseError(f"quick_check: {check}")


def _count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM analyses").fetchone()[0])


def _reindexed(path: Path) -> bool:
    """Rebuild every index of the (copied) file at ``path``; True when it is sound after."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("REINDEX")
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        if ok:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return bool(ok)
    except sqlite3.DatabaseError as exc:
        log.info("REINDEX did not repair %s: %s", path, exc)
        return False
    finally:
        conn.close()


def _rescue_rows(source: Path, target: sqlite3.Connection) -> int:
    """Copy every readable row of ``source`` into ``target``; return how many were copied.

    A full scan first; where it stops at a damaged page, each later row id is tried alone
    (a damaged leaf loses its own rows, not the ones after it).
    """
    conn = sqlite3.connect(f"file:{quote(str(source))}?mode=ro", uri=True)
    rows: list[tuple[Any, ...]] = []
    columns = _V1_COLUMNS
    try:
        names = {str(r[1]) for r in conn.execute("PRAGMA table_info(analyses)")}
        columns += ", batch_key" if "batch_key" in names else ", NULL"
        select = f"SELECT rowid, {columns} FROM analyses NOT INDEXED"
        try:
            for row in conn.execute(f"{select} ORDER BY rowid"):
                rows.append(row)
        except sqlite3.DatabaseError as exc:
            last = int(rows[-1][0]) if rows else 0
            log.info("full scan of %s stopped after row %d: %s", source, last, exc)
            rows += _probe_rows(conn, select, last + 1)
    except sqlite3.DatabaseError as exc:  # no readable table at all
        log.info("no rows could be read from %s: %s", source, exc)
    finally:
        conn.close()
    good = [row[1:] for row in rows if _usable(row)]
    target.executemany(
        f"INSERT OR IGNORE INTO analyses ({_V1_COLUMNS}, batch_key) VALUES ({', '.join('?' * 15)})",
        good,
    )
    return len(good)


def _probe_rows(conn: sqlite3.Connection, select: str, start: int) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    rowid, misses = start, 0
    while misses < _RESCUE_GIVE_UP:
        try:
            row = conn.execute(f"{select} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None:
            misses += 1
        else:
            rows.append(row)
            misses = 0
        rowid += 1
    return rows


def _usable(row: tuple[Any, ...]) -> bool:
    """A rescued row (rowid, the v1 columns, batch_key) is kept when its JSON is readable."""
    try:
        doc = json.loads(row[14])
    except (TypeError, ValueError):
        return False
    return isinstance(row[1], str) and isinstance(doc, dict) and doc.get("id") == row[1]


def _remove_db_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _replace_db_files(source: Path, target: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    source.replace(target)


def _has_data(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def _not_sqlite(path: Path) -> bool:
    """True when ``path`` has bytes but not the SQLite header (an empty file is fine)."""
    try:
        with path.open("rb") as stream:
            head = stream.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return False
    except OSError:
        return False  # let SQLite report why it cannot be read
    return bool(head) and head != _SQLITE_HEADER


def _code(exc: sqlite3.Error) -> int:
    # Python 3.11+ sets sqlite_errorcode (extended); the primary code is its low byte.
    return int(getattr(exc, "sqlite_errorcode", -1) or -1) & 0xFF


def _is_corruption(exc: sqlite3.Error) -> bool:
    if _code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return True
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or text.startswith("quick_check")


def _disk_full(code: int, path: Path) -> bool:
    """A disk error (SQLite says IOERR when it cannot grow the -shm file) on a full disk."""
    if code != _SQLITE_IOERR:
        return False
    try:
        return shutil.disk_usage(path.parent).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


def _history_error(exc: sqlite3.Error, path: Path) -> HistoryError:
    code = _code(exc)
    detail = f"{type(exc).__name__}: {exc}"
    if code == _SQLITE_FULL or "disk is full" in str(exc) or _disk_full(code, path):
        message = f"The disk is full: free some space so the history ({path}) can be saved."
        kind = "history_disk_full"
    elif code == _SQLITE_READONLY:
        message = (
            f"The history file {path} is read-only; make its folder writable or choose "
            "another history location."
        )
        kind = "history_read_only"
    elif code == _SQLITE_CANTOPEN:
        message = (
            f"The history file {path} cannot be opened; check that its folder exists and "
            "is writable."
        )
        kind = "history_cannot_open"
    elif code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        message = "The history is busy in another window or command; try again in a moment."
        kind = "history_busy"
    elif _is_corruption(exc):
        message = (
            f"The history file {path} is damaged; restart the app to rescue its results "
            "into a new file."
        )
        kind = "history_damaged"
    elif code == _SQLITE_IOERR:
        message = f"The history file {path} could not be read or written (a disk error)."
        kind = "history_io"
    else:
        message = f"The history could not be used ({exc})."
        kind = "history"
    return HistoryError(message, detail=detail, kind=kind)
