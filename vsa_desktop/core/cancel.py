"""Cancel tokens and progress callbacks shared by the pipeline and its callers."""

from __future__ import annotations

import threading
from collections.abc import Callable

from vsa_desktop.core.errors import Cancelled

# progress(stage, fraction): stage is a short word ("text", "vision", ...), fraction in [0, 1].
ProgressCallback = Callable[[str, float], None]


class CancelToken:
    """A thread-safe flag a caller sets to stop work between stages."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once ``cancel`` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise ``Cancelled`` when the token was cancelled."""
        if self._event.is_set():
            raise Cancelled()


def check(cancel: CancelToken | None) -> None:
    """Raise ``Cancelled`` when ``cancel`` is set (None never cancels)."""
    if cancel is not None:
        cancel.raise_if_cancelled()
