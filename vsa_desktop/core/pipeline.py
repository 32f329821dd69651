"""The one analysis call used by the GUI worker, the CLI and the tests."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vsa_desktop.core import fusion, reading
from vsa_desktop.core.cancel import CancelToken, ProgressCallback, check
from vsa_desktop.core.errors import Cancelled, InputError, VisionError, VsaError
from vsa_desktop.core.imaging import LoadedImage, load_image
from vsa_desktop.core.result import AnalysisResult, TextResult, VisionResult
from vsa_desktop.core.settings import Settings
from vsa_desktop.core.text.base import check_text
from vsa_desktop.core.text.loader import LITE_ID, load_text_analyzer

if TYPE_CHECKING:
    from vsa_desktop.core.history import HistoryStore

log = logging.getLogger(__name__)

LITE_NOTE = (
    "Text read by the built-in lite model (smaller, less accurate); download the full "
    "DistilRoBERTa model with `vsa models download` for better text scores."
)


@dataclass(frozen=True)
class AnalysisRequest:
    """What to analyze and how.

    ``text=None`` means no text; an empty string is an input error. ``image`` is a path, the
    image's bytes (``image_name`` names pasted bytes), or an image already opened with
    ``load_image`` (the GUI's drop zone has one; it is not decoded again).
    """

    text: str | None = None
    image: str | Path | bytes | LoadedImage | None = None
    image_name: str | None = None
    text_model: str = "auto"
    text_runtime: str = "auto"
    vision: str = "auto"
    weights: tuple[float, float] = fusion.DEFAULT_WEIGHTS
    fusion_rule: str = "auto"
    offline: bool = False
    settings: Settings = field(default_factory=Settings)
    notes: tuple[str, ...] = ()  # sentences about the input (e.g. its encoding), kept in warnings
    explain: bool = False  # add text.explanation and fusion.parts (``core.explain``)
    explain_every: bool = False  # with explain: word weights for all seven emotions too


def settings_request(
    settings: Settings, offline: bool | None = None, **fields: Any
) -> AnalysisRequest:
    """A request with the models, weights and fusion rule that ``settings`` choose.

    Args:
        settings: the preferences (kept in the request for the backends).
        offline: the window's Offline switch; default: what the settings say.
        **fields: the input (``text``, ``image``, ...) and anything else of the request.
    """
    return AnalysisRequest(
        text_model=settings.effective_text_model(),
        text_runtime=settings.text_runtime,
        vision=settings.vision_backend,
        weights=settings.weights,
        fusion_rule=settings.fusion_rule,
        offline=settings.effective_offline() if offline is None else offline,
        settings=settings,
        **fields,
    )


@dataclass
class _Run:
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    text_error: dict[str, str] | None = None
    vision_error: dict[str, str] | None = None
    image: LoadedImage | None = None


def analyze(
    request: AnalysisRequest,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
    *,
    history: HistoryStore | None = None,
    keep_thumbnail: bool = True,
    text_result: TextResult | None = None,
) -> AnalysisResult:
    """Run one analysis: intake, text channel, vision channel, fusion.

    A failing channel does not fail the analysis when the other one works: its reason goes
    into ``warnings`` and ``text_error``/``vision_error``.

    Args:
        request: what to analyze and how.
        cancel: checked between stages.
        progress: called with (stage, fraction) as stages start.
        history: when given, the result is added to it (with a thumbnail of the image when
            ``keep_thumbnail``); a failed write becomes a warning, the result is still returned.
        text_result: the text channel's result when the caller already has it (batch runs
            analyze texts in groups for speed); the text model is then not called again.

    Raises:
        InputError: nothing to analyze, empty text, a bad image, bad weights.
        VsaError: the only requested channel failed (e.g. text model missing).
        Cancelled: ``cancel`` was set; checked between stages.
    """
    started = time.perf_counter()
    report = progress or (lambda stage, fraction: None)
    weights = _validate(request)
    run = _Run(warnings=list(request.notes))
    if request.image is not None:
        report("image", 0.0)
        t0 = time.perf_counter()
        run.image = (
            request.image
            if isinstance(request.image, LoadedImage)
            else load_image(request.image, request.image_name)
        )
        run.timings["image"] = _ms(t0)
    check(cancel)
    text: TextResult | None
    if text_result is not None:
        text = text_result
    elif request.text is not None:
        text = _text_channel(request, run, report)
    else:
        text = None
    if text is not None:  # batch's grouped texts included
        text = reading.calibrate_text(text)
        if text.model == LITE_ID:
            run.warnings.append(LITE_NOTE)
    check(cancel)
    vision = _vision_channel(request, run, report, cancel) if run.image else None
    if vision is not None:
        vision = reading.calibrate_vision(vision)
    text, vision = reading.equal_priors(text, vision)
    check(cancel)
    report("fusion", 0.0)
    fused = reading.fuse_reading(text, vision, weights, request.fusion_rule)
    if fused is None:
        raise _nothing_worked(run)
    if text and not vision and run.image is not None:
        run.warnings.append("The image channel was not used; this reading is from the text alone.")
    if vision and not text and request.text is not None:
        run.warnings.append("The text channel was not used; this reading is from the image alone.")
    run.timings["total"] = _ms(started)
    result = AnalysisResult(
        mode=_mode(text, vision),
        text_input=request.text,
        image=run.image.info if run.image else None,
        text=text,
        vision=vision,
        fusion=fused,
        warnings=tuple(run.warnings),
        text_error=run.text_error,
        vision_error=run.vision_error,
        timings_ms=run.timings,
    )
    if request.explain:
        result = _explain(result, request, cancel)
    if history is not None:
        result = _keep(result, history, run.image if keep_thumbnail else None)
    report("done", 1.0)
    return result


def _explain(
    result: AnalysisResult, request: AnalysisRequest, cancel: CancelToken | None
) -> AnalysisResult:
    """``result`` explained; a failed explanation becomes a warning, the reading stays."""
    from vsa_desktop.core.explain import explain_result

    t0 = time.perf_counter()
    try:
        explained = explain_result(
            result,
            text_model=request.text_model,
            text_runtime=request.text_runtime,
            every=request.explain_every,
            cancel=cancel,
        )
    except Cancelled:
        raise
    except VsaError as exc:
        log.info("explanation failed: %s (%s)", exc.message, exc.detail)
        warning = f"The words behind the text reading could not be found: {exc.message}"
        return dataclasses.replace(result, warnings=(*result.warnings, warning))
    timings = {**result.timings_ms, "explain": _ms(t0)}
    timings["total"] = timings.get("total", 0.0) + timings["explain"]
    return dataclasses.replace(explained, timings_ms=timings)


def _keep(
    result: AnalysisResult, history: HistoryStore, image: LoadedImage | None
) -> AnalysisResult:
    """Add ``result`` to history; a failure becomes a warning on the returned result."""
    try:
        history.add(
            result,
            thumbnail_source=image.pixels if image else None,
            keep_thumbnail=image is not None,
        )
    except VsaError as exc:
        log.warning("history write failed: %s (%s)", exc.message, exc.detail)
        return dataclasses.replace(
            result, warnings=(*result.warnings, f"Not saved to history: {exc.message}")
        )
    return result


def _validate(request: AnalysisRequest) -> tuple[float, float]:
    if request.text is None and request.image is None:
        raise InputError("Nothing to analyze: give a text, an image, or both.")
    if request.text is not None:
        check_text(request.text)
    try:
        reading.resolve_rule(request.fusion_rule)
    except ValueError as exc:
        raise InputError(f"Bad fusion rule: {exc}.") from None
    try:
        return fusion.check_weights(*request.weights)
    except ValueError as exc:
        raise InputError(f"Bad fusion weights: {exc}.") from None


def _text_channel(
    request: AnalysisRequest, run: _Run, report: ProgressCallback
) -> TextResult | None:
    assert request.text is not None
    report("text", 0.0)
    t0 = time.perf_counter()
    try:
        analyzer = load_text_analyzer(request.text_model, request.text_runtime)
        result = analyzer.analyze(request.text)
    except VsaError as exc:
        if request.image is None:
            raise
        log.info("text channel failed: %s (%s)", exc.message, exc.detail)
        run.text_error = exc.to_dict()
        run.warnings.append(f"Text channel failed: {exc.message}")
        return None
    finally:
        run.timings["text"] = _ms(t0)
    return result


def _vision_channel(
    request: AnalysisRequest, run: _Run, report: ProgressCallback, cancel: CancelToken | None
) -> VisionResult | None:
    from vsa_desktop.core.vision.select import choose_backend

    assert run.image is not None
    report("vision", 0.0)
    t0 = time.perf_counter()
    try:
        backend, reason = choose_backend(request.vision, request.settings, request.offline)
        if backend is None:
            run.warnings.append(reason or "The vision channel was not used.")
            return None
        return backend.analyze(run.image, run.warnings, cancel)
    except VisionError as exc:
        if exc.kind != "no_face" and request.text is None:
            raise
        log.info("vision channel failed: %s (%s)", exc.message, exc.detail)
        run.vision_error = exc.to_dict()
        run.warnings.append(
            exc.message if exc.kind == "no_face" else f"Vision channel failed: {exc.message}"
        )
        return None
    except VsaError as exc:
        if request.text is None:
            raise
        run.vision_error = exc.to_dict()
        run.warnings.append(f"Vision channel failed: {exc.message}")
        return None
    finally:
        run.timings["vision"] = _ms(t0)


def _nothing_worked(run: _Run) -> VsaError:
    if run.vision_error and run.vision_error.get("kind") == "no_face":
        return VisionError(
            "No face found in the image and there is no text, so there is nothing to read: "
            "add the text that goes with it, or use the cloud vision backend.",
            kind="no_face",
        )
    return VsaError(
        " ".join(run.warnings) or "Neither channel produced a reading.", kind="no_result"
    )


def _mode(text: TextResult | None, vision: VisionResult | None) -> str:
    if text and vision:
        return "multimodal"
    return "text-only" if text else "image-only"


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0
