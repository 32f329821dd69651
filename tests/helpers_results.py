"""Build sample AnalysisResult objects for tests with the real fusion code (no faked predictions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vsa_desktop.core.fusion import fuse
from vsa_desktop.core.result import AnalysisResult, ImageInfo, TextResult, VisionResult
from vsa_desktop.core.taxonomy import normalize, top

SAMPLE_SHA256 = "ab" * 32


def make_result(
    text_scores: Mapping[str, float] | None = None,
    vision_scores: Mapping[str, float] | None = None,
    *,
    text: str | None = None,
    image_name: str | None = None,
    weights: tuple[float, float] = (0.5, 0.5),
    warnings: Sequence[str] = (),
    created_at: str | None = None,
    text_model: str = "tiny-roberta-test",
    vision_backend: str = "local",
    vision_model: str = "mini-xception-test",
    description: str = "",
) -> AnalysisResult:
    """Return a result whose channels carry the given scores and whose fusion is real.

    Scores may be partial or unnormalised ({"happy": 3, "sad": 1}); they are normalised over
    the seven keys. ``text`` defaults to a sample sentence when ``text_scores`` is given, and
    ``image_name`` to "photo.jpg" when ``vision_scores`` is given.
    """
    text_result = vision_result = None
    image = None
    if text_scores is not None:
        scores = normalize(text_scores)
        label, conf = top(scores)
        text_result = TextResult(text_model, "torch", scores, label, conf)
        text = "A sample sentence for the tests." if text is None else text
    if vision_scores is not None:
        scores = normalize(vision_scores)
        label, conf = top(scores)
        vision_result = VisionResult(vision_backend, vision_model, scores, label, conf, description)
        image = ImageInfo(image_name or "photo.jpg", SAMPLE_SHA256, 640, 480)
    if text_result and vision_result:
        mode = "multimodal"
    elif text_result:
        mode = "text-only"
    else:
        mode = "image-only"
    fusion = fuse(
        text_result.scores if text_result else None,
        vision_result.scores if vision_result else None,
        weights,
    )
    extra = {"created_at": created_at} if created_at else {}
    return AnalysisResult(
        mode=mode,
        text_input=text,
        image=image,
        text=text_result,
        vision=vision_result,
        fusion=fusion,
        warnings=tuple(warnings),
        timings_ms={"total": 12.5},
        **extra,
    )
