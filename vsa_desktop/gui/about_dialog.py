"""Help ▸ How readings are checked: what the percentages mean and where the validation report is."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from vsa_desktop import __version__
from vsa_desktop.core.calibration import CalibrationSet, load_calibration
from vsa_desktop.core.resources import resource_path
from vsa_desktop.core.verdict import VERDICT_TITLES, percent

REPORT_PARTS = ("docs", "validation.md")


def report_path() -> str | None:
    """The validation report beside the app (a source checkout has it), else None."""
    here = resource_path().parent / REPORT_PARTS[0] / REPORT_PARTS[1]
    return str(here) if here.is_file() else None


def validation_html(calibration: CalibrationSet) -> str:
    """The dialog's text: what a percentage is, the verdicts' figures, the report's place."""
    parts = [
        f"<h3>VSA Desktop {html.escape(__version__)}</h3>",
        "<p>Scores describe the emotion the text and the image <i>express</i>, not what a "
        "person feels.</p>",
        "<p>Every percentage shown for a reading is a <b>calibrated probability</b>: with the "
        "built-in text model and the offline face model it was fitted on validation data "
        "(FER2013 PublicTest faces, GoEmotions dev texts, and text+face pairs drawn from them), "
        "never on test data. Other models (DistilRoBERTa, cloud vision) show their own scores, "
        "marked <i>not calibrated</i>.</p>",
    ]
    rule = calibration.level_stats.get(calibration.default_rule)
    if rule:
        rows = "".join(
            f"<tr><td>{html.escape(VERDICT_TITLES[key])}</td>"
            f"<td align='right'>{html.escape(percent(stats.share))}</td>"
            f"<td align='right'>{html.escape(percent(stats.same_share))}</td>"
            f"<td align='right'>{html.escape(percent(stats.accuracy))}</td></tr>"
            for key, stats in rule.items()
            if key in VERDICT_TITLES
        )
        parts.append(
            "<p>What each agreement verdict meant on the validation pairs "
            f"(fusion rule <i>{html.escape(calibration.default_rule)}</i>):</p>"
            "<table cellspacing='6'><tr><th align='left'>verdict</th><th>of all pairs</th>"
            "<th>expressed one emotion</th><th>fused label right</th></tr>"
            f"{rows}</table>"
        )
    report = report_path()
    where = (
        f"<a href='{QUrl.fromLocalFile(report).toString()}'>{html.escape(report)}</a>"
        if report
        else "<code>docs/validation.md</code> in the source code"
    )
    parts.append(
        f"<p>The full validation report (reliability diagrams, confusion matrices, both fusion "
        f"rules) is {where}; <code>scripts/validate.py</code> regenerates it.</p>"
    )
    return "".join(parts)


class AboutDialog(QDialog):
    """Shows ``validation_html`` with a link to the report (opened by the desktop)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("How readings are checked")
        self.label = QLabel(validation_html(load_calibration()), self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.label.linkActivated.connect(self._on_label_link_activated)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(buttons)
        self.resize(560, 420)

    def _on_label_link_activated(self, link: str) -> None:
        QDesktopServices.openUrl(QUrl(link))
