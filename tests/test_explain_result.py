"""Explanations in results: the JSON keys, fusion parts, face shares and the pipeline switch."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.test_result import sample
from vsa_desktop.core import fusion
from vsa_desktop.core.calibration import as_array, softmax_rows
from vsa_desktop.core.explain import explain_result
from vsa_desktop.core.explain.fusion_parts import fusion_parts, parts_of
from vsa_desktop.core.explanation import (
    LOG_EVIDENCE,
    WEIGHTED_SCORE,
    Cue,
    FusionParts,
    Span,
    TextExplanation,
)
from vsa_desktop.core.imaging import LoadedImage
from vsa_desktop.core.pipeline import AnalysisRequest, analyze
from vsa_desktop.core.result import AnalysisResult, ImageInfo
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.vision.local import LocalFaceBackend

ASTRONAUT = Path(__file__).parent / "data" / "astronaut.png"

distributions = st.lists(
    st.floats(min_value=1e-6, max_value=1.0), min_size=len(EMOTIONS), max_size=len(EMOTIONS)
).map(lambda v: {k: x / sum(v) for k, x in zip(EMOTIONS, v, strict=True)})


# --- JSON -------------------------------------------------------------------------------


def _explained_sample() -> AnalysisResult:
    import dataclasses

    result = sample()
    assert result.text is not None and result.vision is not None and result.fusion is not None
    text = result.text_input or ""
    explanation = TextExplanation(
        "lite-exact",
        "happy",
        "logit",
        (
            Span(0, 2, text[0:2], 0.5, {k: 0.1 for k in EMOTIONS}),
            Span(8, 9, text[8:9], 1.5),
        ),
        sentences=(Span(0, len(text), text, 2.0),),
    )
    faces = tuple(dataclasses.replace(f, share=1.0) for f in result.vision.faces)
    return dataclasses.replace(
        result,
        text=dataclasses.replace(result.text, explanation=explanation),
        vision=dataclasses.replace(
            result.vision, faces=faces, cues=(Cue("open smile", "happy"), Cue("tears", "sad"))
        ),
        fusion=dataclasses.replace(result.fusion, parts=parts_of(result)),
    )


def test_new_keys_round_trip_exactly() -> None:
    original = _explained_sample()
    d = original.to_dict()
    assert d["text"]["explanation"]["method"] == "lite-exact"
    assert d["text"]["explanation"]["spans"][0] == {
        "start": 0,
        "end": 2,
        "text": "We",
        "weight": 0.5,
        "weights": {k: 0.1 for k in EMOTIONS},
    }
    assert d["vision"]["faces"][0]["share"] == 1.0
    assert d["vision"]["cues"] == [
        {"text": "open smile", "emotion": "happy"},
        {"text": "tears", "emotion": "sad"},
    ]
    assert d["fusion"]["parts"]["kind"] == LOG_EVIDENCE  # the sample is fused by "product"
    again = AnalysisResult.from_json(original.to_json())
    assert again.to_dict() == d


def test_results_without_the_new_keys_read_as_before() -> None:
    plain = sample().to_dict()
    for key in ("explanation",):
        assert key not in plain["text"]
    assert "cues" not in plain["vision"] and "parts" not in plain["fusion"]
    assert "share" not in plain["vision"]["faces"][0]
    # an older file: exactly the keys it had, nothing new
    old = json.loads(json.dumps(plain))
    read = AnalysisResult.from_dict(old)
    assert read.text is not None and read.text.explanation is None
    assert read.vision is not None and read.vision.cues == () and read.vision.faces[0].share is None
    assert read.fusion is not None and read.fusion.parts is None
    assert read.to_dict() == plain


def test_top_words_are_those_that_raised_the_emotion_most() -> None:
    spans = (Span(0, 1, "a", 0.2), Span(2, 3, "b", -3.0), Span(4, 5, "c", 0.9), Span(6, 7, "d", 0))
    explanation = TextExplanation("occlusion", "sad", "probability", spans)
    assert [s.text for s in explanation.top(3)] == ["c", "a"]
    assert explanation.top(3, emotion="happy") == []  # no per-emotion weights were asked for


# --- fusion parts -------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(distributions, distributions, st.floats(min_value=0.0, max_value=1.0))
def test_product_parts_rebuild_the_fused_scores(text, vision, w) -> None:
    fused = fusion.fuse(text, vision, (w, 1.0 - w), "product")
    assert fused is not None
    parts = fusion_parts(text, vision, (w, 1.0 - w), "product")
    assert parts.kind == LOG_EVIDENCE
    evidence = as_array(parts.text) + as_array(parts.vision)
    np.testing.assert_allclose(softmax_rows(evidence), as_array(fused.scores), atol=1e-9)
    # centred: each channel's evidence sums to zero over the seven emotions
    assert math.fsum(parts.text.values()) == pytest.approx(0.0, abs=1e-9)
    if w == 1.0:  # the image does not count at all
        assert all(v == 0.0 for v in parts.vision.values())


@settings(max_examples=200, deadline=None)
@given(distributions, distributions, st.floats(min_value=0.0, max_value=1.0))
def test_weighted_parts_add_up_to_the_fused_scores(text, vision, w) -> None:
    fused = fusion.fuse(text, vision, (w, 1.0 - w), "weighted")
    assert fused is not None
    parts = fusion_parts(text, vision, (w, 1.0 - w), "weighted")
    assert parts.kind == WEIGHTED_SCORE
    for key in EMOTIONS:
        assert parts.text[key] + parts.vision[key] == pytest.approx(fused.scores[key], abs=1e-9)
        assert parts.text[key] == pytest.approx(w * text[key])


def test_single_channel_results_have_no_parts() -> None:
    import dataclasses

    result = sample()
    assert parts_of(dataclasses.replace(result, vision=None)) is None
    with pytest.raises(ValueError):
        fusion_parts(dict.fromkeys(EMOTIONS, 1 / 7), dict.fromkeys(EMOTIONS, 1 / 7), (1, 1), "x")


# --- faces --------------------------------------------------------------------------------


def test_face_shares_are_the_weights_of_the_image_reading() -> None:
    face = Image.open(ASTRONAUT).convert("RGB")
    pair = Image.new("RGB", (512 + 256, 512), "white")
    pair.paste(face, (0, 0))
    pair.paste(face.resize((256, 256)), (512, 128))
    image = LoadedImage(pair, ImageInfo("pair.png", "0" * 64, pair.width, pair.height))
    result = LocalFaceBackend().analyze(image, [])
    assert len(result.faces) == 2
    shares = [f.share for f in result.faces]
    assert all(s is not None and 0 < s < 1 for s in shares)
    assert math.fsum(s for s in shares if s is not None) == pytest.approx(1.0)
    assert shares[0] > shares[1]  # the bigger face counts more
    for key in EMOTIONS:
        mixed = math.fsum((f.share or 0) * f.scores[key] for f in result.faces)
        assert result.scores[key] == pytest.approx(mixed, abs=1e-9)
    d = result.to_dict()
    assert [f["share"] for f in d["faces"]] == shares


# --- the pipeline ---------------------------------------------------------------------------


def test_explanations_are_computed_only_on_request() -> None:
    plain = analyze(AnalysisRequest(text="I hate this, it is disgusting"))
    assert plain.text is not None and plain.text.explanation is None
    assert "explain" not in plain.timings_ms
    explained = analyze(AnalysisRequest(text="I hate this, it is disgusting", explain=True))
    assert explained.text is not None
    explanation = explained.text.explanation
    assert explanation is not None and explanation.label == explained.text.label
    assert {s.text for s in explanation.top(3)} & {"hate", "disgusting"}
    assert explained.timings_ms["explain"] > 0
    assert explained.text.scores == plain.text.scores  # the reading itself is the same
    again = AnalysisResult.from_json(explained.to_json())
    assert again.to_dict() == explained.to_dict()


def test_multimodal_explanation_has_fusion_parts_that_rebuild_the_fused_scores() -> None:
    result = analyze(
        AnalysisRequest(
            text="What a wonderful day, I love it!",
            image=ASTRONAUT,
            vision="local",
            offline=True,
            explain=True,
            explain_every=True,
        )
    )
    assert result.mode == "multimodal" and result.fusion is not None
    parts = result.fusion.parts
    assert parts is not None and parts.kind == LOG_EVIDENCE and result.fusion.rule == "product"
    evidence = as_array(parts.text) + as_array(parts.vision)
    np.testing.assert_allclose(softmax_rows(evidence), as_array(result.fusion.scores), atol=1e-9)
    assert result.vision is not None and result.vision.faces[0].share == pytest.approx(1.0)
    assert result.text is not None and result.text.explanation is not None
    assert all(s.weights is not None for s in result.text.explanation.spans)
    assert result.text.explanation.top(1)[0].text in ("wonderful", "love")


def test_explaining_a_shown_result_later_gives_what_the_request_would_have() -> None:
    request = AnalysisRequest(text="I am so scared of the dark :(")
    shown = analyze(request)
    later = explain_result(shown, text_model=request.text_model)
    direct = analyze(AnalysisRequest(text=request.text, explain=True))
    assert later.text is not None and direct.text is not None
    assert later.text.explanation == direct.text.explanation


def test_a_result_is_not_explained_with_another_model(tiny_model_dir: Path) -> None:
    from vsa_desktop.core.errors import ModelError

    shown = analyze(AnalysisRequest(text="hello there", text_model=str(tiny_model_dir)))
    with pytest.raises(ModelError, match="not the text model now in use"):
        explain_result(shown, text_model="builtin:lite")


def test_an_explanation_that_fails_leaves_the_reading_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vsa_desktop.core import explain
    from vsa_desktop.core.errors import ModelError

    def broken(*_args: object, **_kwargs: object) -> None:
        raise ModelError("The model file went away.")

    monkeypatch.setattr(explain, "explain_text", broken)
    result = analyze(AnalysisRequest(text="I am so happy", explain=True))
    assert result.text is not None and result.text.explanation is None
    assert result.text.label == "happy"
    assert result.warnings[-1] == (
        "The words behind the text reading could not be found: The model file went away."
    )


def test_fusion_parts_of_json_are_read_back() -> None:
    parts = FusionParts("log-evidence", {k: 0.0 for k in EMOTIONS}, {"happy": 1.0})
    again = FusionParts.from_dict(json.loads(json.dumps(parts.to_dict())))
    assert again.vision == {k: (1.0 if k == "happy" else 0.0) for k in EMOTIONS}


def test_top_words_name_each_word_once_with_its_weights_added() -> None:
    """A long text repeating a word printed '"sad" +0.00, "sad" +0.00, "sad" +0.00'."""
    from vsa_desktop.core.explanation import Span, TextExplanation

    spans = (
        Span(0, 3, "Sad", 0.5), Span(4, 7, "sad", 0.25), Span(8, 11, "bad", 0.6),
        Span(12, 15, "sad", 0.5), Span(16, 19, "meh", -0.2),
    )  # fmt: skip
    explanation = TextExplanation("lite-exact", "sad", "logit", spans)
    assert explanation.top_words(3) == [("Sad", 1.25), ("bad", 0.6)]
