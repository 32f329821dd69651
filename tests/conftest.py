"""Shared fixtures: an isolated VSA_HOME for every test, and the tiny text model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def vsa_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own VSA_HOME; the user's real config and keys are never touched."""
    home = tmp_path / "vsa-home"
    home.mkdir()
    monkeypatch.setenv("VSA_HOME", str(home))
    for name in (
        "GROQ_API_KEY",
        "GROQ_BASE_URL",
        "VSA_TEXT_MODEL",
        "VSA_VISION_MODEL",
        "VSA_OFFLINE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return home


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny RoBERTa classifier with the j-hartmann labels, built once per test session."""
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-emotion")
