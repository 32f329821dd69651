"""The interface every text analyzer implements."""

from __future__ import annotations

from typing import Protocol

from vsa_desktop.core.errors import InputError
from vsa_desktop.core.result import TextResult

MAX_TEXT_CHARS = 1_000_000


class TextAnalyzer(Protocol):
    """Turns text into a ``TextResult`` with all seven probabilities.

    Attributes:
        model_id: what goes into the result's ``text.model``.
        runtime: what goes into ``text.runtime`` (torch, onnx, onnx-int8, numpy).
    """

    model_id: str
    runtime: str

    def analyze(self, text: str) -> TextResult:
        """Analyze one text (raises ``InputError`` for empty text)."""
        ...

    def analyze_batch(self, texts: list[str]) -> list[TextResult]:
        """Analyze many texts; same answers as calling ``analyze`` on each."""
        ...


def check_text(text: str) -> str:
    """Return ``text`` when it can be analyzed.

    Raises:
        InputError: empty or whitespace-only, or beyond ``MAX_TEXT_CHARS``.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("The text is empty: type or paste some text to analyze.")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(
            f"The text is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,}."
        )
    return text
