"""Visual cues from the vision-language model: asked for, validated, kept, never made up."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.fake_groq import FakeGroq, ok
from tests.test_vision_groq import GOOD, KEY, _noise, make_backend
from vsa_desktop.core.explanation import Cue
from vsa_desktop.core.imaging import LoadedImage
from vsa_desktop.core.result import VisionResult
from vsa_desktop.core.vision.vlm_answer import CUE_CHARS, MAX_CUES, parse_answer, parse_cues


@pytest.fixture
def server() -> Iterator[FakeGroq]:
    with FakeGroq() as fake:
        yield fake


@pytest.fixture(scope="module")
def photo() -> LoadedImage:
    return _noise(160, 120)


def answer(**fields: object) -> str:
    return json.dumps({"description": "A face.", "scores": GOOD, **fields})


def test_cues_are_read_with_the_emotion_they_support() -> None:
    warnings: list[str] = []
    got = parse_answer(
        answer(
            cues=[
                {"cue": "open smile", "emotion": "happy"},
                {"cue": "raised cheeks", "emotion": "joy"},  # an alias the app knows
                ["tears", "sadness"],
            ]
        ),
        warnings,
    )
    assert got.cues == (
        Cue("open smile", "happy"),
        Cue("raised cheeks", "happy"),
        Cue("tears", "sad"),
    )
    assert warnings == []


@pytest.mark.parametrize("shape", [{}, {"cues": []}, {"cues": None}])
def test_no_cues_means_none_and_no_warning(shape: dict[str, object]) -> None:
    warnings: list[str] = []
    assert parse_answer(answer(**shape), warnings).cues == ()
    assert warnings == []


def test_bad_cues_are_dropped_and_reported_like_bad_scores() -> None:
    warnings: list[str] = []
    cues = parse_cues(
        [
            {"cue": "furrowed brow", "emotion": "angry"},
            {"cue": "chin up", "emotion": "pride"},  # outside the seven
            {"cue": "", "emotion": "sad"},  # no text
            {"cue": "clenched fists"},  # no emotion
            {"cue": 3, "emotion": "angry"},  # not text
            "a frown",  # no emotion either
            {"cue": "Furrowed  brow", "emotion": "angry"},  # the same cue again
        ],
        warnings,
    )
    assert cues == (Cue("furrowed brow", "angry"),)
    assert warnings == [
        "The vision model gave 4 cues that could not be read, ignored.",
        "The vision model gave cues for emotions outside the seven, ignored: chin up (pride).",
    ]


def test_cue_text_is_cleaned_cut_and_counted() -> None:
    warnings: list[str] = []
    long = "a very long description of a cue that goes on and on about the eyes"
    cues = parse_cues(
        [
            {"cue": "wide\u202e eyes\n\x1b[31m", "emotion": "surprise"},
            {"cue": long, "emotion": "fear"},
            *({"cue": f"cue {i}", "emotion": "neutral"} for i in range(MAX_CUES)),
        ],
        warnings,
    )
    assert cues[0].text == "wide eyes [31m"  # controls split words, bidi overrides go
    assert len(cues[1].text) == CUE_CHARS and cues[1].text.endswith("…")
    assert len(cues) == MAX_CUES
    assert warnings == [
        f"The vision model named {MAX_CUES + 2} cues; the first {MAX_CUES} are kept."
    ]
    assert parse_cues("smile", warnings) == ()
    assert warnings[-1] == "The vision model's cues were not a list, ignored."


def test_the_prompt_asks_for_cues_and_the_answer_keeps_them(server, photo) -> None:
    server.queue(
        ok(
            answer(
                cues=[
                    {"cue": "broad smile", "emotion": "happy"},
                    {"cue": f"glint {KEY}", "emotion": "surprise"},  # a key must never show
                ]
            )
        )
    )
    warnings: list[str] = []
    result = make_backend(server).analyze(photo, warnings)
    prompt = server.chat_requests()[0].body["messages"][0]["content"][0]["text"]
    assert '"cues"' in prompt and "if you see none, give an" in prompt
    assert result.cues[0] == Cue("broad smile", "happy")
    assert result.cues[1].emotion == "surprise" and KEY not in result.cues[1].text
    d = result.to_dict()
    assert d["cues"][0] == {"text": "broad smile", "emotion": "happy"}
    assert VisionResult.from_dict(d) == result


def test_a_model_that_names_no_cues_gets_none_invented(server, photo) -> None:
    server.queue(ok(answer()))
    result = make_backend(server).analyze(photo, [])
    assert result.cues == ()
    assert "cues" not in result.to_dict()
