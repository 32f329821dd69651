"""Pick the vision backend for a request: auto, groq, local or none."""

from __future__ import annotations

import threading

from vsa_desktop.core.errors import InputError
from vsa_desktop.core.settings import Settings, load_settings, save_settings
from vsa_desktop.core.vision.base import VisionBackend

CHOICES = ("auto", "groq", "local", "none")
_local: VisionBackend | None = None
_lock = threading.Lock()


def local_backend() -> VisionBackend:
    """The process-wide offline face backend (its models load lazily)."""
    global _local
    with _lock:
        if _local is None:
            from vsa_desktop.core.vision.local import LocalFaceBackend

            _local = LocalFaceBackend()
        return _local


def remember_model_switch(model: str) -> None:
    """Persist a vision model switch: put ``model`` first in the settings' preference list."""
    settings = load_settings()
    settings.vision_models = [model] + [m for m in settings.vision_models if m != model]
    save_settings(settings)


def choose_backend(
    choice: str, settings: Settings, offline: bool
) -> tuple[VisionBackend | None, str | None]:
    """Return the backend for ``choice``, or None with the reason the image is not used.

    ``auto`` is groq when an API key is configured and the app is online, else local.
    Offline never touches the network: groq is not used then.
    """
    if choice not in CHOICES:
        raise InputError(f"Unknown vision backend {choice!r}: use auto, groq, local or none.")
    if choice == "none":
        return None, "The vision channel is switched off (vision: none)."
    if choice == "local":
        return local_backend(), None
    from vsa_desktop.core.secrets import get_api_key

    if offline:
        if choice == "groq":
            return None, "Offline mode: the image was not sent to the cloud vision model."
        return local_backend(), None
    key = get_api_key()
    if choice == "auto" and not key:
        return local_backend(), None
    from vsa_desktop.core.vision.groq_backend import GroqVisionBackend

    return GroqVisionBackend(
        models=settings.vision_model_preference(),
        api_key=key,
        base_url=settings.groq_base_url or None,
        timeout_s=settings.groq_timeout_s,
        max_side=settings.vision_max_side,
        on_model_switched=remember_model_switch,
    ), None
