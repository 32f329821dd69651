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

# Bump when the featuriser changes in a way that makes old weights meaningless. Version 1
# files (plain n-grams) still load: every cue below is off for them.
FEATURE_VERSION = 2

# A word (letters/digits of any script, inner apostrophes kept: "don't") or any single
# non-space, non-word character (punctuation, emoji, symbols).
_TOKEN_RE = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
# Emoji variation selectors carry no meaning for us: "❤️" and "❤" are the same token.
_DROP = dict.fromkeys(map(ord, "\ufe0e\ufe0f"))
# Curly apostrophes become straight ones, so "don’t" and "don't" are one token.
_APOSTROPHES = {ord("’"): "'", ord("‘"): "'", **_DROP}

# Emoticons (after case folding), each named by the word(s) its emoji twin's Unicode name
# carries, so ":)" and "🙂" light up the same features.
_EMOTICONS: dict[str, str] = {
    **dict.fromkeys([":)", ":-)", "=)", "(:", ":]", ":3"], "smiling"),
    **dict.fromkeys([":d", ":-d", "=d", "xd", ";d"], "grinning"),
    **dict.fromkeys([";)", ";-)"], "winking"),
    **dict.fromkeys([":p", ":-p", "xp", ";p"], "tongue"),
    **dict.fromkeys(["<3"], "heart"),
    **dict.fromkeys([":(", ":-(", "=(", "):"], "frowning"),
    **dict.fromkeys([":'(", ":,("], "crying"),
    **dict.fromkeys([":/", ":-/", ":\\"], "confused"),
    **dict.fromkeys([":o", ":-o"], "astonished"),
    **dict.fromkeys([":|", ":-|"], "expressionless"),
}
# Emoticons must stand alone: "https://" and "10:30" hold no face.
_TOKEN_RE_V2 = re.compile(
    "(?<!\\w)(?:"
    + "|".join(re.escape(e) for e in sorted(_EMOTICONS, key=len, reverse=True))
    + ")(?!\\w)|"
    + _TOKEN_RE.pattern
)
# Words of emoji names that say nothing about the emotion.
_NAME_STOP = frozenset(
    [
        "face",
        "with",
        "and",
        "of",
        "the",
        "a",
        "an",
        "sign",
        "symbol",
        "black",
        "white",
        "heavy",
        "mark",
    ]
)
# Words that negate what follows, up to the next punctuation mark; "dont" and friends are
# how Reddit often spells them.
_NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "nowhere",
        "neither",
        "nor",
        "cannot",
        "without",
        "hardly",
        "barely",
        "dont",
        "cant",
        "wont",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "didnt",
        "doesnt",
        "havent",
        "hasnt",
        "hadnt",
        "couldnt",
        "wouldnt",
        "shouldnt",
        "aint",
    ]
)
_NEGATION_SCOPE = 4  # words; past that a negation rarely still governs the word
_ELONGATED = re.compile(r"(\w)\1{2,}")


