"""The result view: message bar, the reading in words, warnings, notice line, and the chart."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from vsa_desktop.core import verdict
from vsa_desktop.core.pipeline import LITE_NOTE
from vsa_desktop.core.result import AnalysisResult
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.terminal import inert_bidi
from vsa_desktop.gui.chart_view import ChartView
from vsa_desktop.gui.message_bar import MessageBar
from vsa_desktop.gui.reading_parts import cues_html, parts_tooltip
from vsa_desktop.gui.wording import GUI_LITE_NOTE, GUI_LITE_NOTE_OFFLINE, for_gui

NOTICE = "Scores describe expressed emotion, not inner feelings."
EMPTY = "Drop an image and/or type a text, then press Analyze (Ctrl+Enter)."
DOWNLOAD = "Download the full model…"
DOWNLOAD_OFFLINE = "Go online and download the full model…"
TOP_N = 3
EXPLANATION_MAX_HEIGHT = 190  # px: the chart keeps most of the height
VERDICT_COLOURS = {
    "consistent": "#009E73",
    "different-strength": "#009E73",
    "mixed": "#E69F00",
    "divergent": "#D55E00",
}


def top_labels(scores: dict[str, float], n: int = TOP_N) -> list[tuple[str, float]]:
    """The ``n`` highest scores, highest first (ties in canonical order)."""
    ordered = sorted(EMOTIONS, key=lambda e: (-scores.get(e, 0.0), EMOTIONS.index(e)))
    return [(e, scores.get(e, 0.0)) for e in ordered[:n]]


def _labels_html(scores: dict[str, float]) -> str:
    # percent() can say "< 1 %": escaped, or rich text would take it for a tag and drop the rest
    return ", ".join(html.escape(f"{e} {verdict.percent(v)}") for e, v in top_labels(scores))


class ResultView(QWidget):
    """Shows one AnalysisResult: headline, agreement, channels, description, warnings, chart.

    The chart is drawn off the GUI thread (``ChartView``); Matplotlib is imported there.

    Signals:
        download_requested(): "Download the full model" (or, offline, "Go online and
            download") was clicked beside the lite note.
        result_drawn(object): the result (or None), chart included, is on screen.
    """

    download_requested = Signal()
    result_drawn = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_bar = MessageBar(self)
        self.headline = self._label("Result", bold_size=15)
        self.agreement = self._label("Agreement")
        self.details = self._label("Readings per channel")
        self.warnings = self._label("Warnings")
        self.download_button = QPushButton(DOWNLOAD, self)
        self.download_button.setToolTip(
            "Download DistilRoBERTa (about 330 MB) for better text scores"
        )
        self._offline = False
        self.download_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.download_button.clicked.connect(self.download_requested)
        self.download_button.hide()
        self.notice = self._label("Notice")
        self.notice.setText(f"<i>{NOTICE}</i>")
        self.chart = ChartView(self)
        self.chart.chart_drawn.connect(self.result_drawn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        for widget in (
            self.message_bar,
            self.headline,
            self.agreement,
            self.warnings,
        ):
            layout.addWidget(widget)
        layout.addWidget(self.download_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.details)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.notice)
        self.result: AnalysisResult | None = None
        self.show_result(None)

    def add_explanation_view(self, view: QWidget) -> None:
        """Place the "Why this reading" view between the readings and the chart."""
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        view.setMaximumHeight(EXPLANATION_MAX_HEIGHT)
        layout.insertWidget(layout.indexOf(self.chart), view)

    def set_offline(self, offline: bool) -> None:
        """Offline, the lite note offers "Go online and download" (a download would fail)."""
        self._offline = offline
        self.download_button.setText(DOWNLOAD_OFFLINE if offline else DOWNLOAD)
        if self.result is not None:
            self._set(self.warnings, _warnings_html(self.result, offline))

    def shutdown(self) -> None:
        """Stop the chart's worker."""
        self.chart.shutdown()

    def _label(self, name: str, bold_size: int = 0) -> QLabel:
        label = QLabel(self)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        label.setAccessibleName(name)
        if bold_size:
            font = label.font()
            font.setPointSize(bold_size)
            font.setBold(True)
            label.setFont(font)
        return label

    def show_result(
        self, result: AnalysisResult | None, origin: str = "", offline: bool | None = None
    ) -> None:
        """Display ``result`` (None: the empty state). ``origin`` is e.g. "From history"."""
        self.result = result
        if offline is not None:
            self.set_offline(offline)
        self.chart.show_result(result)
        self.chart.setToolTip(parts_tooltip(result) if result is not None else "")
        if result is None or result.fusion is None:
            self.headline.setText(EMPTY if result is None else "No reading.")
            for label in (self.agreement, self.details, self.warnings):
                label.clear()
                label.setVisible(False)
            self.download_button.hide()
            return
        prefix = f"{html.escape(origin)}: " if origin else ""
        self.headline.setText(f"{prefix}{_headline(result)}")
        self._set(self.agreement, _agreement_html(result))
        details = _details_html(result)
        if origin:  # the input boxes hold the next analysis, so say what this one read
            details = _input_html(result) + "<br>" + details
        self._set(self.details, details)
        self._set(self.warnings, _warnings_html(result, self._offline))
        self.download_button.setVisible(LITE_NOTE in result.warnings)

    @staticmethod
    def _set(label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))


