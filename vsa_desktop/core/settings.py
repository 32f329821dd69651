"""User preferences in one JSON file shared by the GUI and the CLI (never holds secrets)."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vsa_desktop.core.errors import InputError
from vsa_desktop.core.logsafety import has_credentials
from vsa_desktop.core.paths import config_dir
from vsa_desktop.core.textfile import read_capped

log = logging.getLogger(__name__)

DEFAULT_TEXT_MODEL = "j-hartmann/emotion-english-distilroberta-base"
DEFAULT_VISION_MODELS: tuple[str, ...] = (
    "qwen/qwen3.8-27b",
    "qwen/qwen3.6-27b",
    "meta-llama/llama-4-scout-17b-16e-instruct",
    "meta-llama/llama-4-maverick-17b-128e-instruct",
)
TEXT_RUNTIMES = ("auto", "onnx-int8", "onnx", "torch")
VISION_BACKENDS = ("auto", "groq", "local", "none")
FUSION_RULES = ("auto", "weighted", "product")  # auto: the rule validation chose
# Which text readings the window explains word by word: none, the lite model's (exact and
# instant), or every model's (occlusion: many more runs of a transformer, in the background).
EXPLAIN_WORDS = ("off", "lite", "all")
MAX_SETTINGS_BYTES = 1 << 20
SECRET_WORDS = ("key", "token", "secret", "password")
CREDENTIALS_IN_URL = (
    "The base URL must not hold a user name or password; the API key goes in "
    "GROQ_API_KEY or Settings."
)


@dataclass
class Settings:
    """Preferences. Unknown keys in the file are kept out; bad values fall back to defaults."""

    text_model: str = "auto"
    text_runtime: str = "auto"
    vision_backend: str = "auto"
    vision_models: list[str] = field(default_factory=lambda: list(DEFAULT_VISION_MODELS))
    groq_base_url: str = ""
    groq_timeout_s: float = 30.0
    groq_requests_per_minute: float = 30.0  # batch runs pace cloud requests to this (free plan)
    vision_max_side: int = 1568
    fusion_text_weight: float = 0.5
    fusion_rule: str = "auto"
    keep_thumbnails: bool = True
    history_path: str = ""
    offline: bool = False
    first_run_notice_dismissed: bool = False
    export_dir: str = ""
    explain_words: str = "lite"

    @property
    def weights(self) -> tuple[float, float]:
        """(text, vision) fusion weights."""
        w = min(1.0, max(0.0, float(self.fusion_text_weight)))
        return w, 1.0 - w

    def effective_text_model(self) -> str:
        """The text model id: ``VSA_TEXT_MODEL`` wins over the setting."""
        return os.environ.get("VSA_TEXT_MODEL") or self.text_model

    def effective_offline(self) -> bool:
        """True when ``VSA_OFFLINE=1`` or the setting says offline."""
        return os.environ.get("VSA_OFFLINE", "") not in ("", "0") or self.offline

    def vision_model_preference(self) -> list[str]:
        """The vision model preference list with ``VSA_VISION_MODEL`` first."""
        first = os.environ.get("VSA_VISION_MODEL")
        models = [m for m in self.vision_models if m]
        if first:
            models = [first] + [m for m in models if m != first]
        return models

    def validate(self) -> list[str]:
        """Return a list of problems in user words (empty when all is well)."""
        problems = []
        if self.text_runtime not in TEXT_RUNTIMES:
            problems.append(f"Text runtime must be one of {', '.join(TEXT_RUNTIMES)}.")
        if self.vision_backend not in VISION_BACKENDS:
            problems.append(f"Vision backend must be one of {', '.join(VISION_BACKENDS)}.")
        if self.fusion_rule not in FUSION_RULES:
            problems.append(f"Fusion rule must be one of {', '.join(FUSION_RULES)}.")
        if self.explain_words not in EXPLAIN_WORDS:
            problems.append(f"Word explanations must be one of {', '.join(EXPLAIN_WORDS)}.")
        if not 0.0 <= float(self.fusion_text_weight) <= 1.0:
            problems.append("The text weight must be between 0 and 1.")
        if not self.vision_models:
            problems.append("Give at least one vision model.")
        if self.groq_base_url and not self.groq_base_url.startswith(("http://", "https://")):
            problems.append("The base URL must start with http:// or https://.")
        if has_credentials(self.groq_base_url):
            problems.append(CREDENTIALS_IN_URL)
        if not 1 <= float(self.groq_timeout_s) <= 600:
            problems.append("The cloud timeout must be 1 to 600 seconds.")
        if not 0 < float(self.groq_requests_per_minute) <= 100_000:
            problems.append("The cloud requests per minute must be above 0 (at most 100,000).")
        if not 64 <= int(self.vision_max_side) <= 8192:
            problems.append("The image size sent to the cloud must be 64 to 8192 pixels.")
        return problems

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], rejected: list[str] | None = None) -> Settings:
        """Build settings from a parsed file: unknown, secret-looking, mistyped or invalid
        values fall back to their defaults, one field at a time.

        Args:
            data: the parsed file.
            rejected: when given, the names of the fields that fell back are added to it.
        """
        defaults = cls()
        settings = cls()
        for f in dataclasses.fields(cls):
            if f.name not in data or _looks_secret(f.name):
                continue
            value = _coerce(data[f.name], getattr(defaults, f.name))
            if value is None or cls(**{**defaults.to_dict(), f.name: value}).validate():
                log.info("settings: %s is not usable; using the default", f.name)
                if rejected is not None:
                    rejected.append(f.name)
                continue
            setattr(settings, f.name, value)
        return settings


def _coerce(value: Any, default: Any) -> Any:
    """``value`` as the type of ``default``, or None when it is not of a compatible type."""
    if isinstance(default, bool):
        return value if isinstance(value, bool) else None
    if isinstance(default, int):
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return float(value) if ok and math.isfinite(value) else None
    if isinstance(default, str):
        return value if isinstance(value, str) else None
    if isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return list(value) if ok else None
    return None


def _looks_secret(key: str) -> bool:
    return any(word in key.lower() for word in SECRET_WORDS)


def settings_path() -> Path:
    """Path of the settings file."""
    return config_dir() / "settings.json"


def load_settings(path: Path | None = None, problems: list[str] | None = None) -> Settings:
    """Read the settings file; a missing or broken file gives the defaults.

    Args:
        path: the file (default: ``settings_path()``).
        problems: when given, one sentence is added to it for a file that cannot be used
            as a whole, or for the values in it that fell back to their defaults.
    """
    path = path or settings_path()
    said = problems if problems is not None else []
    if not path.exists() and not path.is_symlink():
        return Settings()
    try:
        data = json.loads(read_capped(path, MAX_SETTINGS_BYTES, "The settings file"))
    except InputError as exc:  # not a regular file, unreadable, huge
        said.append(f"{exc.message.rstrip('.')}; the defaults apply.")
        return Settings()
    except (ValueError, RecursionError) as exc:
        log.info("could not read settings %s (%s); using defaults", path, exc)
        said.append(f"The settings file {path} is not valid JSON; the defaults apply.")
        return Settings()
    if not isinstance(data, dict):
        said.append(f"The settings file {path} does not hold settings; the defaults apply.")
        return Settings()
    rejected: list[str] = []
    settings = Settings.from_dict(data, rejected)
    if rejected:
        said.append(
            f"The settings file {path} has unusable values for {', '.join(rejected)}; "
            "their defaults apply."
        )
    return settings


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write the settings file atomically and return its path."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(settings.to_dict(), indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path
