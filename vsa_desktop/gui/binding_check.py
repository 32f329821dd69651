"""Detect a Qt binding that leaks references to ``None`` (PySide6 6.12.0 on CPython 3.11).

Such a binding drops one reference to ``None`` on every void-returning Qt call; after a few
thousand calls CPython frees ``None`` and aborts ("Fatal Python error: none_dealloc"). The pin
in ``pyproject.toml`` keeps the known bad build out; this check catches a bad build that
arrives anyway (an old lock file, a hand-made environment, a future release).
"""

from __future__ import annotations

import sys

PROBE_CALLS = 200
BAD_BINDING_MESSAGE = (
    "This copy of PySide6 ({version}) has a known defect with Python {python}: the app will "
    "crash after a while. Reinstall the app (scripts/dev.sh setup) to get a fixed version."
)


def leaked_none_references(calls: int = PROBE_CALLS) -> int:
    """How many references to ``None`` ``calls`` void Qt calls lost (0 for a sound binding)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(calls):
        probe.setObjectName("probe")  # returns void: a bad binding loses a None reference
    lost = before - sys.getrefcount(None)
    probe.deleteLater()
    return max(0, lost)


def bad_binding_message() -> str | None:
    """A sentence for the user when the binding leaks; None when it is sound."""
    if leaked_none_references() < PROBE_CALLS // 2:
        return None
    import PySide6

    python = ".".join(map(str, sys.version_info[:2]))
    return BAD_BINDING_MESSAGE.format(version=PySide6.__version__, python=python)
