"""The settings dialog: load on open, validate, save on OK, leave everything as it was on Cancel."""

from __future__ import annotations

import copy
import logging
import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from vsa_desktop.core import secrets
from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.settings import (
    DEFAULT_TEXT_MODEL,
    FUSION_RULES,
    TEXT_RUNTIMES,
    VISION_BACKENDS,
    Settings,
    load_settings,
    save_settings,
)
from vsa_desktop.gui.wording import for_gui
from vsa_desktop.gui.workers import TaskRunner

log = logging.getLogger(__name__)

MODEL_CHOICES = ("auto", "builtin:lite", DEFAULT_TEXT_MODEL)
KEY_FROM_ENV = "GROQ_API_KEY is set in the environment; it is used instead of a stored key."
KEY_STORED = "Stored in the system keyring, never in the settings file. Leave empty to keep it."
GROQ_MODELS_NOTE = (
    "An ordered list, one model per line: the first is tried first; when Groq has retired "
    "it, the next one it still lists is used."
)
GROQ_MODEL_ROWS = 5
RULE_WORDS = {
    "auto": "auto: the rule validation chose",
    "weighted": "weighted: a weighted sum of the two channels",
    "product": "product: multiply the channels (independent evidence)",
}


def _rule_words(rule: str) -> str:
    """The fusion rule in words; ``auto`` names the rule validation chose."""
    words = RULE_WORDS.get(rule, rule)
    if rule == "auto":
        from vsa_desktop.core.reading import resolve_rule

        try:
            words += f" ({resolve_rule('auto')})"
        except (OSError, ValueError) as exc:  # no calibration file: auto still works
            log.info("fusion rule for auto unknown: %r", exc)
    return words