def _headline(result: AnalysisResult) -> str:
    """``Happy 87 %``, or ``Mixed signals: text sad, image happy`` when the labels differ."""
    fusion = result.fusion
    assert fusion is not None
    reading = html.escape(verdict.reading(fusion))
    if not verdict.is_mixed(result):
        return reading
    assert result.text and result.vision and fusion.agreement
    title = verdict.VERDICT_TITLES[verdict.verdict_of(fusion.agreement)]
    return (
        f"{html.escape(title)}: text {html.escape(result.text.label)}, "
        f"image {html.escape(result.vision.label)} "
        f"<span style='font-weight:normal'>(fused {reading})</span>"
    )


def _agreement_html(result: AnalysisResult) -> str:
    """The verdict sentence (coloured by verdict), what it meant in validation, and what the
    percentage is."""
    fusion = result.fusion
    assert fusion is not None
    sentence = html.escape(verdict.agreement_sentence(result))
    if fusion.agreement is not None and result.text and result.vision:
        colour = VERDICT_COLOURS.get(verdict.verdict_of(fusion.agreement), "")
        title, _, rest = sentence.partition(":")
        sentence = f"<b><span style='color:{colour}'>{title}</span></b>:{rest}"
    extra = " ".join(
        part
        for part in (verdict.level_meaning(fusion), verdict.confidence_sentence(fusion))
        if part
    )
    return f"{sentence}<br><span style='font-size:small'>{html.escape(extra)}</span>"


def _input_html(result: AnalysisResult) -> str:
    parts = []
    if result.text_input:
        text = inert_bidi(" ".join(result.text_input.split()))
        text = text if len(text) <= 120 else text[:119] + "…"
        parts.append(f"“{html.escape(text)}”")
    if result.image:
        parts.append(f"image {html.escape(inert_bidi(result.image.name))}")
    return "<b>Input</b>: " + (", ".join(parts) or "—")


def _details_html(result: AnalysisResult) -> str:
    lines = []
    if result.text:
        t = result.text
        lines.append(
            f"<b>Text</b> ({html.escape(t.model)}, {html.escape(t.runtime)}, "
            f"{verdict.calibration_words(t.calibrated)}): {_labels_html(t.shown_scores)}"
        )
    if result.vision:
        v = result.vision
        lines.append(
            f"<b>Image</b> ({html.escape(v.backend)}: {html.escape(v.model)}, "
            f"{verdict.calibration_words(v.calibrated)}): {_labels_html(v.shown_scores)}"
        )
        if v.description:
            lines.append(f"<b>What the vision model saw:</b> {html.escape(v.description)}")
        if v.cues:
            lines.append(cues_html(v))
    if result.fusion:
        f = result.fusion
        how = verdict.fusion_words(f)
        lines.append(
            f"<b>Fused</b> ({html.escape(how)}, {verdict.calibration_words(f.calibrated)}): "
            f"{_labels_html(f.shown_scores)}"
        )
    return "<br>".join(lines)


def _warnings_html(result: AnalysisResult, offline: bool = False) -> str:
    """The result's notes in the window's words (menus and buttons, not commands)."""
    if not result.warnings:
        return ""
    lite = GUI_LITE_NOTE_OFFLINE if offline else GUI_LITE_NOTE
    notes = [lite if w == LITE_NOTE else for_gui(w) for w in result.warnings]
    items = "".join(f"<li>{html.escape(w)}</li>" for w in notes)
    return f"<span style='color:#B35900'>⚠ Notes:</span><ul style='margin:0'>{items}</ul>"
