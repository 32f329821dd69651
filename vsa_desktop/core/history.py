"""The history of analyses: one SQLite file, one row per result (full JSON plus indexed columns).

Design notes:
    * One connection per store, shared by threads under a lock (``check_same_thread=False``).
      Every statement is short, so a reader on the GUI thread waits at most one write.
    * WAL journal with ``synchronous=NORMAL``: a killed process (even SIGKILL) never loses a
      committed row and never leaves a damaged file; a power cut may lose the last commits
      but still leaves a consistent file. ``busy_timeout`` lets the CLI and the GUI share it.
    * ``PRAGMA user_version`` is the schema version; ``MIGRATIONS[i]`` upgrades version ``i``
      to ``i + 1`` inside one transaction. Adding schema v2 is appending one function.
    * A file that is not a database, or a damaged one, is renamed
      ``history.sqlite3.corrupt-<UTC timestamp>`` (with its -wal/-shm) and a fresh file is
      started; ``HistoryStore.recovered_from`` says where the old file went.
    * The original image is never copied: only its name, sha256 and an optional small JPEG
      thumbnail are kept.
"""

from __future__ import annotations

import io
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


# MIGRATIONS[i] takes the schema from version i to i + 1. Append, never edit.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_v1]
SCHEMA_VERSION = len(MIGRATIONS)

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
    """

    def __init__(self, path: Path | None = None) -> None:
        """Open (creating or upgrading) the history at ``path`` (default: ``default_path()``).

        Raises:
            HistoryError: when the folder or file cannot be created or opened.
        """
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.recovered_from: Path | None = None
        self.recovery_message: str | None = None
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = self._open_or_recover()

    # ----------------------------------------------------------------- opening

    def _open_or_recover(self) -> sqlite3.Connection:
        _make_folder(self.path.parent)
        if _not_sqlite(self.path):
            # Set aside before SQLite opens it: SQLite may remove the -wal/-shm on close.
            self._move_aside("file is not a database (bad header)")
        try:
            return self._open()
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                raise _history_error(exc, self.path) from None
            self._move_aside(str(exc))
        try:
            return self._open()
        except sqlite3.DatabaseError as exc:
            raise _history_error(exc, self.path) from None

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            conn.create_function("vsa_fold", 1, _fold, deterministic=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {check}")
            _migrate(conn, self.path)
        except BaseException:
            conn.close()
            raise
        return conn

    def _move_aside(self, reason: str) -> None:
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
        self.recovery_message = (
            f"The history file was damaged; it was kept as {target.name} and a new, empty "
            "history was started."
        )
        log.warning("History %s is damaged (%s); moved to %s", self.path, reason, target)

    # ----------------------------------------------------------------- plumbing

    @contextmanager
    def _cursor(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            if conn is None:
                raise HistoryError("The history is closed.", kind="history_closed")
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
    ) -> str:
        """Store ``result`` (a result with the same id is replaced) and return its id.

        Args:
            result: the analysis to keep.
            thumbnail_source: the analysed image; a JPEG of at most 128 px a side is kept.
            keep_thumbnail: False stores no thumbnail even when a source is given.

        Raises:
            HistoryError: when the row cannot be written (full disk, read-only file...).
        """
        thumb = make_thumbnail(thumbnail_source) if keep_thumbnail and thumbnail_source else None
        row = _row(result, thumb)
        with self._cursor(write=True) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO analyses (id, created_at, mode, text_label, "
                "vision_label, fused_label, fused_confidence, agreement_score, "
                "agreement_level, text_excerpt, image_sha256, image_name, thumbnail, "
                "result_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
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
        where, params = _filters(text_contains, label, since, until)
        if limit < 0 or offset < 0:
            raise InputError("The page size and offset must not be negative.")
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
        where, params = _filters(text_contains, label, since, until)
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
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if text_contains:
        clauses.append(
            "(instr(vsa_fold(json_extract(result_json, '$.input.text')), ?) > 0 "
            "OR instr(vsa_fold(image_name), ?) > 0)"
        )
        params += [_fold(text_contains)] * 2
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


def _history_error(exc: sqlite3.Error, path: Path) -> HistoryError:
    code = _code(exc)
    detail = f"{type(exc).__name__}: {exc}"
    if code == _SQLITE_FULL or "disk is full" in str(exc):
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
            f"The history file {path} is damaged; restart the app to set it aside and start "
            "a new one."
        )
        kind = "history_damaged"
    elif code == _SQLITE_IOERR:
        message = f"The history file {path} could not be read or written (a disk error)."
        kind = "history_io"
    else:
        message = f"The history could not be used ({exc})."
        kind = "history"
    return HistoryError(message, detail=detail, kind=kind)
