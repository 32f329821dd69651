"""The history panel: search, label filter, a lazy table of past analyses, delete with undo."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.history import HistoryStore
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.settings import Settings
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.gui.history_model import HistoryModel

log = logging.getLogger(__name__)

ALL_LABELS = "All emotions"
INPUT_MIN_PX = 80  # the Input column never gets narrower than this
SEARCH_SETTLE_MS = 200  # search as you type, once the typing pauses


def open_history(settings: Settings) -> tuple[HistoryStore | None, str]:
    """Open the history file the settings name; (None, reason) when it cannot be opened."""
    try:
        store = HistoryStore(Path(settings.history_path) if settings.history_path else None)
    except VsaError as exc:
        return None, exc.message
    return store, store.recovery_message or ""


class HistoryPanel(QWidget):
    """Past analyses, newest first. Selecting a row shows it; Delete removes it (with Undo).

    Signals:
        entry_selected(object): the AnalysisResult of the row the user selected.
        entries_deleted(list): the ids just deleted.
        selection_changed(int): how many rows are selected now.
        history_failed(str): a history read or write failed (one sentence).
    """

    entry_selected = Signal(object)
    entries_deleted = Signal(list)
    selection_changed = Signal(int)
    history_failed = Signal(str)

    def __init__(self, store: HistoryStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.model = HistoryModel(store)
        self._undo: list[tuple[AnalysisResult, bytes | None]] = []
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SEARCH_SETTLE_MS)
        self._build()
        self._wire()
        self.model.refresh()
        self._update_footer()

    def _build(self) -> None:
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search text or image name")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search history")
        self.label_filter = QComboBox(self)
        self.label_filter.addItems([ALL_LABELS, *EMOTIONS])
        self.label_filter.setAccessibleName("Filter history by emotion")
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName("History")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(40, 40))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(44)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        # The Input column takes the width that is left and elides; no sideways scrolling.
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        when = 40 + 12 + self.fontMetrics().horizontalAdvance("2026-12-31 ")
        reading = self.fontMetrics().horizontalAdvance("surprise 100 %  ")
        header.resizeSection(0, when)
        header.resizeSection(1, reading)
        header.setMinimumSectionSize(min(40, header.minimumSectionSize()))
        frame = 2 * self.table.frameWidth() + self.table.verticalScrollBar().sizeHint().width()
        self.table.setMinimumWidth(when + reading + INPUT_MIN_PX + frame)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setAccessibleName("Delete selected history entries")
        self.undo_button = QPushButton("Undo delete", self)
        self.undo_button.setAccessibleName("Undo the last delete")
        self.footer = QLabel(self)
        top = QHBoxLayout()
        top.addWidget(self.search, 2)
        top.addWidget(self.label_filter, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.footer, 1)
        bottom.addWidget(self.undo_button)
        bottom.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.setTabOrder(self.search, self.label_filter)
        self.setTabOrder(self.label_filter, self.table)

    def _wire(self) -> None:
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.returnPressed.connect(self._on_settle_timeout)
        self._settle.timeout.connect(self._on_settle_timeout)
        self.label_filter.currentIndexChanged.connect(self._on_label_filter_changed)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.delete_button.clicked.connect(self._on_delete_button_clicked)
        self.undo_button.clicked.connect(self._on_undo_button_clicked)
        shortcut = QShortcut(QKeySequence.StandardKey.Delete, self.table)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        shortcut.activated.connect(self._on_delete_button_clicked)
        self.model.loaded.connect(self._update_footer)
        self.model.rowsInserted.connect(self._update_footer)
        self.model.rowsRemoved.connect(self._update_footer)

    # ------------------------------------------------------------------ public

    def set_store(self, store: HistoryStore | None) -> None:
        """Show another history file."""
        self.store = store
        self._undo.clear()
        self.model.set_store(store)

    def refresh(self) -> None:
        """Reload the rows (keeps the filters)."""
        self.model.refresh()

    @property
    def busy(self) -> bool:
        """True while a search is waiting for the typing to pause or a page is being read."""
        return self._settle.isActive() or self.model.loading

    def add_result(self, result: AnalysisResult) -> None:
        """Show a result that was just stored (one new row, no reload)."""
        self.model.add_result(result)

    def shutdown(self) -> None:
        """Stop reading the history and let go of the store."""
        self._settle.stop()
        self.model.shutdown()
        self.store = None

    def selected_ids(self) -> list[str]:
        """Ids of the selected rows, top to bottom."""
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.entry(r).id for r in rows]

    def selected_results(self) -> list[AnalysisResult]:
        """The selected analyses, read from the store (unreadable ones are skipped)."""
        results = []
        for result_id in self.selected_ids():
            result = self._get(result_id)
            if result is not None:
                results.append(result)
        return results

    def select_row(self, row: int) -> None:
        """Select one row (keyboard and tests)."""
        index = self.model.index(row, 0)
        self.table.selectionModel().select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )

    # ------------------------------------------------------------------ slots

    def _on_search_text_changed(self, text: str) -> None:
        self._settle.start()  # restarts while typing: one query when the typing pauses

    def _on_settle_timeout(self) -> None:
        self._settle.stop()
        self._apply_filters()

    def _on_label_filter_changed(self, index: int) -> None:
        self._apply_filters()

    def _apply_filters(self) -> None:
        label = self.label_filter.currentText()
        self.model.set_filters(self.search.text().strip(), None if label == ALL_LABELS else label)

    def _on_table_selection_changed(self, *args: object) -> None:
        ids = self.selected_ids()
        self.selection_changed.emit(len(ids))
        if len(ids) == 1:
            result = self._get(ids[0])
            if result is not None:
                self.entry_selected.emit(result)

    def _on_delete_button_clicked(self) -> None:
        ids = self.selected_ids()
        if not ids or self.store is None:
            return
        batch, deleted = [], []
        for result_id in ids:
            try:
                batch.append((self.store.get(result_id), self.store.thumbnail(result_id)))
                self.store.delete(result_id)
            except VsaError as exc:
                self.history_failed.emit(exc.message)
            else:
                deleted.append(result_id)
        self._undo = batch
        self.model.remove_ids(deleted)
        if deleted:
            self.entries_deleted.emit(deleted)

    def _on_undo_button_clicked(self) -> None:
        if self.store is None or not self._undo:
            return
        from PIL import Image

        for result, thumb in self._undo:
            source = Image.open(io.BytesIO(thumb)) if thumb else None
            try:
                self.store.add(result, source, keep_thumbnail=source is not None)
            except VsaError as exc:
                self.history_failed.emit(exc.message)
        self._undo = []
        self.model.refresh()

    def _get(self, result_id: str) -> AnalysisResult | None:
        if self.store is None:
            return None
        try:
            return self.store.get(result_id)
        except VsaError as exc:
            self.history_failed.emit(exc.message)
            return None

    def _update_footer(self, *args: object) -> None:
        if self.model.loading and not self.model.rowCount():
            self.footer.setText("Reading the history…")
            return
        shown, total = self.model.rowCount(), self.model.total
        text = f"{total} analys{'is' if total == 1 else 'es'}"
        if shown < total:
            text += f" ({shown} loaded)"
        if self.model.error:
            text = self.model.error
            self.history_failed.emit(self.model.error)
        self.footer.setText(text)
        self.undo_button.setEnabled(bool(self._undo))
        n = len(self._undo)
        self.undo_button.setText(f"Undo delete ({n})" if n else "Undo delete")
