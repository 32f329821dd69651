"""The featuriser of the built-in lite text model, shared by training and inference."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# Bump when the featuriser changes in a way that makes old weights meaningless.
FEATURE_VERSION = 1

# A word (letters/digits of any script, inner apostrophes kept: "don't") or any single
# non-space, non-word character (punctuation, emoji, symbols).
_TOKEN_RE = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
# Emoji variation selectors carry no meaning for us: "❤️" and "❤" are the same token.
_DROP = dict.fromkeys(map(ord, "\ufe0e\ufe0f"))


@dataclass(frozen=True)
class FeatureConfig:
    """Which n-grams the featuriser emits.

    Attributes:
        word_max_n: word n-grams of length 1..word_max_n (tokens joined by one space).
        char_min_n: shortest character n-gram inside a space-padded word.
        char_max_n: longest character n-gram inside a space-padded word.
    """

    word_max_n: int = 2
    char_min_n: int = 2
    char_max_n: int = 5

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain JSON-able values."""
        return {"version": FEATURE_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FeatureConfig:
        """Build a config from ``to_dict`` output.

        Raises:
            ValueError: when the stored featuriser version is not this one.
        """
        if int(d.get("version", -1)) != FEATURE_VERSION:
            raise ValueError(f"featuriser version {d.get('version')} != {FEATURE_VERSION}")
        return cls(int(d["word_max_n"]), int(d["char_min_n"]), int(d["char_max_n"]))


def tokenize(text: str) -> list[str]:
    """Return the tokens of ``text`` after NFKC normalisation and case folding."""
    norm = unicodedata.normalize("NFKC", text).translate(_DROP).casefold()
    return _TOKEN_RE.findall(norm)


def word_grams(tokens: list[str], max_n: int) -> list[str]:
    """Return the word n-grams (1..max_n) of ``tokens``, with repeats."""
    grams = list(tokens)
    for n in range(2, max_n + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def char_grams(word: str, min_n: int, max_n: int) -> list[str]:
    """Return the character n-grams of one word padded with a space on each side."""
    padded = f" {word} "
    size = len(padded)
    return [padded[i : i + n] for n in range(min_n, max_n + 1) for i in range(size - n + 1)]


def word_counts(tokens: list[str]) -> Counter[str]:
    """Count the word tokens (those with a letter or digit) that char n-grams are taken from."""
    return Counter(tok for tok in tokens if tok[0].isalnum() or tok[0] == "_")


# Words longer than this are not memoised (one 100,000-character CJK run is one "word").
_MEMO_MAX_WORD = 64
_MEMO_MAX_ENTRIES = 200_000


@dataclass(frozen=True)
class Vocabulary:
    """The pruned vocabulary and IDF weights of a trained lite model.

    Word n-grams take indices ``0..len(words)-1``; character n-grams follow them.
    A per-vocabulary memo maps a word to its character-n-gram feature indices; it changes
    speed only, never results.
    """

    config: FeatureConfig
    words: Mapping[str, int]
    chars: Mapping[str, int]
    idf: np.ndarray
    _memo: dict[str, list[int]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        """Number of features (word plus character n-grams)."""
        return len(self.words) + len(self.chars)

    def char_hits(self, word: str) -> list[int]:
        """Return the feature indices of the known character n-grams of ``word``."""
        hits = self._memo.get(word)
        if hits is None:
            cfg = self.config
            offset = len(self.words)
            grams = char_grams(word, cfg.char_min_n, cfg.char_max_n)
            hits = [i + offset for i in map(self.chars.get, grams) if i is not None]
            if len(word) <= _MEMO_MAX_WORD:
                if len(self._memo) >= _MEMO_MAX_ENTRIES:
                    self._memo.clear()
                self._memo[word] = hits
        return hits


def _block(counts: Counter[int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn feature counts into sublinear-tf x idf values, L2-normalised."""
    n = len(counts)
    idx = np.fromiter(counts.keys(), dtype=np.int64, count=n)
    tf = np.fromiter(counts.values(), dtype=np.float64, count=n)
    values = (1.0 + np.log(tf)) * idf[idx]
    norm = math.sqrt(float(values @ values))
    return idx, values / norm if norm > 0 else values


def featurize(text: str, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """Return the sparse feature vector of ``text`` as (indices, values).

    Word and character blocks are each L2-normalised, so each contributes at most unit
    length. Unknown n-grams are ignored; a text with none gives empty arrays.
    """
    tokens = tokenize(text)
    grams = word_grams(tokens, vocab.config.word_max_n)
    w_counts = Counter(i for i in map(vocab.words.get, grams) if i is not None)
    c_hits: list[int] = []
    for word, count in word_counts(tokens).items():
        hits = vocab.char_hits(word)
        c_hits.extend(hits if count == 1 else hits * count)
    wi, wv = _block(w_counts, vocab.idf)
    ci, cv = _block(Counter(c_hits), vocab.idf)
    return np.concatenate([wi, ci]), np.concatenate([wv, cv])
