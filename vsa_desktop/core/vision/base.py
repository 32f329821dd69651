"""The interface every vision backend implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from vsa_desktop.core.result import VisionResult

if TYPE_CHECKING:
    from vsa_desktop.core.cancel import CancelToken
    from vsa_desktop.core.imaging import LoadedImage


class VisionBackend(Protocol):
    """Turns an image into a ``VisionResult``.

    Attributes:
        name: ``groq`` or ``local``; goes into the result's ``vision.backend``.

    ``analyze`` raises ``VisionError`` (with a user sentence and a ``kind``) on failure and
    may append lines to ``warnings`` (e.g. "switched model", "no face found").
    """

    name: str

    def analyze(
        self, image: LoadedImage, warnings: list[str], cancel: CancelToken | None = None
    ) -> VisionResult:
        """Analyze one image."""
        ...
