"""What the window's result area says: the result shown, its face boxes, errors, stale notes."""

from __future__ import annotations

from PySide6.QtCore import QObject

from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.gui.crash_dialog import report_crash
from vsa_desktop.gui.drop_zone import DropZone
from vsa_desktop.gui.result_view import ResultView
from vsa_desktop.gui.status_bar import StatusBar

ANALYSIS_FAILED = "Analysis failed"
UNEXPECTED = "Something unexpected went wrong; the details are in the log."


class ResultArea(QObject):
    """Puts results and errors on screen, and takes a message down when its situation ends.

    An error (a refused image, "Nothing to analyze", a failed analysis) stays until the
    input changes or another result is shown; a result deleted from history leaves the screen.

    Signals:
        (none: ``ResultView.result_drawn`` says when a result is on screen.)
    """

    def __init__(self, view: ResultView, drop_zone: DropZone, status: StatusBar) -> None:
        super().__init__(view)
        self.view = view
        self._drop_zone = drop_zone
        self._status = status

    def show(self, result: AnalysisResult, origin: str = "", offline: bool = False) -> None:
        """Display ``result``; face boxes are drawn when it is about the image shown."""
        self.clear_stale_failure()
        self.view.show_result(result, origin, offline=offline)
        loaded = self._drop_zone.loaded
        same_image = loaded and result.image and loaded.info.sha256 == result.image.sha256
        self._drop_zone.set_faces(result.vision.faces if same_image and result.vision else ())

    def show_error(self, exc: BaseException, parent: object = None) -> None:
        """An expected error inline (its one sentence); anything else to the crash handler."""
        if isinstance(exc, VsaError):
            self.view.message_bar.show_message(exc.message, "error")
            return
        report_crash(exc, parent)  # type: ignore[arg-type]
        self.view.message_bar.show_message(UNEXPECTED, "error")

    def analysis_failed(self, exc: BaseException, parent: object = None) -> None:
        """The analysis failed: say so in the status bar and why in the message bar."""
        self._status.end_progress(ANALYSIS_FAILED)
        self.show_error(exc, parent)

    def clear_stale_failure(self) -> None:
        """The last failure (a refused input, a failed analysis) is over: stop saying it."""
        if self.view.message_bar.kind == "error":
            self.view.message_bar.clear()
        if self._status.activity.text() == ANALYSIS_FAILED:
            self._status.show_activity("")

    def forget(self, ids: list[str]) -> None:
        """Results were deleted from history: the one shown leaves the screen too."""
        shown = self.view.result
        if shown is not None and shown.id in ids:
            self.view.show_result(None)
            self._drop_zone.set_faces(())
