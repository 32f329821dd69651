"""Typed errors that carry one sentence a person can act on, plus detail for the log."""

from __future__ import annotations


class VsaError(Exception):
    """Base of all expected errors.

    Attributes:
        message: one sentence for the user, saying what to do.
        detail: technical detail for the log (never shown in place of ``message``).
        kind: a short machine-readable kind, used in the result JSON's ``*_error``.
    """

    kind = "error"

    def __init__(self, message: str, detail: str = "", kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        if kind is not None:
            self.kind = kind

    def to_dict(self) -> dict[str, str]:
        """Return ``{"kind", "message"}`` for the result JSON."""
        return {"kind": self.kind, "message": self.message}


class InputError(VsaError):
    """The user's input (text, image, option) cannot be used."""

    kind = "input"


class ImageError(InputError):
    """An image cannot be opened or is not acceptable."""

    kind = "image"


class ModelError(VsaError):
    """A model cannot be found, loaded or used."""

    kind = "model"


class ModelNotAvailableError(ModelError):
    """The model is not on disk (or not reachable) and cannot be loaded."""

    kind = "model_missing"


class ModelLabelsError(ModelError):
    """The model's labels cannot be mapped onto the seven emotions."""

    kind = "model_labels"


class VisionError(VsaError):
    """The vision channel failed; ``kind`` says how (auth, rate_limit, model_gone...)."""

    kind = "vision"


class ExportError(VsaError):
    """A file could not be written."""

    kind = "export"


class HistoryError(VsaError):
    """The history store could not be used."""

    kind = "history"


class Cancelled(VsaError):
    """The analysis was cancelled by the user or superseded by a newer request."""

    kind = "cancelled"

    def __init__(self, message: str = "The analysis was cancelled.") -> None:
        super().__init__(message)
