"""A lazy, paged table model over ``core.history.HistoryStore`` (read on the GUI thread)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPixmap

from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.history import HistoryEntry, HistoryStore
from vsa_desktop.core.verdict import percent

log = logging.getLogger(__name__)

PAGE = 50
COLUMNS = ("When", "Reading", "Input")
ID_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


def _when(entry: HistoryEntry) -> str:
    """The entry's time in the local time zone, to the minute."""
    try:
        moment = datetime.fromisoformat(entry.created_at).astimezone()
    except ValueError:
        return entry.created_at
    return moment.strftime("%Y-%m-%d\n%H:%M")


def _reading(entry: HistoryEntry) -> str:
    """Two lines: the fused label and confidence, then the agreement."""
    if not entry.fused_label:
        return "—"
    conf = f" {percent(entry.fused_confidence)}" if entry.fused_confidence is not None else ""
    return f"{entry.fused_label}{conf}\n{_agreement(entry)}"


def _agreement(entry: HistoryEntry) -> str:
    if entry.agreement_score is None:
        return "one channel"
    return f"{entry.agreement_score:.2f} {entry.agreement_level or ''}".strip()


def _input(entry: HistoryEntry) -> str:
    parts = [p for p in (entry.image_name, entry.excerpt.replace("\n", " ")) if p]
    return " · ".join(parts) or "—"


class HistoryModel(QAbstractTableModel):
    """Rows are history entries, newest first, fetched a page at a time as the view scrolls.

    Signals:
        (QAbstractTableModel's own)
    """

    def __init__(self, store: HistoryStore | None = None) -> None:
        super().__init__()
        self._store = store
        self._rows: list[HistoryEntry] = []
        self._total = 0
        self._text: str | None = None
        self._label: str | None = None
        self._thumbs: dict[str, QPixmap | None] = {}
        self.error = ""

    def set_store(self, store: HistoryStore | None) -> None:
        """Show another history file (None: nothing)."""
        self._store = store
        self.refresh()

    def set_filters(self, text: str | None, label: str | None) -> None:
        """Filter by a substring of the text/image name and by an emotion label."""
        self._text, self._label = (text or None), (label or None)
        self.refresh()

    def refresh(self) -> None:
        """Reload from the first page (after an analysis, a delete, a filter change)."""
        self.beginResetModel()
        self._rows, self._thumbs, self.error = [], {}, ""
        self._total = self._count()
        self._rows = self._page(0)
        self.endResetModel()

    def _count(self) -> int:
        if self._store is None:
            return 0
        try:
            return self._store.count_matching(self._text, self._label)
        except VsaError as exc:
            self.error = exc.message
            return 0

    def _page(self, offset: int) -> list[HistoryEntry]:
        if self._store is None:
            return []
        try:
            return self._store.search(self._text, self._label, limit=PAGE, offset=offset)
        except VsaError as exc:
            self.error = exc.message
            return []

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
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: Index) -> None:
        more = self._page(len(self._rows))
        if not more:
            self._total = len(self._rows)
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(more) - 1)
        self._rows.extend(more)
        self.endInsertRows()

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
            return (_when, _reading, _input)[index.column()](entry)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{entry.mode}: {_input(entry)}"
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            return self._thumbnail(entry)
        return None

    def _thumbnail(self, entry: HistoryEntry) -> QPixmap | None:
        if not entry.has_thumbnail or self._store is None:
            return None
        if entry.id not in self._thumbs:
            pixmap = None
            try:
                data = self._store.thumbnail(entry.id)
            except VsaError as exc:
                log.warning("thumbnail of %s unreadable: %s", entry.id, exc.message)
                data = None
            if data:
                pixmap = QPixmap()
                pixmap.loadFromData(data)
                pixmap = pixmap.scaled(
                    48,
                    48,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            self._thumbs[entry.id] = pixmap
        return self._thumbs[entry.id]
