"""Background warm-up: load the text model (and the local face models) once at start-up.

These functions run on a worker thread; they only call the core and return plain data.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from vsa_desktop.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActiveModels:
    """What the status bar shows: the text model and runtime, and the vision backend."""

    text_model: str
    text_runtime: str
    vision: str
    has_key: bool = False


def vision_choice(settings: Settings, offline: bool, has_key: bool) -> str:
    """The backend ``auto`` resolves to, in words for the status bar (same rule as the core)."""
    choice = settings.vision_backend
    if choice == "auto":
        choice = "groq" if has_key and not offline else "local"
    if choice == "groq" and offline:
        return "none (offline)"
    if choice == "groq":
        models = settings.vision_model_preference()
        return f"groq ({models[0]})" if models else "groq"
    return choice


def has_api_key() -> bool:
    """True when a Groq API key is configured (environment or keyring)."""
    from vsa_desktop.core.secrets import get_api_key

    return get_api_key() is not None


def warm_up(settings: Settings, offline: bool) -> ActiveModels:
    """Load the text analyzer and, when the local face backend will be used, its models.

    Raises:
        VsaError: when the text model cannot be loaded (the message says what to do).
    """
    from vsa_desktop.core.text.loader import load_text_analyzer

    key = has_api_key()
    vision = vision_choice(settings, offline, key)
    if vision == "local":
        _warm_local_faces()
    analyzer = load_text_analyzer(settings.effective_text_model(), settings.text_runtime)
    analyzer.analyze("Warming up.")
    return ActiveModels(analyzer.model_id, analyzer.runtime, vision, key)


def _warm_local_faces() -> None:
    """Run the local backend once on a tiny blank image: both ONNX sessions get created."""
    from PIL import Image

    from vsa_desktop.core.errors import VsaError
    from vsa_desktop.core.imaging import load_image
    from vsa_desktop.core.vision.select import local_backend

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (128, 128, 128)).save(buffer, format="PNG")
    try:
        local_backend().analyze(load_image(buffer.getvalue(), "warm-up"), [])
    except VsaError as exc:  # a missing face model is reported when an image is analysed
        log.warning("local face models not warmed up: %s", exc.message)


def check_text_model(model: str, runtime: str) -> str:
    """Load ``model`` on ``runtime`` and return one sentence saying what was loaded.

    Raises:
        VsaError: when the model cannot be loaded.
    """
    from vsa_desktop.core.text.loader import load_text_analyzer

    analyzer = load_text_analyzer(model, runtime)
    analyzer.analyze("Checking the model.")
    return f"Loaded {analyzer.model_id} ({analyzer.runtime})."
