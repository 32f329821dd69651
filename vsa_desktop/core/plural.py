"""Counted nouns in messages: ``1 row``, ``2 rows``, ``1 was``, ``3 were``."""

from __future__ import annotations


def count(n: int, one: str, many: str | None = None) -> str:
    """``n`` and the word that goes with it, with thousands separators.

    Args:
        n: how many.
        one: the word for one (``row``, ``result has``).
        many: the word for any other number; default ``one`` with an ``s``.
    """
    return f"{n:,} {one if n == 1 else (many if many is not None else one + 's')}"


def word(n: int, one: str, many: str) -> str:
    """``one`` when ``n`` is 1, else ``many`` (a verb or a phrase that follows a count)."""
    return one if n == 1 else many