def _row(*widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for i, widget in enumerate(widgets):
        layout.addWidget(widget, 1 if i == 0 else 0)
    return box


class SettingsDialog(QDialog):
    """Edits the app's preferences (``core.settings``) and the Groq API key (``core.secrets``).

    Signals:
        settings_saved(object): the new Settings, after they were written to the file.
    """

    settings_saved = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        settings: Settings | None = None,
        runner: TaskRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self.original = copy.deepcopy(settings) if settings is not None else load_settings()
        self.saved: Settings | None = None
        self._own_runner = runner is None
        self._runner = runner or TaskRunner(self, max_threads=1)
        self._check_id = 0
        self._build()
        self._wire()
        self.load(self.original)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.text_model = QComboBox(self)
        self.text_model.setEditable(True)
        self.text_model.addItems(MODEL_CHOICES)
        self.text_model.setAccessibleName("Text model")
        self.text_model.setToolTip("auto, builtin:lite, a Hugging Face id, or a model folder")
        self.browse_model = QPushButton("Folder…", self)
        self.check_model = QPushButton("Check", self)
        self.check_model.setAccessibleName("Check that the text model loads")
        self.check_result = QLabel(self)
        self.check_result.setWordWrap(True)
        self.text_runtime = QComboBox(self)
        self.text_runtime.addItems(TEXT_RUNTIMES)
        self.text_runtime.setAccessibleName("Text runtime")
        self.vision_backend = QComboBox(self)
        self.vision_backend.addItems(VISION_BACKENDS)
        self.vision_backend.setAccessibleName("Vision backend")
        self.vision_models = QPlainTextEdit(self)
        self.vision_models.setTabChangesFocus(True)
        self.vision_models.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.vision_models.setPlaceholderText("qwen/qwen3.8-27b\n(one model per line)")
        lines = self.vision_models.fontMetrics().lineSpacing() * GROQ_MODEL_ROWS
        margins = self.vision_models.contentsMargins()
        frame = 2 * self.vision_models.frameWidth() + margins.top() + margins.bottom()
        self.vision_models.setFixedHeight(lines + frame + 8)  # five rows; it scrolls past them
        self.vision_models.setAccessibleName("Groq vision models, one per line, preferred first")
        self.vision_models_note = QLabel(GROQ_MODELS_NOTE, self)
        self.vision_models_note.setWordWrap(True)
        self.fusion_rule = QComboBox(self)
        for rule in FUSION_RULES:
            self.fusion_rule.addItem(_rule_words(rule), rule)
        self.fusion_rule.setAccessibleName("Fusion rule")
        self.fusion_rule.setToolTip(
            "How the text and image scores are combined; auto takes the rule that did best "
            "on the validation pairs (Help ▸ How readings are checked)."
        )
        self.base_url = QLineEdit(self)
        self.base_url.setPlaceholderText("default: https://api.groq.com")
        self.base_url.setAccessibleName("Groq base URL")
        self.api_key = QLineEdit(self)
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setAccessibleName("Groq API key")
        self.key_note = QLabel(self)
        self.key_note.setWordWrap(True)
        self.weight = QSlider(Qt.Orientation.Horizontal, self)
        self.weight.setRange(0, 100)
        self.weight.setSingleStep(5)
        self.weight.setPageStep(10)
        self.weight.setAccessibleName("Fusion weight of the text")
        self.weight_label = QLabel(self)
        self.weight_label.setMinimumWidth(130)
        self.keep_thumbnails = QCheckBox("Keep small thumbnails of analysed images", self)
        self.history_path = QLineEdit(self)
        self.history_path.setPlaceholderText("default location")
        self.history_path.setAccessibleName("History file")
        self.browse_history = QPushButton("Choose…", self)
        self.problems = QLabel(self)
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #C0392B;")
        self.problems.setAccessibleName("Problems")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        form = QFormLayout()
        form.addRow("Text model", _row(self.text_model, self.browse_model, self.check_model))
        form.addRow("", self.check_result)
        form.addRow("Text runtime", self.text_runtime)
        form.addRow("Vision", self.vision_backend)
        form.addRow("Groq models", self.vision_models)
        form.addRow("", self.vision_models_note)
        form.addRow("Groq base URL", self.base_url)
        form.addRow("Groq API key", self.api_key)
        form.addRow("", self.key_note)
        form.addRow("Fusion rule", self.fusion_rule)
        form.addRow("Fusion weight", _row(self.weight, self.weight_label))
        form.addRow("Thumbnails", self.keep_thumbnails)
        form.addRow("History file", _row(self.history_path, self.browse_history))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)  # spare height below the form, not between its rows
        layout.addWidget(self.problems)
        layout.addWidget(self.buttons)
        self.resize(560, 0)

    def showEvent(self, event: QShowEvent) -> None:
        """Tall enough for its wrapped notes at its width: a top-level window does not follow
        its layout's height-for-width, and the notes were drawn over the Groq models box."""
        needed = self.layout().heightForWidth(self.width())
        if needed > 0:
            self.setMinimumHeight(needed)
            if self.height() < needed:
                self.resize(self.width(), needed)
        super().showEvent(event)

    def _wire(self) -> None:
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.weight.valueChanged.connect(self._on_weight_value_changed)
        self.browse_model.clicked.connect(self._on_browse_model_clicked)
        self.browse_history.clicked.connect(self._on_browse_history_clicked)
        self.check_model.clicked.connect(self._on_check_model_clicked)

    # ------------------------------------------------------------------ load / read

    def load(self, settings: Settings) -> None:
        """Put ``settings`` into the widgets."""
        self.text_model.setCurrentText(settings.text_model)
        self.text_runtime.setCurrentText(settings.text_runtime)
        self.vision_backend.setCurrentText(settings.vision_backend)
        self.vision_models.setPlainText("\n".join(settings.vision_models))
        self.base_url.setText(settings.groq_base_url)
        self.fusion_rule.setCurrentIndex(max(0, self.fusion_rule.findData(settings.fusion_rule)))
        self.weight.setValue(round(settings.fusion_text_weight * 100))
        self._on_weight_value_changed(self.weight.value())
        self.keep_thumbnails.setChecked(settings.keep_thumbnails)
        self.history_path.setText(settings.history_path)
        self.api_key.clear()
        self._load_key_state()
        self.problems.clear()

    def _load_key_state(self) -> None:
        if os.environ.get(secrets.ENV_VAR):
            self.key_note.setText(KEY_FROM_ENV)
        elif not secrets.keyring_available():
            self.api_key.setEnabled(False)
            self.api_key.setPlaceholderText("no system keyring")
            self.key_note.setText(
                f"{secrets.NO_KEYRING} For example, start the app with "
                "GROQ_API_KEY=gsk_… in its environment."
            )
        else:
            self.api_key.setPlaceholderText("unchanged")
            self.key_note.setText(KEY_STORED)

    def current(self) -> Settings:
        """The settings the widgets show (not saved)."""
        models = [m.strip() for m in self.vision_models.toPlainText().splitlines() if m.strip()]
        return Settings(
            **{
                **self.original.to_dict(),
                "text_model": self.text_model.currentText().strip() or "auto",
                "text_runtime": self.text_runtime.currentText(),
                "vision_backend": self.vision_backend.currentText(),
                "vision_models": models,
                "groq_base_url": self.base_url.text().strip(),
                "fusion_text_weight": self.weight.value() / 100.0,
                "fusion_rule": self.fusion_rule.currentData(),
                "keep_thumbnails": self.keep_thumbnails.isChecked(),
                "history_path": self.history_path.text().strip(),
            }
        )

    # ------------------------------------------------------------------ accept / reject

    def accept(self) -> None:
        """Validate; save the settings (and the key); close only when all went well."""
        settings = self.current()
        problems = settings.validate()
        if problems:
            self.problems.setText(" ".join(problems))
            return
        try:
            if self.api_key.isEnabled() and self.api_key.text().strip():
                secrets.set_api_key(self.api_key.text())
            save_settings(settings)
        except (VsaError, OSError) as exc:
            message = exc.message if isinstance(exc, VsaError) else f"Could not save: {exc}."
            self.problems.setText(message)
            return
        self.api_key.clear()
        self.saved = settings
        self.settings_saved.emit(settings)
        super().accept()

    def reject(self) -> None:
        """Close without saving; the widgets go back to the settings they opened with."""
        self.load(self.original)
        super().reject()

    def done(self, result: int) -> None:
        """Close; a check still running is cancelled (its answer is then ignored)."""
        self._check_id = -1
        if self._own_runner:
            self._runner.shutdown()
        super().done(result)

    # ------------------------------------------------------------------ slots

    def _on_weight_value_changed(self, value: int) -> None:
        self.weight_label.setText(f"text {value}% / image {100 - value}%")

    def _on_browse_model_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a text model folder")
        if folder:
            self.text_model.setCurrentText(folder)

    def _on_browse_history_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "History file", self.history_path.text(), "History (*.sqlite3)"
        )
        if path:
            self.history_path.setText(path)

    def _on_check_model_clicked(self) -> None:
        from vsa_desktop.gui.warmup import check_text_model

        model, runtime = self.text_model.currentText().strip(), self.text_runtime.currentText()
        self.check_model.setEnabled(False)
        self.check_result.setText(f"Loading {model}…")
        self._check_id, _ = self._runner.run(
            lambda token, progress: check_text_model(model, runtime), self._connect_check
        )

    def _connect_check(self, signals: object) -> None:
        signals.returned.connect(self._on_check_returned)  # type: ignore[attr-defined]
        signals.failed.connect(self._on_check_failed)  # type: ignore[attr-defined]

    def _on_check_returned(self, task_id: int, message: str) -> None:
        if task_id == self._check_id:
            self.check_model.setEnabled(True)
            self.check_result.setText(f"✓ {for_gui(message)}")

    def _on_check_failed(self, task_id: int, exc: BaseException) -> None:
        if task_id == self._check_id:
            self.check_model.setEnabled(True)
            text = (
                for_gui(exc.message) if isinstance(exc, VsaError) else f"Unexpected error: {exc!r}"
            )
            self.check_result.setText(f"✗ {text}")
