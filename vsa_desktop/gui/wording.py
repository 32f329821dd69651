"""GUI words for core messages: the core and the CLI name commands, the window names buttons.

Core errors and warnings are shared with the command line, so some of them say "run
`vsa models download`" or "point --text-model at it". The window shows them through
``for_gui``, which says the same thing with the app's own menus, buttons and Settings.
"""

from __future__ import annotations

import os
import re

from vsa_desktop.core.pipeline import LITE_NOTE

DOWNLOAD_ACTION = "File ▸ Download full text model…"
GUI_LITE_NOTE = (
    "Text read by the built-in lite model (smaller, less accurate); download the full "
    "DistilRoBERTa model for better text scores."
)
GUI_LITE_NOTE_OFFLINE = (
    "Text read by the built-in lite model (smaller, less accurate); go online to download "
    "the full DistilRoBERTa model for better text scores."
)
OFFLINE_DOWNLOAD = (
    "The full text model is not on this computer and the app is offline: switch Offline off "
    "in the toolbar, then download it, or choose a model folder in Settings."
)
ENV_OFFLINE_DOWNLOAD = (
    "Downloads are turned off in the environment this app was started from (VSA_OFFLINE or "
    "HF_HUB_OFFLINE): start it without them to download, or choose a model folder in Settings."
)

# (pattern, GUI words), applied in order to any core sentence the window shows.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\(unset VSA_OFFLINE/HF_HUB_OFFLINE, untick offline\) and run `vsa models "
                   r"download [^`]*`"),
        "(switch Offline off in the toolbar) and use " + DOWNLOAD_ACTION,
    ),
    (re.compile(r"(run |with )?`vsa models download[^`]*`"), "with " + DOWNLOAD_ACTION),
    (
        re.compile(r"(run )?`vsa models convert[^`]*`( again)?"),
        "restart the app (it converts the model in the background)",
    ),
    (re.compile(r"point --text-model at (it|a local model folder)"),
     "choose it as the text model in Settings"),
    (re.compile(r"--text-model"), "the text model in Settings"),
    (re.compile(r"--vision none"), "Vision “none” in Settings"),
    (re.compile(r"--offline"), "the Offline switch"),
    (re.compile(r" in a source checkout"), ""),
)  # fmt: skip


def for_gui(message: str) -> str:
    """``message`` with command-line instructions replaced by the app's menus and Settings."""
    if message == LITE_NOTE:
        return GUI_LITE_NOTE
    for pattern, words in _REWRITES:
        message = pattern.sub(words, message)
    return message


def env_forces_offline() -> bool:
    """True when the environment (not the toolbar switch) keeps the app offline."""
    return any(
        os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")
        for name in ("VSA_OFFLINE", "HF_HUB_OFFLINE")
    )
