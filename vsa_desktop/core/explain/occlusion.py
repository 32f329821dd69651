"""Occlusion: which words matter to any text analyzer, found by scoring the text without them.

A piece's weight for an emotion is the analyzer's probability of that emotion for the whole
text minus its probability for the text with the piece removed (``segment.remove``): positive
when the piece raised the emotion. The texts are scored in batches, with the cancel token
checked between batches.

Short texts get one variant per piece. A text with more pieces than its budget of variants
(``SCORED_CHARS`` divided by its length, at least ``MIN_WORDS``; or ``max_words``) is read
coarse to fine within that budget: first each segment
(sentences; long sentences cut into runs of at most ``CHUNK`` pieces; at most ``MAX_SEGMENTS``
segments, neighbours merged when there are more) is removed, then the pieces of the strongest
segments are removed one by one, as long as the budget lasts. Pieces inside segments that
were not refined get no word weight (``complete`` is then False); their segment's weight
stands for them. A segment bigger than the budget left is cut in ``SPLIT`` parts, which are
scored and queued by strength with the rest (a search that narrows down on what matters,
``MAX_SPLIT_VARIANTS`` variants at most, until the first words are scored), so even a
book-length text gets to its words.

A variant that would be empty (a one-word text without its word) is scored as "no evidence":
the uniform distribution over the seven emotions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from vsa_desktop.core.cancel import CancelToken, check
from vsa_desktop.core.explain import segment
from vsa_desktop.core.taxonomy import EMOTIONS

# texts -> (len(texts), 7) probabilities in EMOTIONS order
ScoreFn = Callable[[list[str]], np.ndarray]

# The cost of a variant grows with the text's length, so the budget is set in characters
# scored: about 20 variants of a 64-word text (~350 characters), every word of a 40-word one.
SCORED_CHARS = 7000
MIN_WORDS = 8  # word variants a long text gets at least
CHUNK = 12  # a sentence with more pieces is cut into runs of at most this many
MAX_SEGMENTS = 6  # first-level segments of a long text
SPLIT = 3  # a segment too big for the budget left is cut in this many parts, and so on
MAX_SPLIT_VARIANTS = 30  # variants spent on such cuts: enough to narrow 10^5 pieces to one
BATCH = 8  # variants scored per call (the cancel token is checked between calls)


@dataclass(frozen=True)
class Occlusion:
    """Raw occlusion output.

    Attributes:
        units: every unit of the text (``segment.units``).
        scored: indices of the units that got a weight, in text order.
        weights: (len(scored), 7): probability with the text minus without the unit.
        segments: first-level segments of a long text as (start, end) offsets (empty for
            texts read word by word).
        segment_weights: (len(segments), 7), the same difference for each segment.
        base: the seven probabilities of the whole text.
        complete: True when every occludable unit was scored.
        variants: how many texts were scored (the whole text included).
    """

    units: list[segment.Unit]
    scored: list[int]
    weights: np.ndarray
    segments: list[tuple[int, int]]
    segment_weights: np.ndarray
    base: np.ndarray
    complete: bool
    variants: int


_QUIET = frozenset(".,;:-–—'\"()[]{}…/\\«»“”‘’")


def occludable(unit: segment.Unit) -> bool:
    """Words, emoji and expressive punctuation ("!", "?!", ":)") are occluded; "," is not."""
    if unit.kind != segment.PUNCT:
        return True
    return any(c not in _QUIET for c in unit.text) or len(set(unit.text)) >= 2


class _Scorer:
    """Scores variants in batches, checking the cancel token between batches."""

    def __init__(self, score: ScoreFn, cancel: CancelToken | None, batch: int) -> None:
        self._score = score
        self._cancel = cancel
        self._batch = batch
        self.count = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = np.full((len(texts), len(EMOTIONS)), 1.0 / len(EMOTIONS))
        todo = [i for i, t in enumerate(texts) if t.strip()]
        for start in range(0, len(todo), self._batch):
            check(self._cancel)
            chunk = todo[start : start + self._batch]
            out[chunk] = np.asarray(self._score([texts[i] for i in chunk]), dtype=np.float64)
        self.count += len(texts)
        check(self._cancel)
        return out


def occlude(
    score: ScoreFn,
    text: str,
    *,
    focus: int | None = None,
    cancel: CancelToken | None = None,
    max_words: int | None = None,
    batch: int = BATCH,
) -> Occlusion:
    """Find each piece's effect on the seven probabilities of ``score`` for ``text``.

    Args:
        score: texts -> (n, 7) probabilities in ``EMOTIONS`` order.
        text: the text as analysed.
        focus: the emotion (index in ``EMOTIONS``) whose changes decide which segments of a
            long text are refined first; None: the largest change of any emotion.
        cancel: checked before each batch.
        max_words: the budget of word variants; None: set by the text's length (see the
            module docstring).
        batch: texts per ``score`` call.

    Raises:
        Cancelled: ``cancel`` was set.
    """
    units = segment.units(text)
    targets = [i for i, u in enumerate(units) if occludable(u)]
    scorer = _Scorer(score, cancel, batch)
    base = scorer([text])[0]

    def without(groups: list[_Group]) -> np.ndarray:
        return base[None, :] - scorer([segment.remove(text, [(g.start, g.end)]) for g in groups])

    def words(indices: list[int]) -> list[_Group]:
        return [_Group([k], units[k].start, units[k].end) for k in indices]

    budget = max_words if max_words is not None else budget_for(text)
    if len(targets) <= budget:
        weights = without(words(targets)) if targets else np.zeros((0, len(EMOTIONS)))
        empty = np.zeros((0, len(EMOTIONS)))
        return Occlusion(units, targets, weights, [], empty, base, True, scorer.count)
    groups = _segments(text, units, targets)
    seg_weights = without(groups)
    scored: dict[int, np.ndarray] = {}
    if max_words is None:  # the segments came out of the same budget
        budget = max(MIN_WORDS, budget - len(groups))
    split_budget = MAX_SPLIT_VARIANTS
    pending = _strongest_first(list(zip(groups, seg_weights, strict=True)), focus)
    while pending and budget > 0:
        group, _ = pending.pop(0)
        if len(group.targets) <= budget:
            singles = words(group.targets)
            for k, w in zip(group.targets, without(singles), strict=True):
                scored[k] = w
            budget -= len(group.targets)
            continue
        ways = min(SPLIT, len(group.targets), split_budget)
        if ways < 2 or scored:
            # Too big for what is left. Cuts only lead the way to the first words; after
            # that, a smaller group may still fit.
            continue
        parts = [
            _Group(part, units[part[0]].start, units[part[-1]].end)
            for part in _split(group.targets, ways)
        ]
        split_budget -= len(parts)
        finer = list(zip(parts, without(parts), strict=True))
        pending = _strongest_first(pending + finer, focus)
    order = sorted(scored)
    weights = np.array([scored[k] for k in order]).reshape(len(order), len(EMOTIONS))
    bounds = [(g.start, g.end) for g in groups]
    return Occlusion(
        units, order, weights, bounds, seg_weights, base, len(order) == len(targets), scorer.count
    )


def budget_for(text: str) -> int:
    """How many variants ``text`` gets by default: ``SCORED_CHARS`` worth, ``MIN_WORDS`` at least."""
    return max(MIN_WORDS, SCORED_CHARS // max(1, len(text)))


@dataclass(frozen=True)
class _Group:
    """Target units removed together, as the span ``text[start:end]`` that holds them."""

    targets: list[int]
    start: int
    end: int


def _strongest_first(
    groups: list[tuple[_Group, np.ndarray]], focus: int | None
) -> list[tuple[_Group, np.ndarray]]:
    """Groups by how much they change the ``focus`` emotion (else any), largest first."""

    def strength(group: tuple[_Group, np.ndarray]) -> float:
        change = np.abs(group[1])
        return float(change[focus] if focus is not None else change.max())

    return sorted(groups, key=strength, reverse=True)


def _segments(text: str, units: list[segment.Unit], targets: list[int]) -> list[_Group]:
    """First-level groups: sentences (long ones cut into runs of at most ``CHUNK`` targets),
    neighbours merged down to ``MAX_SEGMENTS``. A group spans its whole sentence (or run), so
    removing it takes the punctuation inside with it."""
    wanted = set(targets)
    groups: list[_Group] = []
    for sentence in segment.sentences(text, units):
        mine = [k for k in sentence.units if k in wanted]
        if not mine:
            continue
        runs = _split(mine, -(-len(mine) // CHUNK))
        for r, run in enumerate(runs):
            start = sentence.start if r == 0 else units[run[0]].start
            end = sentence.end if r == len(runs) - 1 else units[run[-1]].end
            groups.append(_Group(run, start, end))
    if len(groups) <= MAX_SEGMENTS:
        return groups
    # Too many: merge neighbours into MAX_SEGMENTS blocks of about equal numbers of targets.
    total = sum(len(g.targets) for g in groups)
    blocks: list[list[_Group]] = [[] for _ in range(MAX_SEGMENTS)]
    seen = 0
    for group in groups:
        blocks[min(MAX_SEGMENTS - 1, seen * MAX_SEGMENTS // total)].append(group)
        seen += len(group.targets)
    return [
        _Group([k for g in block for k in g.targets], block[0].start, block[-1].end)
        for block in blocks
        if block
    ]


def _split(group: list[int], parts: int) -> list[list[int]]:
    """Cut ``group`` into ``parts`` runs of near-equal length (at least one piece each)."""
    parts = max(1, min(parts, len(group)))
    size, extra = divmod(len(group), parts)
    out, start = [], 0
    for p in range(parts):
        end = start + size + (1 if p < extra else 0)
        out.append(group[start:end])
        start = end
    return out
