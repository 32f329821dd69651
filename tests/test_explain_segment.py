"""Word and sentence pieces with offsets: they slice the text exactly, whatever the script."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from vsa_desktop.core.explain import segment
from vsa_desktop.core.explain.segment import EMOJI, PUNCT, WORD, remove, sentences, units

# Pieces that break naive offset handling: astral emoji and their joiners, flags, skin
# tones, keycaps, CJK without spaces, right-to-left scripts with bidi marks, decomposed
# accents and Indic vowel signs, NFKC-changing characters.
PIECES = [
    "I",
    "hate",
    "don't",
    "so",
    "happy",
    "!!",
    "?!",
    ",",
    ".",
    ":)",
    "😢",
    "👍🏽",
    "👨\u200d👩\u200d👧",
    "🇫🇷",
    "1\ufe0f\u20e3",
    "❤\ufe0f",
    "これは素晴らしい",
    "中文",
    "שלום",
    "\u200fمرحبا\u200f",
    "\u202eevil\u202c",
    "cafe\u0301",
    "नमस्ते",
    "\u0301",
    "ﬁne",
    "½",
    "ΟΔΟΣ",
    "ß",
    "İstanbul",
    "한국어",
    "\u1100\u1161\u11a8",
    "e\u0301\u0323",
    "[NAME]",
    "SOOOO",
    "\n",
    "\t",
    "  ",
    " ",
]

texts = st.one_of(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=30).map("".join),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=30).map(" ".join),
    st.text(min_size=1, max_size=60),
)


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Mc", "Me")


@settings(max_examples=400, deadline=None)
@given(texts)
def test_units_slice_the_text_exactly_in_order(text: str) -> None:
    pieces = units(text)
    last = 0
    for unit in pieces:
        assert 0 <= unit.start < unit.end <= len(text)
        assert text[unit.start : unit.end] == unit.text
        assert unit.start >= last  # in order, never overlapping
        assert unit.kind in (WORD, EMOJI, PUNCT)
        # never a mark cut off from its character, on either side
        assert not _is_mark(text[unit.start])
        assert unit.end == len(text) or not _is_mark(text[unit.end])
        last = unit.end


@settings(max_examples=300, deadline=None)
@given(texts)
def test_every_visible_character_is_in_a_unit(text: str) -> None:
    covered = [False] * len(text)
    for unit in units(text):
        covered[unit.start : unit.end] = [True] * (unit.end - unit.start)
    for i, char in enumerate(text):
        category = unicodedata.category(char)
        if char.isspace() or category in ("Cc", "Cf", "Zl", "Zp") or category[0] == "M":
            continue
        assert covered[i], (i, char, text)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_sentences_slice_exactly_and_hold_their_units(text: str) -> None:
    pieces = units(text)
    found = sentences(text, pieces)
    seen: list[int] = []
    for sentence in found:
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.text == sentence.text.strip()
        for k in sentence.units:
            assert sentence.start <= pieces[k].start and pieces[k].end <= sentence.end
        seen.extend(sentence.units)
    assert seen == list(range(len(pieces)))  # each unit in exactly one sentence, in order


def test_words_keep_their_marks_and_apostrophes() -> None:
    text = "I don't say cafe\u0301 or नमस्ते"
    assert [u.text for u in units(text)] == ["I", "don't", "say", "cafe\u0301", "or", "नमस्ते"]


def test_emoji_clusters_are_one_unit_each() -> None:
    text = "ok 👍🏽👨\u200d👩\u200d👧🇫🇷❤\ufe0f"
    pieces = units(text)
    assert [(u.text, u.kind) for u in pieces] == [
        ("ok", WORD),
        ("👍🏽", EMOJI),
        ("👨\u200d👩\u200d👧", EMOJI),
        ("🇫🇷", EMOJI),
        ("❤\ufe0f", EMOJI),
    ]


def test_ideographs_are_one_unit_each_and_latin_runs_stay_whole() -> None:
    assert [u.text for u in units("中文abc。")] == ["中", "文", "abc", "。"]


def test_punctuation_runs_are_one_unit() -> None:
    assert [u.text for u in units("what?! :) ...")] == ["what", "?!", ":)", "..."]


def test_sentences_split_at_ends_and_line_breaks() -> None:
    text = "Hi there.  Second one!\nThird? 最后。好"
    assert [s.text for s in sentences(text)] == [
        "Hi there.",
        "Second one!",
        "Third?",
        "最后。",
        "好",
    ]


def test_remove_takes_the_spaces_on_one_side() -> None:
    text = "I hate this, so sad"
    spans = {u.text: (u.start, u.end) for u in units(text)}
    assert remove(text, [spans["hate"]]) == "I this, so sad"
    assert remove(text, [spans["sad"]]) == "I hate this, so"
    assert remove(text, [spans["I"]]) == "hate this, so sad"
    assert remove(text, [spans[","]]) == "I hate this so sad"
    assert remove(text, [spans["hate"], spans["sad"]]) == "I this, so"
    assert remove("I hate\nthis", [(2, 6)]) == "I\nthis"
    assert remove("it hurts.", [(3, 8)]) == "it."
    assert remove("(hate) me", [(1, 5)]) == "() me"


@settings(max_examples=200, deadline=None)
@given(texts, st.data())
def test_remove_drops_exactly_the_unit_and_blanks(text: str, data: st.DataObject) -> None:
    pieces = units(text)
    if not pieces:
        return
    unit = data.draw(st.sampled_from(pieces))
    out = remove(text, [(unit.start, unit.end)])
    # what is left is the text without the unit, give or take the blanks beside it
    squeeze = segment._BLANKS
    left = text[: unit.start].rstrip(squeeze), text[unit.end :].lstrip(squeeze)
    assert out.startswith(left[0]) and out.endswith(left[1])
    assert len(out) <= len(text) - len(unit.text)
    assert len(out) >= len(left[0]) + len(left[1])
