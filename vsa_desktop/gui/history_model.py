"""A lazy, paged table model over ``core.history.HistoryStore``; every read runs on a worker.

The GUI thread never runs a query: a filter change or a scroll to the end asks a worker for
the next page (rows, thumbnails already decoded, full texts for the tooltips) and the rows
are inserted when it answers. The newest request wins; a stale page is dropped.
"""

from __future__ import annotations

import dataclasses
import html
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QImage, QPixmap

from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.history import EXCERPT_CHARS, HistoryEntry, HistoryStore
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.terminal import inert_bidi
from vsa_desktop.gui.history_rows import (
    PAGE,
    Page,
    entry_of,
    input_text,
    read_page,
    read_thumbnail,
    reading_text,
    when_text,
)
from vsa_desktop.gui.workers import LatestTask, TaskSignals

__all__ = ["COLUMNS", "ID_ROLE", "PAGE", "HistoryModel"]

log = logging.getLogger(__name__)

COLUMNS = ("When", "Reading", "Input")
ID_ROLE = Qt.ItemDataRole.UserRole + 1
TOOLTIP_CHARS = 1000
Index = QModelIndex | QPersistentModelIndex


class HistoryModel(QAbstractTableModel):
    """Rows are history entries, newest first, fetched a page at a time as the view scrolls.

    Signals:
        loaded(): a page (or the first page after a filter change) arrived; ``loading`` is
            False when nothing else is being read.
    """

    loaded = Signal()

    def __init__(self, store: HistoryStore | None = None) -> None:
        super().__init__()
        self._store = store
        self._rows: list[HistoryEntry] = []
        self._ids: set[str] = set()
        self._total = 0
        self._text: str | None = None
        self._label: str | None = None
        self._thumbs: dict[str, QImage] = {}
        self._pixmaps: dict[str, QPixmap] = {}
        self._texts: dict[str, str] = {}
        self._task = LatestTask(self)
        self._task.returned.connect(self._on_task_returned)
        self._task.failed.connect(self._on_task_failed)
        self._appending = False
        self.error = ""

    # ------------------------------------------------------------------ requests

    def set_store(self, store: HistoryStore | None) -> None:
        """Show another history file (None: nothing)."""
        self._store = store
        self.refresh()

    def set_filters(self, text: str | None, label: str | None) -> None:
        """Filter by a substring of the text/image name and by an emotion label."""
        self._text, self._label = (text or None), (label or None)
        self.refresh()

    @property
    def filtered(self) -> bool:
        """True while a search text or a label filter is set."""
        return bool(self._text or self._label)

    def refresh(self) -> None:
        """Read the first page again (in the background); the rows change when it arrives."""
        self._task.cancel()
        if self._store is None:
            self._apply_reset(Page([], 0))
            self.loaded.emit()
            return
        self._start(offset=0, with_total=True)

    @property
    def loading(self) -> bool:
        """True while a page is being read."""
        return self._task.running

    def shutdown(self) -> None:
        """Stop reading and wait for the worker."""
        self._task.shutdown()

    def _start(self, offset: int, with_total: bool) -> None:
        store, text, label = self._store, self._text, self._label
        assert store is not None

        def call(token: CancelToken, progress: Callable[[str, float], None]) -> Any:
            return read_page(store, text, label, offset, with_total, token)

        self._appending = not with_total
        self._task.start(call)

    def _on_task_returned(self, page: Page) -> None:
        if self._appending:
            self._apply_more(page)
        else:
            self._apply_reset(page)
        self.loaded.emit()

    def _on_task_failed(self, exc: BaseException) -> None:
        self.error = exc.message if isinstance(exc, VsaError) else "The history could not be read."
        if not self._appending:
            self._apply_reset(Page([], 0))
        else:
            self._total = len(self._rows)
        self.loaded.emit()

    def _apply_reset(self, page: Page) -> None:
        self.beginResetModel()
        self._rows = list(page.entries)
        self._ids = {e.id for e in self._rows}
        self._total = page.total if page.total is not None else len(self._rows)
        self._thumbs, self._pixmaps, self._texts = dict(page.thumbs), {}, dict(page.texts)
        self.error = ""
        self.endResetModel()

    def _apply_more(self, page: Page) -> None:
        fresh = [e for e in page.entries if e.id not in self._ids]
        if not page.entries:
            self._total = len(self._rows)  # fewer rows than counted: someone deleted some
            return
        self._thumbs.update(page.thumbs)
        self._texts.update(page.texts)
        if not fresh:
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(fresh) - 1)
        self._rows.extend(fresh)
        self._ids.update(e.id for e in fresh)
        self.endInsertRows()

    # ------------------------------------------------------------------ single rows

    def add_result(self, result: AnalysisResult) -> None:
        """Put a result that was just stored on top, without reading the list again."""
        if self.filtered or self._store is None:
            self.refresh()  # whether it matches is the store's business
            return
        if result.id in self._ids:
            return
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, entry_of(result))
        self._ids.add(result.id)
        self._total += 1
        self.endInsertRows()
        if result.text_input and len(result.text_input) >= EXCERPT_CHARS:
            self._texts[result.id] = result.text_input
        if result.image is not None:
            self._load_thumbnail(result.id)

    def _load_thumbnail(self, result_id: str) -> None:
        store = self._store
        assert store is not None

        def call(token: CancelToken, progress: Callable[[str, float], None]) -> Any:
            return result_id, read_thumbnail(store, result_id)

        def connect(signals: TaskSignals) -> None:
            signals.returned.connect(self._on_thumbnail_returned)

        self._task.runner.run(call, connect)

    def _on_thumbnail_returned(self, task_id: int, value: tuple[str, QImage | None]) -> None:
        result_id, image = value
        if image is None or result_id not in self._ids:
            return
        self._thumbs[result_id] = image
        for row, entry in enumerate(self._rows):
            if entry.id == result_id:
                self._rows[row] = dataclasses.replace(entry, has_thumbnail=True)
                index = self.index(row, 0)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
                break

    def remove_ids(self, ids: list[str]) -> None:
        """Take deleted entries out of the list (no reload)."""
        gone = set(ids) & self._ids
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row].id in gone:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        self._ids -= gone
        self._total = max(len(self._rows), self._total - len(gone))

    # ------------------------------------------------------------------ Qt model API

    @property
    def total(self) -> int:
        """How many entries match the filters (not all may be fetched yet)."""
        return self._total

    def entry(self, row: int) -> HistoryEntry:
        """The entry on ``row``."""
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def canFetchMore(self, parent: Index) -> bool:
        if parent.isValid() or self._store is None or self.loading:
            return False
        return len(self._rows) < self._total

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent):
            self._start(offset=len(self._rows), with_total=False)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        entry = self._rows[index.row()]
        if role == ID_ROLE:
            return entry.id
        if role == Qt.ItemDataRole.DisplayRole:
            return (when_text, reading_text, input_text)[index.column()](entry)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry)
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            return self._thumbnail(entry.id)
        return None

    def _tooltip(self, entry: HistoryEntry) -> str:
        text = inert_bidi(self._texts.get(entry.id) or entry.excerpt)
        if len(text) > TOOLTIP_CHARS:
            text = text[: TOOLTIP_CHARS - 1] + "…"
        head = entry.mode + (f": image {entry.image_name}" if entry.image_name else "")
        body = f"<br>{html.escape(text)}" if text else ""
        # Rich text on purpose: it wraps long texts; the user's text is escaped, never markup.
        return (
            f"<qt><b>{html.escape(head)}</b><span style='white-space:pre-wrap'>{body}</span></qt>"
        )

    def _thumbnail(self, result_id: str) -> QPixmap | None:
        if result_id not in self._pixmaps:
            image = self._thumbs.get(result_id)
            if image is None:
                return None
            self._pixmaps[result_id] = QPixmap.fromImage(image)
        return self._pixmaps[result_id]
