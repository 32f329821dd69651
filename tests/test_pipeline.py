"""The one analysis call: modes, errors, cancellation, progress, timings."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import Cancelled, ImageError, InputError, ModelNotAvailableError
from vsa_desktop.core.pipeline import AnalysisRequest, analyze
from vsa_desktop.core.result import AnalysisResult


def test_text_only_result(tiny_model_dir: Path) -> None:
    stages: list[str] = []
    r = analyze(
        AnalysisRequest(text="I can't believe we won!", text_model=str(tiny_model_dir)),
        progress=lambda stage, _f: stages.append(stage),
    )
    assert r.mode == "text-only" and r.vision is None and r.text is not None
    assert r.fusion is not None and r.fusion.single_channel == "text"
    assert r.fusion.scores == r.text.scores
    assert math.fsum(r.fusion.scores.values()) == pytest.approx(1.0, abs=1e-6)
    assert {"text", "total"} <= set(r.timings_ms) and r.timings_ms["total"] >= r.timings_ms["text"]
    assert stages[0] == "text" and stages[-1] == "done"
    assert AnalysisResult.from_json(r.to_json()).to_dict() == r.to_dict()


def test_nothing_to_analyze_and_empty_text_are_input_errors() -> None:
    with pytest.raises(InputError, match="Nothing to analyze"):
        analyze(AnalysisRequest())
    with pytest.raises(InputError, match="empty"):
        analyze(AnalysisRequest(text="  "))


def test_bad_weights_are_an_input_error(tiny_model_dir: Path) -> None:
    with pytest.raises(InputError, match="weights"):
        analyze(AnalysisRequest(text="hi", text_model=str(tiny_model_dir), weights=(0.9, 0.9)))


def test_missing_text_model_fails_a_text_only_request(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError):
        analyze(AnalysisRequest(text="hi", text_model=str(tmp_path / "none")))


def test_cancel_before_start_raises_cancelled(tiny_model_dir: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        analyze(AnalysisRequest(text="hi", text_model=str(tiny_model_dir)), cancel=token)


def test_cancel_between_stages(tiny_model_dir: Path) -> None:
    token = CancelToken()

    def progress(stage: str, _fraction: float) -> None:
        if stage == "text":
            token.cancel()

    with pytest.raises(Cancelled):
        analyze(AnalysisRequest(text="hi", text_model=str(tiny_model_dir)), token, progress)


def test_broken_image_is_an_input_error(tmp_path: Path, tiny_model_dir: Path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    with pytest.raises(ImageError, match="not an image"):
        analyze(AnalysisRequest(text="hi", image=bad, text_model=str(tiny_model_dir)))


def test_vision_none_gives_a_text_reading_that_says_the_image_was_not_used(
    tiny_model_dir: Path,
) -> None:
    image = Path(__file__).parent / "data" / "astronaut.png"
    if not image.exists():
        pytest.skip("tests/data/astronaut.png is added with the vision channel")
    r = analyze(
        AnalysisRequest(text="We won!", image=image, vision="none", text_model=str(tiny_model_dir))
    )
    assert r.mode == "text-only" and r.image is not None and r.image.width == 512
    assert any("switched off" in w for w in r.warnings)
    assert any("image channel was not used" in w for w in r.warnings)


def test_image_only_without_a_face_says_there_is_nothing_to_read(tmp_path: Path) -> None:
    from PIL import Image

    from vsa_desktop.core.errors import VisionError

    flat = tmp_path / "wall.png"
    Image.new("RGB", (320, 240), (120, 140, 160)).save(flat)
    with pytest.raises(VisionError, match="No face found") as caught:
        analyze(AnalysisRequest(image=flat, vision="local", offline=True))
    assert caught.value.kind == "no_face"


def test_an_opened_image_is_used_as_is(tmp_path: Path, tiny_model_dir: Path) -> None:
    import shutil

    from vsa_desktop.core.imaging import load_image

    copy = tmp_path / "photo.png"
    shutil.copy(Path(__file__).parent / "data" / "astronaut.png", copy)
    opened = load_image(copy)
    copy.unlink()  # the pipeline must not go back to the file
    r = analyze(AnalysisRequest(image=opened, vision="local", offline=True))
    assert r.image == opened.info and r.vision is not None and r.vision.label == "happy"


def test_the_lite_note_comes_with_every_lite_text_result() -> None:
    from vsa_desktop.core.text.loader import LITE_ID, load_text_analyzer

    direct = analyze(AnalysisRequest(text="I miss her so much", text_model=LITE_ID))
    given = load_text_analyzer(LITE_ID).analyze("I miss her so much")
    grouped = analyze(
        AnalysisRequest(text="I miss her so much", text_model=LITE_ID), text_result=given
    )
    assert any("lite model" in w for w in direct.warnings)
    assert direct.warnings == grouped.warnings
