"""What every ``vsa`` command shares: settings with their notes, and safe terminal output."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from vsa_desktop.core.terminal import safe

if TYPE_CHECKING:
    from vsa_desktop.core.settings import Settings

_said: set[str] = set()


def say(message: str) -> None:
    """Print ``vsa: message`` on stderr once per run, control characters escaped."""
    if message in _said:
        return
    _said.add(message)
    print(f"vsa: {safe(message, one_line=True)}", file=sys.stderr)


def note(message: str) -> None:
    """Print ``note: message`` on stderr, control characters escaped."""
    print(f"note: {safe(message, one_line=True)}", file=sys.stderr)


def settings() -> Settings:
    """The settings file's preferences; a problem with the file is said once, in one line."""
    from vsa_desktop.core.settings import load_settings

    problems: list[str] = []
    loaded = load_settings(problems=problems)
    for problem in problems:
        say(problem)
    return loaded
