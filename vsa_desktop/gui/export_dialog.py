"""The export dialog: a save-file dialog whose file type (by suffix) picks the format."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QWidget

# (filter shown, suffix): the suffix of the chosen file decides the format in core.export.
FORMATS: tuple[tuple[str, str], ...] = (
    ("JSON result (*.json)", "json"),
    ("CSV table (*.csv)", "csv"),
    ("PNG chart (*.png)", "png"),
    ("SVG chart (*.svg)", "svg"),
    ("PDF report (*.pdf)", "pdf"),
)


class ExportDialog(QFileDialog):
    """Asks where to export; opens in the remembered folder, adds the suffix of the filter.

    Signals:
        fileSelected(str): (QFileDialog's) the path chosen, with its suffix.
    """

    def __init__(self, parent: QWidget | None, folder: str, base_name: str, count: int) -> None:
        what = "this result" if count == 1 else f"{count} results"
        super().__init__(parent, f"Export {what}", folder)
        self.setObjectName("exportDialog")
        self.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        self.setFileMode(QFileDialog.FileMode.AnyFile)
        self.setNameFilters([f for f, _ in FORMATS])
        self.setDefaultSuffix(FORMATS[0][1])
        self.selectFile(base_name)
        if QGuiApplication.platformName() in ("offscreen", "minimal"):
            self.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        self.filterSelected.connect(self._on_dialog_filter_selected)

    def _on_dialog_filter_selected(self, name_filter: str) -> None:
        suffix = dict(FORMATS).get(name_filter, "json")
        self.setDefaultSuffix(suffix)
        current = self.selectedFiles()
        if current:
            stem = Path(current[0]).stem
            self.selectFile(f"{stem}.{suffix}")


def default_base_name(count: int, first_created_at: str) -> str:
    """A file name (no suffix) for the export, e.g. ``vsa-result-20261126-0420``."""
    stamp = first_created_at.replace("-", "").replace(":", "").replace("T", "-")[:13]
    return f"vsa-result-{stamp}" if count == 1 else f"vsa-results-{count}"
