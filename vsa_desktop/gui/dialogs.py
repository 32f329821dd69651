"""The switch that turns modal dialogs into log lines (tests, headless runs)."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

_enabled: bool | None = None


def dialogs_enabled() -> bool:
    """True unless ``set_dialogs_enabled(False)`` was called or ``VSA_NO_DIALOGS=1`` is set."""
    if _enabled is not None:
        return _enabled
    return os.environ.get("VSA_NO_DIALOGS", "") in ("", "0")


def set_dialogs_enabled(enabled: bool | None) -> None:
    """Force dialogs on or off; None goes back to the ``VSA_NO_DIALOGS`` environment switch."""
    global _enabled
    _enabled = enabled
