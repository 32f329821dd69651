"""The settings dialog: load on open, validate, save on OK, restore on Cancel, model check."""

# ruff: noqa: F811  (pytest fixtures imported from tests.gui_support are redefined as args)

from __future__ import annotations

import itertools
import json

import pytest

pytest.importorskip("PySide6")

from tests.gui_support import GUI_MARKS, gui_guard  # noqa: F401
from vsa_desktop.core.settings import Settings, load_settings, save_settings, settings_path
from vsa_desktop.gui.settings_dialog import SettingsDialog

pytestmark = GUI_MARKS


@pytest.fixture
def saved() -> Settings:
    settings = Settings(
        text_model="builtin:lite",
        vision_backend="local",
        vision_models=["a/one", "b/two"],
        fusion_text_weight=0.7,
        keep_thumbnails=False,
    )
    save_settings(settings)
    return settings


@pytest.fixture
def dialog(qtbot, gui_guard, saved):
    dlg = SettingsDialog()
    qtbot.addWidget(dlg)
    yield dlg
    dlg.close()


def test_loads_the_saved_settings_on_open(dialog, saved):
    assert dialog.text_model.currentText() == "builtin:lite"
    assert dialog.vision_backend.currentText() == "local"
    assert dialog.vision_models.toPlainText().splitlines() == ["a/one", "b/two"]
    assert dialog.weight.value() == 70
    assert "text 70% / image 30%" in dialog.weight_label.text()
    assert not dialog.keep_thumbnails.isChecked()
    assert dialog.current() == saved


def test_cancel_restores_and_saves_nothing(dialog, saved):
    before = settings_path().read_bytes()
    dialog.text_model.setCurrentText("some/other-model")
    dialog.vision_backend.setCurrentText("none")
    dialog.weight.setValue(10)
    dialog.keep_thumbnails.setChecked(True)
    dialog.vision_models.setPlainText("x/y")
    dialog.reject()
    assert settings_path().read_bytes() == before
    assert dialog.saved is None
    assert dialog.current() == saved  # the widgets are back too
    reopened = SettingsDialog()
    assert reopened.current() == saved
    reopened.close()


def test_ok_validates_then_saves(qtbot, dialog):
    dialog.base_url.setText("ftp://wrong")
    dialog.accept()
    assert dialog.saved is None and dialog.result() == 0
    assert "http://" in dialog.problems.text()
    assert load_settings().groq_base_url == ""
    dialog.base_url.setText("http://127.0.0.1:9")
    dialog.weight.setValue(25)
    with qtbot.waitSignal(dialog.settings_saved) as blocker:
        dialog.accept()
    assert blocker.args[0].fusion_text_weight == pytest.approx(0.25)
    on_disk = load_settings()
    assert on_disk.groq_base_url == "http://127.0.0.1:9"
    assert on_disk.fusion_text_weight == pytest.approx(0.25)


def test_without_a_keyring_the_key_field_explains_groq_api_key(dialog):
    # conftest selects keyring's "fail" backend: there is no keyring here.
    assert not dialog.api_key.isEnabled()
    assert "GROQ_API_KEY" in dialog.key_note.text()
    dialog.accept()
    assert "key" not in json.loads(settings_path().read_text("utf-8"))


def test_key_in_environment_is_explained(qtbot, gui_guard, saved, monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", "gsk_from_env")
    dlg = SettingsDialog()
    qtbot.addWidget(dlg)
    assert "environment" in dlg.key_note.text()
    dlg.accept()
    assert "gsk_from_env" not in settings_path().read_text("utf-8")


def test_check_loads_the_model_in_a_worker(qtbot, dialog, tiny_model_dir):
    dialog.text_model.setCurrentText(str(tiny_model_dir))
    dialog.check_model.click()
    assert not dialog.check_model.isEnabled()
    qtbot.waitUntil(dialog.check_model.isEnabled, timeout=120_000)
    assert dialog.check_result.text().startswith("✓ Loaded")


def test_check_reports_a_missing_model(qtbot, dialog, tmp_path):
    dialog.text_model.setCurrentText(str(tmp_path / "no-such-model"))
    dialog.check_model.click()
    qtbot.waitUntil(dialog.check_model.isEnabled, timeout=60_000)
    assert dialog.check_result.text().startswith("✗ ")
    assert "Unexpected" not in dialog.check_result.text()


def test_groq_models_show_five_rows_and_say_they_are_an_ordered_list(qtbot, dialog):
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.vision_models.setPlainText("\n".join(f"vendor/model-{i}" for i in range(5)))
    box = dialog.vision_models
    line = box.fontMetrics().lineSpacing()
    assert box.viewport().height() >= 5 * line  # five models visible without scrolling
    assert box.verticalScrollBar().maximum() == 0
    note = dialog.vision_models_note.text()
    assert "one model per line" in note and "first is tried first" in note
    assert dialog.vision_models_note.isVisible()


def test_fusion_rule_is_a_setting_and_auto_names_the_chosen_rule(qtbot, dialog, saved):
    from vsa_desktop.core.reading import resolve_rule

    rules = [dialog.fusion_rule.itemData(i) for i in range(dialog.fusion_rule.count())]
    assert rules == ["auto", "weighted", "product"]
    assert dialog.fusion_rule.currentData() == "auto"
    assert f"({resolve_rule('auto')})" in dialog.fusion_rule.itemText(0)
    dialog.fusion_rule.setCurrentIndex(rules.index("weighted"))
    dialog.accept()
    assert load_settings().fusion_rule == "weighted"
    again = SettingsDialog()
    qtbot.addWidget(again)
    assert again.fusion_rule.currentData() == "weighted"
    again.reject()


def test_no_row_is_drawn_over_another(qtbot, dialog):
    """The wrapped notes need more height than the dialog's first size; they were painted
    over the Groq models box (a top-level window ignores height-for-width)."""
    dialog.vision_models.setPlainText("a/one\nb/two\nc/three\nd/four")
    dialog.show()
    qtbot.waitExposed(dialog)
    rows = [
        dialog.vision_models, dialog.vision_models_note, dialog.base_url, dialog.api_key,
        dialog.key_note, dialog.fusion_rule, dialog.history_path,
    ]  # fmt: skip
    from PySide6.QtCore import QPoint, QRect

    boxes = [QRect(w.mapTo(dialog, QPoint(0, 0)), w.size()) for w in rows if w.isVisible()]
    for upper, lower in itertools.pairwise(boxes):
        assert upper.bottom() < lower.top(), (upper, lower)
    assert dialog.buttons.geometry().bottom() <= dialog.height()