@dataclass(frozen=True)
class FeatureConfig:
    """Which n-grams and cues the featuriser emits.

    Attributes:
        word_max_n: word n-grams of length 1..word_max_n (tokens joined by one space).
        char_min_n: shortest character n-gram inside a space-padded word.
        char_max_n: longest character n-gram inside a space-padded word.
        negation: words after a negator, up to punctuation, become ``not_<word>``.
        emoji: emoji and emoticons also emit the words of their Unicode names.
        elongation: letters repeated 3+ times shrink to 2 ("soooo" -> "soo"), plus a cue.
        punctuation: runs like "!!!", "??" and "?!" emit a cue.
        caps: a shouted (ALL-CAPS) word of 3+ letters emits a cue.
    """

    word_max_n: int = 2
    char_min_n: int = 2
    char_max_n: int = 5
    negation: bool = False
    emoji: bool = False
    elongation: bool = False
    punctuation: bool = False
    caps: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain JSON-able values."""
        return {"version": FEATURE_VERSION, **asdict(self)}

    @property
    def cues(self) -> bool:
        """True when any cue beyond plain n-grams is on (the version-2 tokenizer runs)."""
        return self.negation or self.emoji or self.elongation or self.punctuation or self.caps

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FeatureConfig:
        """Build a config from ``to_dict`` output (version 1 or 2).

        Raises:
            ValueError: when the stored featuriser version is unknown.
        """
        version = int(d.get("version", -1))
        if version not in (1, FEATURE_VERSION):
            raise ValueError(f"featuriser version {d.get('version')} != {FEATURE_VERSION}")
        flags = ("negation", "emoji", "elongation", "punctuation", "caps")
        return cls(
            int(d["word_max_n"]),
            int(d["char_min_n"]),
            int(d["char_max_n"]),
            **{name: bool(d.get(name, False)) for name in flags},
        )


def tokenize(text: str) -> list[str]:
    """Return the tokens of ``text`` after NFKC normalisation and case folding."""
    norm = unicodedata.normalize("NFKC", text).translate(_DROP).casefold()
    return _TOKEN_RE.findall(norm)


@dataclass(frozen=True)
class Analysis:
    """What one text gives the featuriser.

    Attributes:
        grams: word-block features with repeats: word n-grams, then cue words.
        words: the word tokens (before negation marking) that char n-grams come from.
    """

    grams: list[str]
    words: Counter[str]


def analyse(text: str, config: FeatureConfig) -> Analysis:
    """Return the word-block features and char-n-gram words of ``text`` under ``config``."""
    if not config.cues:
        tokens = tokenize(text)
        return Analysis(word_grams(tokens, config.word_max_n), word_counts(tokens))
    norm = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    cues: list[str] = []
    if config.caps and _shouts(norm):
        cues.append("<caps>")
    tokens = _TOKEN_RE_V2.findall(norm.casefold())
    if config.elongation:
        tokens = _shrink_elongations(tokens, cues)
    if config.emoji:
        cues.extend(_emoji_words(tokens))
    if config.punctuation:
        cues.extend(_punctuation_runs(tokens))
    marked = _mark_negation(tokens) if config.negation else tokens
    grams = word_grams(marked, config.word_max_n)
    grams.extend(cues)
    return Analysis(grams, word_counts(tokens))


def _shouts(norm: str) -> bool:
    """True when a word of 3+ letters is all capitals (the "[NAME]" placeholders aside)."""
    for match in re.finditer(r"(?<!\[)\b[^\W\d_]{3,}\b(?!\])", norm):
        word = match.group()
        if word.isupper():
            return True
    return False


def _shrink_elongations(tokens: list[str], cues: list[str]) -> list[str]:
    """Shrink letter runs of 3+ to 2 ("soooo" -> "soo"); add one cue per elongated word."""
    out = []
    for tok in tokens:
        short = _ELONGATED.sub(r"\1\1", tok) if len(tok) > 2 else tok
        if short != tok:
            cues.append("<elongated>")
        out.append(short)
    return out


def _emoji_words(tokens: list[str]) -> list[str]:
    """Return the name words of the emoji and emoticons among ``tokens``."""
    words: list[str] = []
    for tok in tokens:
        if tok in _EMOTICONS:
            words.append(_EMOTICONS[tok])
        elif len(tok) == 1 and _is_emoji(tok):
            name = unicodedata.name(tok, "").lower().replace("-", " ").split()
            words.extend(w for w in name if w not in _NAME_STOP)
    return words


def _is_emoji(char: str) -> bool:
    """True for pictographs (the emoji blocks, misc symbols and dingbats)."""
    code = ord(char)
    return 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF


def _punctuation_runs(tokens: list[str]) -> list[str]:
    """Return one cue per run of 2+ "!"/"?" marks: "<!!>", "<??>" or "<?!>"."""
    cues: list[str] = []
    run = ""
    for tok in [*tokens, ""]:
        if tok in ("!", "?"):
            run += tok
            continue
        if len(run) >= 2:
            kinds = set(run)
            cues.append("<?!>" if len(kinds) == 2 else f"<{run[0]}{run[0]}>")
        run = ""
    return cues


def _mark_negation(tokens: list[str]) -> list[str]:
    """Prefix ``not_`` to the words after a negator, up to punctuation or the scope limit."""
    out: list[str] = []
    left = 0
    for tok in tokens:
        if not (tok[0].isalnum() or tok[0] == "_"):
            left = 0  # punctuation ends the scope
            out.append(tok)
        elif tok in _NEGATORS or tok.endswith("n't"):
            left = _NEGATION_SCOPE
            out.append(tok)
        elif left:
            left -= 1
            out.append("not_" + tok)
        else:
            out.append(tok)
    return out


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
    parts = analyse(text, vocab.config)
    w_counts = Counter(i for i in map(vocab.words.get, parts.grams) if i is not None)
    c_hits: list[int] = []
    for word, count in parts.words.items():
        hits = vocab.char_hits(word)
        c_hits.extend(hits if count == 1 else hits * count)
    wi, wv = _block(w_counts, vocab.idf)
    ci, cv = _block(Counter(c_hits), vocab.idf)
    return np.concatenate([wi, ci]), np.concatenate([wv, cv])
