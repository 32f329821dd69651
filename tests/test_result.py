"""The vsa.result/1 JSON: shape and round trip."""

from __future__ import annotations

import json

import pytest

from vsa_desktop.core.fusion import fuse
from vsa_desktop.core.result import (
    SCHEMA,
    AnalysisResult,
    Face,
    ImageInfo,
    TextResult,
    VisionResult,
)
from vsa_desktop.core.taxonomy import EMOTIONS, top


def scores(**kw: float) -> dict[str, float]:
    raw = {k: kw.get(k, 0.01) for k in EMOTIONS}
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}


def sample() -> AnalysisResult:
    t = scores(happy=0.8)
    v = scores(happy=0.5, surprise=0.3)
    text = TextResult("tiny", "torch", t, *top(t), chunks=2)
    vision = VisionResult(
        "local",
        "fer",
        v,
        *top(v),
        description="1 face: happy",
        faces=(Face((1, 2, 30, 40), v, "happy"),),
    )
    return AnalysisResult(
        mode="multimodal",
        text_input="We won! 🎉",
        image=ImageInfo("a.png", "ab" * 32, 512, 256),
        text=text,
        vision=vision,
        fusion=fuse(t, v, (0.6, 0.4)),
        warnings=("note",),
        timings_ms={"text": 12.345, "vision": 3.0, "total": 16.0},
    )


def test_document_has_the_design_shape() -> None:
    d = sample().to_dict()
    assert d["schema"] == SCHEMA
    assert set(d) >= {
        "schema",
        "id",
        "created_at",
        "mode",
        "input",
        "text",
        "vision",
        "fusion",
        "warnings",
        "timings_ms",
    }
    assert d["created_at"].endswith("Z")
    for block in (d["text"], d["vision"], d["fusion"]):
        assert list(block["scores"]) == list(EMOTIONS)
        assert sum(block["scores"].values()) == pytest.approx(1.0, abs=1e-6)
    assert d["fusion"]["agreement"]["level"] in ("consistent", "mixed", "divergent")
    assert d["vision"]["faces"][0]["box"] == [1, 2, 30, 40]
    assert d["input"]["image"] == {
        "name": "a.png",
        "sha256": "ab" * 32,
        "width": 512,
        "height": 256,
    }
    assert "expressed" in d["notice"]


def test_json_round_trip_is_exact() -> None:
    original = sample()
    again = AnalysisResult.from_json(original.to_json())
    assert again.to_dict() == original.to_dict()
    assert json.loads(again.to_json(indent=None)) == original.to_dict()


def test_errors_are_kept_and_missing_channels_are_null() -> None:
    t = scores(sad=0.9)
    r = AnalysisResult(
        mode="text-only",
        text_input="x",
        image=None,
        text=TextResult("m", "torch", t, *top(t)),
        vision=None,
        fusion=fuse(t, None),
        vision_error={"kind": "auth", "message": "The Groq API key was rejected."},
    )
    d = r.to_dict()
    assert d["vision"] is None and d["vision_error"]["kind"] == "auth"
    assert d["fusion"]["single_channel"] == "text"
    assert AnalysisResult.from_dict(d).to_dict() == d


def test_other_documents_are_refused() -> None:
    with pytest.raises(ValueError, match=r"vsa\.result/1"):
        AnalysisResult.from_dict({"schema": "something/2"})


def test_json_escapes_what_a_terminal_would_obey_and_keeps_the_value() -> None:
    from vsa_desktop.core.result import AnalysisResult

    tricky = "caf\u00e9 \u202egnp.exe \x9b31m 今天"
    result = AnalysisResult("text-only", tricky, None, None, None, None)
    text = result.to_json()
    assert "\u202e" not in text and "\x9b" not in text
    assert "\\u202e" in text and "\\u009b" in text and "café" in text and "今天" in text
    assert AnalysisResult.from_json(text).text_input == tricky
