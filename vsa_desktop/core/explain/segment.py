"""Cut a text into the pieces an explanation talks about: words and sentences, with offsets.

Offsets are Python string indices (code points) into the text exactly as given: no
normalisation happens here, so ``text[unit.start:unit.end] == unit.text`` always holds.

A *unit* is one of:

- ``word``: letters, digits and ``_`` of any script, with the combining marks that follow them
  (Devanagari vowel signs, decomposed accents) and inner apostrophes ("don't"). Ideographs and
  kana are one unit per character, since those scripts put no spaces between words.
- ``emoji``: one pictograph with what belongs to it (variation selectors, skin tones,
  zero-width-joiner sequences, keycaps, tag sequences), or a pair of regional indicators (a flag).
- ``punct``: a run of other visible characters ("!!!", "?!", ":)", ",").

Whitespace and control characters belong to no unit. Units never overlap, never split a
character from its combining marks, and come in text order.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

WORD, EMOJI, PUNCT = "word", "emoji", "punct"

_ZWJ = "\u200d"
_APOSTROPHES = "'’"
_BLANKS = " \t\u00a0\u3000"
# Sentence ends: . ! ? … and their CJK forms, with closing quotes and brackets after them.
_SENTENCE_END = re.compile(r"[.!?…。！？]+[\"'”’)\]」』]*(?=\s|$)|[。！？]+|\n\s*")


@dataclass(frozen=True)
class Unit:
    """A piece of the text: ``text[start:end]``, of kind ``word``, ``emoji`` or ``punct``."""

    start: int
    end: int
    text: str
    kind: str


@dataclass(frozen=True)
class Sentence:
    """A sentence: ``text[start:end]`` (outer whitespace excluded) and its units' indices."""

    start: int
    end: int
    text: str
    units: tuple[int, ...]


def _is_mark(char: str) -> bool:
    """Combining marks and the characters that only modify the one before them."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
        or code == 0x20E3  # combining keycap (also Me)
    )


def _is_skin_tone(char: str) -> bool:
    return 0x1F3FB <= ord(char) <= 0x1F3FF


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _is_ideograph(char: str) -> bool:
    """Han ideographs and kana: one unit per character."""
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
        or 0x31F0 <= code <= 0x31FF
    )


def _is_pictograph(char: str) -> bool:
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2B00 <= code <= 0x2BFF
        or 0x2190 <= code <= 0x21FF
        or 0x2300 <= code <= 0x23FF
        or unicodedata.category(char) == "So"
    )


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _skip_marks(text: str, i: int) -> int:
    while i < len(text) and _is_mark(text[i]):
        i += 1
    return i


def _word_end(text: str, i: int) -> int:
    """The end of the word that starts at ``i`` (a word character, not an ideograph)."""
    n = len(text)
    while i < n:
        if _is_word_char(text[i]) and not _is_ideograph(text[i]):
            i = _skip_marks(text, i + 1)
        elif (
            text[i] in _APOSTROPHES
            and i + 1 < n
            and _is_word_char(text[i + 1])
            and not _is_ideograph(text[i + 1])
        ):
            i += 1
        else:
            break
    return i


def _emoji_end(text: str, i: int) -> int:
    """The end of the emoji cluster that starts at ``i``."""
    n = len(text)
    if _is_regional(text[i]):
        j = i + 1
        if j < n and _is_regional(text[j]):
            j += 1
        return _skip_marks(text, j)
    j = _skip_marks(text, i + 1)
    while j + 1 < n and text[j] == _ZWJ and _is_pictograph(text[j + 1]):
        j = _skip_marks(text, j + 2)
    return j


def _is_space(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def units(text: str) -> list[Unit]:
    """Return the units of ``text`` in order (see the module docstring)."""
    out: list[Unit] = []
    n = len(text)
    i = 0
    while i < n:
        char = text[i]
        if _is_space(char) or (_is_mark(char) and not _is_skin_tone(char)):
            # Marks with nothing to attach to (text start, after a space) are not units;
            # format characters (joiners, bidi marks) are not either. A skin tone alone is
            # drawn as a coloured square, so it is an emoji of its own.
            i += 1
            continue
        if _is_ideograph(char):
            end, kind = _skip_marks(text, i + 1), WORD
        elif _is_word_char(char):
            end, kind = _word_end(text, i), WORD
        elif _is_pictograph(char) or _is_regional(char) or _is_skin_tone(char):
            end, kind = _emoji_end(text, i), EMOJI
        else:
            end = _skip_marks(text, i + 1)
            while (
                end < n
                and not _is_space(text[end])
                and not _is_word_char(text[end])
                and not _is_pictograph(text[end])
                and not _is_regional(text[end])
                and not _is_mark(text[end])
            ):
                end = _skip_marks(text, end + 1)
            kind = PUNCT
        out.append(Unit(i, end, text[i:end], kind))
        i = end
    return out


def sentences(text: str, pieces: list[Unit] | None = None) -> list[Sentence]:
    """Return the sentences of ``text`` (at . ! ? … and line breaks), with their units."""
    pieces = units(text) if pieces is None else pieces
    bounds: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if text[start:end].strip():
            bounds.append((start, end))
            start = end
    if text[start:].strip():
        bounds.append((start, len(text)))
    out: list[Sentence] = []
    k = 0
    for lo, hi in bounds:
        mine: list[int] = []
        while k < len(pieces) and pieces[k].start < hi:
            if pieces[k].start >= lo:
                mine.append(k)
            k += 1
        if not mine:
            continue
        s, e = pieces[mine[0]].start, pieces[mine[-1]].end
        out.append(Sentence(s, e, text[s:e], tuple(mine)))
    return out


def remove(text: str, spans: list[tuple[int, int]]) -> str:
    """Return ``text`` without ``spans`` (start, end), each with the blanks on one side.

    Between blanks, or at the start of a line, the blanks after go ("I hate this" -> "I this");
    before punctuation or at the end of a line, the blanks before go ("it hurts." -> "it.",
    "so sad" -> "so"); glued to the word before, nothing more goes ("hello, world" ->
    "hello world"). Spans must not overlap.
    """
    out = text
    for start, end in sorted(spans, reverse=True):
        left = start
        while left > 0 and out[left - 1] in _BLANKS:
            left -= 1
        right = end
        while right < len(out) and out[right] in _BLANKS:
            right += 1
        line_start = left == 0 or out[left - 1] in "\r\n"
        if right > end and (left < start or line_start):
            out = out[:start] + out[right:]
        elif left < start:
            out = out[:left] + out[end:]
        else:
            out = out[:start] + out[end:]
    return out
