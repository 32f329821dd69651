"""Exact word attributions for the built-in lite text model, from its linear weights.

The lite model's raw logits are ``bias + sum over features of value x weight`` (word 1-2-grams,
character 2-5-grams of each word, and cue words; see ``core.text.lite_features``). Each
feature's part is handed to the words it was made from:

- a word n-gram to its words, in equal shares (with a negated word, ``not_happy``, the
  negator shares it too): the Shapley value of a feature that needs all of them;
- a character n-gram to the words it occurs in, one share per occurrence;
- a cue to what made it: an emoji's name words to the emoji, ``<elongated>`` to the
  stretched word, ``<!!>`` to its marks, ``<caps>`` to the shouted words.

To find the words, the featuriser's steps are re-run here with each character's position in
the original text tracked through NFKC normalisation and case folding. The word parts plus the
bias add up to the logits exactly; what cannot be placed on a unit (a format character the
segmenter does not count as a unit) is kept apart as ``residual``, so the sum stays exact.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from vsa_desktop.core.explain import segment
from vsa_desktop.core.text import lite_features as lf
from vsa_desktop.core.text.lite import LiteTextAnalyzer

# The same test as ``lite_features._shouts``, with positions.
_SHOUT = re.compile(r"(?<!\[)\b[^\W\d_]{3,}\b(?!\])")
_CHUNK = re.compile(r"\s+|\S+")

Origin = tuple[int, int]


@dataclass(frozen=True)
class LiteAttribution:
    """Each unit's part of the lite model's seven raw logits, exactly.

    Attributes:
        units: the text's units (``segment.units``).
        parts: (units, 7) logit parts in ``EMOTIONS`` order.
        bias: the model's intercepts (7,).
        residual: parts of features no unit could take (7,); zero for nearly every text.
        temperature: the model's temperature (logits are divided by it before calibration).
    """

    units: list[segment.Unit]
    parts: np.ndarray
    bias: np.ndarray
    residual: np.ndarray
    temperature: float

    def logits(self) -> np.ndarray:
        """The seven raw logits rebuilt from the parts (equal to the model's)."""
        return np.asarray(self.parts.sum(axis=0) + self.bias + self.residual)

    def centred(self) -> np.ndarray:
        """(units, 7): each unit's part of each emotion's centred, tempered logit.

        Centred means minus the mean over the seven emotions: a softmax ignores a shift of
        all logits, so this is what moves one emotion against the others.
        """
        parts = self.parts - self.parts.mean(axis=1, keepdims=True)
        return np.asarray(parts / self.temperature)


def _normalized(text: str, table: Mapping[int, str | int | None]) -> tuple[str, list[Origin]]:
    """``NFKC(text).translate(table)``, and for each of its characters the span it came from.

    Whitespace-separated chunks are normalised on their own (composition never crosses
    whitespace); inside a chunk, each character with its combining marks. A chunk whose
    character-wise result differs (Hangul jamo, say) maps all its output onto the chunk.
    """
    if text.isascii():  # the tables only touch non-ASCII characters; NFKC keeps ASCII
        return text, [(i, i + 1) for i in range(len(text))]
    if unicodedata.is_normalized("NFKC", text):
        return _translated(text, 0, table)
    chars: list[str] = []
    origins: list[Origin] = []
    for match in _CHUNK.finditer(text):
        chunk, offset = match.group(), match.start()
        if unicodedata.is_normalized("NFKC", chunk):
            part, part_origins = _translated(chunk, offset, table)
            chars.append(part)
            origins.extend(part_origins)
            continue
        target = unicodedata.normalize("NFKC", chunk).translate(table)
        pieces: list[tuple[str, Origin]] = []
        i = 0
        while i < len(chunk):
            j = i + 1
            while j < len(chunk) and (
                unicodedata.combining(chunk[j]) or unicodedata.category(chunk[j])[0] == "M"
            ):
                j += 1
            piece = unicodedata.normalize("NFKC", chunk[i:j]).translate(table)
            pieces.extend((c, (offset + i, offset + j)) for c in piece)
            i = j
        if "".join(c for c, _ in pieces) == target:
            chars.extend(c for c, _ in pieces)
            origins.extend(o for _, o in pieces)
        else:
            chars.extend(target)
            origins.extend([(offset, offset + len(chunk))] * len(target))
    norm = "".join(chars)
    if norm != unicodedata.normalize("NFKC", text).translate(table):
        whole = unicodedata.normalize("NFKC", text).translate(table)
        return whole, [(0, len(text))] * len(whole)
    return norm, origins


def _translated(
    text: str, offset: int, table: Mapping[int, str | int | None]
) -> tuple[str, list[Origin]]:
    """``text.translate(table)`` for a table whose entries map one character to at most one."""
    if not any(ord(c) in table for c in text):
        return text, [(offset + i, offset + i + 1) for i in range(len(text))]
    chars: list[str] = []
    origins: list[Origin] = []
    for i, c in enumerate(text):
        out = c.translate(table)
        chars.append(out)
        origins.extend([(offset + i, offset + i + 1)] * len(out))
    return "".join(chars), origins


def _casefolded(norm: str, origins: list[Origin]) -> tuple[str, list[Origin]]:
    """``norm.casefold()`` with the origins carried along (one character may become two)."""
    if norm.isascii():
        return norm.lower(), origins
    chars: list[str] = []
    out: list[Origin] = []
    for c, origin in zip(norm, origins, strict=True):
        folded = c.casefold()
        chars.append(folded)
        out.extend([origin] * len(folded))
    text = "".join(chars)
    if text != norm.casefold():
        whole = (min(o[0] for o in origins), max(o[1] for o in origins)) if origins else (0, 0)
        return norm.casefold(), [whole] * len(norm.casefold())
    return text, out


def _span(origins: list[Origin], start: int, end: int) -> Origin:
    return min(o[0] for o in origins[start:end]), max(o[1] for o in origins[start:end])


class _Placer:
    """Finds the units that cover a span of the original text."""

    def __init__(self, text: str, units: list[segment.Unit]) -> None:
        self._owner = [-1] * len(text)
        for k, unit in enumerate(units):
            self._owner[unit.start : unit.end] = [k] * (unit.end - unit.start)

    def units(self, origin: Origin) -> tuple[int, ...]:
        lo, hi = origin
        return tuple(dict.fromkeys(k for k in self._owner[lo:hi] if k >= 0))


@dataclass(frozen=True)
class _Tokens:
    """The featuriser's tokens of one text, with the units each came from."""

    tokens: list[str]  # after elongation shrinking, before negation marking
    covers: list[tuple[int, ...]]
    grams: list[tuple[str, tuple[int, ...]]]  # word-block features with the units they need


def _tokens(text: str, config: lf.FeatureConfig, place: _Placer) -> _Tokens:
    """Re-run ``lite_features.analyse`` keeping, for each feature, the units it came from."""
    cue_grams: list[tuple[str, tuple[int, ...]]] = []
    if not config.cues:
        norm, origins = _normalized(text, lf._DROP)
        folded, f_origins = _casefolded(norm, origins)
        matches = list(lf._TOKEN_RE.finditer(folded))
    else:
        norm, origins = _normalized(text, lf._APOSTROPHES)
        if config.caps:
            shouted = [
                u
                for m in _SHOUT.finditer(norm)
                if m.group().isupper()
                for u in place.units(_span(origins, m.start(), m.end()))
            ]
            if shouted:
                cue_grams.append(("<caps>", tuple(shouted)))
        folded, f_origins = _casefolded(norm, origins)
        matches = list(lf._TOKEN_RE_V2.finditer(folded))
    tokens = [m.group() for m in matches]
    covers = [place.units(_span(f_origins, m.start(), m.end())) for m in matches]
    if config.cues:
        if config.elongation:
            for p, tok in enumerate(tokens):
                short = lf._ELONGATED.sub(r"\1\1", tok) if len(tok) > 2 else tok
                if short != tok:
                    cue_grams.append(("<elongated>", covers[p]))
                    tokens[p] = short
        if config.emoji:
            for p, tok in enumerate(tokens):
                cue_grams.extend((word, covers[p]) for word in lf._emoji_words([tok]))
        if config.punctuation:
            cue_grams.extend(_punctuation_runs(tokens, covers))
    if config.cues and config.negation:
        marked, needs = _negation(tokens, covers)
    else:
        marked, needs = list(tokens), list(covers)
    grams: list[tuple[str, tuple[int, ...]]] = []
    for n in range(1, config.word_max_n + 1):
        for i in range(len(marked) - n + 1):
            joined: tuple[int, ...] = tuple(
                dict.fromkeys(u for q in range(i, i + n) for u in needs[q])
            )
            grams.append((" ".join(marked[i : i + n]), joined))
    grams.extend(cue_grams)
    return _Tokens(tokens, covers, grams)


def _punctuation_runs(
    tokens: list[str], covers: list[tuple[int, ...]]
) -> list[tuple[str, tuple[int, ...]]]:
    """``lite_features._punctuation_runs`` with the units of each run."""
    out: list[tuple[str, tuple[int, ...]]] = []
    run: list[int] = []
    for p, tok in enumerate([*tokens, ""]):
        if tok in ("!", "?"):
            run.append(p)
            continue
        if len(run) >= 2:
            marks = "".join(tokens[q] for q in run)
            cue = "<?!>" if len(set(marks)) == 2 else f"<{marks[0]}{marks[0]}>"
            out.append((cue, tuple(dict.fromkeys(u for q in run for u in covers[q]))))
        run = []
    return out


def _negation(
    tokens: list[str], covers: list[tuple[int, ...]]
) -> tuple[list[str], list[tuple[int, ...]]]:
    """``lite_features._mark_negation``; a negated word needs its negator's units too."""
    marked: list[str] = []
    needs: list[tuple[int, ...]] = []
    left = 0
    negator: tuple[int, ...] = ()
    for tok, cover in zip(tokens, covers, strict=True):
        if not (tok[0].isalnum() or tok[0] == "_"):
            left = 0
            marked.append(tok)
            needs.append(cover)
        elif tok in lf._NEGATORS or tok.endswith("n't"):
            left = lf._NEGATION_SCOPE
            negator = cover
            marked.append(tok)
            needs.append(cover)
        elif left:
            left -= 1
            marked.append("not_" + tok)
            needs.append(tuple(dict.fromkeys((*negator, *cover))))
        else:
            marked.append(tok)
            needs.append(cover)
    return marked, needs


def attribute(analyzer: LiteTextAnalyzer, text: str) -> LiteAttribution:
    """Split the lite model's logits for ``text`` exactly over the text's units."""
    units = segment.units(text)
    vocab = analyzer.vocab
    found = _tokens(text, vocab.config, _Placer(text, units))
    # One entry per (feature occurrence, unit it needs); an occurrence's fractions sum to 1.
    entries = _Entries()
    for gram, needs in found.grams:
        index = vocab.words.get(gram)
        if index is not None:
            entries.add([index], needs)
    for tok, cover in zip(found.tokens, found.covers, strict=True):
        if tok[0].isalnum() or tok[0] == "_":
            entries.add(vocab.char_hits(tok), cover)
    idx, feature_parts, bias = analyzer.contributions(text)
    parts = np.zeros((len(units), feature_parts.shape[1]), dtype=np.float64)
    residual = np.zeros(feature_parts.shape[1], dtype=np.float64)
    if len(idx):
        order = np.argsort(idx)
        wanted = np.asarray(entries.index, dtype=np.int64)
        pos = np.minimum(np.searchsorted(idx[order], wanted), len(idx) - 1)
        known = idx[order][pos] == wanted  # only features the model itself found count
        col = order[pos][known]
        frac = np.asarray(entries.frac, dtype=np.float64)[known]
        count = np.bincount(col, weights=frac, minlength=len(idx))  # occurrences per feature
        unit = np.asarray(entries.unit, dtype=np.int64)[known]
        weight = frac / count[col]
        placed = unit >= 0
        np.add.at(parts, unit[placed], weight[placed, None] * feature_parts[col[placed]])
        unplaced = (count == 0).astype(np.float64)
        unplaced += np.bincount(col[~placed], weights=weight[~placed], minlength=len(idx))
        residual = unplaced @ feature_parts
    return LiteAttribution(units, parts, bias, residual, analyzer.temperature)


class _Entries:
    """Feature occurrences, spread over the units each needs (unit -1: none)."""

    def __init__(self) -> None:
        self.index: list[int] = []
        self.unit: list[int] = []
        self.frac: list[float] = []

    def add(self, indices: list[int], needs: tuple[int, ...]) -> None:
        """Add one occurrence of each feature in ``indices``, needing the units ``needs``."""
        if len(needs) == 1:
            self.index.extend(indices)
            self.unit.extend(needs * len(indices))
            self.frac.extend([1.0] * len(indices))
            return
        spread = needs or (-1,)
        for i in indices:
            self.index.extend([i] * len(spread))
            self.unit.extend(spread)
            self.frac.extend([1.0 / len(spread)] * len(spread))
