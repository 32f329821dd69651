"""The settings file: defaults, round trip, and hand-edited files with wrong values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vsa_desktop.core.settings import (
    DEFAULT_VISION_MODELS,
    Settings,
    load_settings,
    save_settings,
    settings_path,
)


def test_round_trip_and_location(vsa_home: Path) -> None:
    s = Settings(text_model="builtin:lite", fusion_text_weight=0.7, vision_models=["a/b"])
    path = save_settings(s)
    assert path == settings_path() and path.is_relative_to(vsa_home)
    assert load_settings() == s
    assert load_settings().weights == pytest.approx((0.7, 0.3))


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("fusion_text_weight", "abc"),
        ("vision_max_side", None),
        ("keep_thumbnails", "no"),
        ("vision_models", "qwen/x"),
        ("groq_timeout_s", "fast"),
        ("fusion_text_weight", 3.0),
        ("text_runtime", "gpu"),
        ("vision_models", []),
        ("vision_max_side", 5),
        ("groq_base_url", "ftp://x"),
        ("offline", 1),
    ],
)
def test_a_wrong_value_falls_back_to_its_default_alone(field: str, bad: object) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({field: bad, "text_model": "builtin:lite"}))
    s = load_settings()
    assert getattr(s, field) == getattr(Settings(), field)
    assert s.text_model == "builtin:lite"  # the good value next to it is kept


def test_secrets_and_unknown_keys_are_ignored() -> None:
    s = Settings.from_dict({"api_key": "gsk_x", "groq_token": "y", "colour": "red"})
    assert s == Settings()
    assert "gsk_x" not in json.dumps(s.to_dict())


def test_broken_file_gives_defaults() -> None:
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert load_settings() == Settings()
    path.write_text("[1, 2]")
    assert load_settings() == Settings()


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings(text_model="builtin:lite")
    monkeypatch.setenv("VSA_TEXT_MODEL", "/models/x")
    monkeypatch.setenv("VSA_VISION_MODEL", "other/vlm")
    monkeypatch.setenv("VSA_OFFLINE", "1")
    assert s.effective_text_model() == "/models/x"
    assert s.vision_model_preference() == ["other/vlm", *DEFAULT_VISION_MODELS]
    assert s.effective_offline()
