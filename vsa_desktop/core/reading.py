"""From raw channel outputs to the reading a person sees: calibrate each channel, then fuse.

The pipeline (GUI, CLI, batch) and the calibration scripts go through these functions, so the
numbers fitted on validation data are exactly the numbers the app shows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TypeVar

from vsa_desktop.core import fusion
from vsa_desktop.core.calibration import (
    CHANNEL_METHOD,
    EQUAL_PRIORS_METHOD,
    CalibrationSet,
    ChannelCalibration,
    load_calibration,
)
from vsa_desktop.core.result import FusionResult, TextResult, VisionResult
from vsa_desktop.core.taxonomy import top

ChannelT = TypeVar("ChannelT", TextResult, VisionResult)

LITE_KEY = "text:builtin:lite"
LOCAL_KEY = "vision:local"


def text_key(text: TextResult) -> str:
    """The calibration key of a text reading's model."""
    return f"text:{text.model}"


def vision_key(vision: VisionResult) -> str:
    """The calibration key of a vision reading's backend."""
    return f"vision:{vision.backend}"


def model_files(key: str) -> list[Path] | None:
    """The files whose bytes decide a calibratable model's output; None for other models."""
    if key == LITE_KEY:
        from vsa_desktop.core.text import lite

        return lite.model_files()
    if key == LOCAL_KEY:
        from vsa_desktop.core.vision import local

        return local.model_files()
    return None


def channel_calibration(key: str, calibration: CalibrationSet) -> ChannelCalibration | None:
    """The calibration fitted for ``key``'s exact model files, if there is one."""
    files = model_files(key)
    if not files or not all(p.is_file() for p in files):
        return None
    return calibration.channel(key, files)


def calibrate_text(text: TextResult, calibration: CalibrationSet | None = None) -> TextResult:
    """The text reading with calibrated probabilities (or marked uncalibrated)."""
    return _calibrated(text, text_key(text), calibration)


def calibrate_vision(
    vision: VisionResult, calibration: CalibrationSet | None = None
) -> VisionResult:
    """The vision reading with calibrated probabilities (or marked uncalibrated)."""
    return _calibrated(vision, vision_key(vision), calibration)


def _calibrated(channel: ChannelT, key: str, calibration: CalibrationSet | None) -> ChannelT:
    if channel.calibration is not None:  # already done (e.g. a batch's grouped texts)
        return channel
    entry = channel_calibration(key, calibration or load_calibration())
    if entry is None:
        return dataclasses.replace(channel, calibrated=False, probabilities=None)
    probabilities = entry.apply(channel.scores)
    label, confidence = top(probabilities)
    return dataclasses.replace(
        channel,
        probabilities=probabilities,
        label=label,
        confidence=confidence,
        calibrated=True,
        calibration=entry.method,
    )


def equal_priors(
    text: TextResult | None,
    vision: VisionResult | None,
    calibration: CalibrationSet | None = None,
) -> tuple[TextResult | None, VisionResult | None]:
    """Both channels on equal emotion priors, when there are two and both are calibrated.

    A channel read alone keeps its own calibration; two channels that are compared and fused
    are each moved to equal priors first (see ``core.calibration``). Uncalibrated channels
    (whose priors are unknown) stay as they are.
    """
    if text is None or vision is None:
        return text, vision
    cal = calibration or load_calibration()
    return _moved(text, text_key(text), cal), _moved(vision, vision_key(vision), cal)


def _moved(channel: ChannelT, key: str, cal: CalibrationSet) -> ChannelT:
    if channel.probabilities is None or channel.calibration != CHANNEL_METHOD:
        return channel
    entry = channel_calibration(key, cal)
    if entry is None or entry.prior is None:
        return channel
    probabilities = entry.equal_priors(channel.probabilities)
    label, confidence = top(probabilities)
    return dataclasses.replace(
        channel,
        probabilities=probabilities,
        label=label,
        confidence=confidence,
        calibration=EQUAL_PRIORS_METHOD,
    )


def resolve_rule(rule: str, calibration: CalibrationSet | None = None) -> str:
    """``auto`` becomes the rule validation chose; other names are checked."""
    if rule == "auto":
        chosen = (calibration or load_calibration()).default_rule
        return chosen if chosen in fusion.RULES else fusion.DEFAULT_RULE
    return fusion.check_rule(rule)


def fuse_reading(
    text: TextResult | None,
    vision: VisionResult | None,
    weights: tuple[float, float],
    rule: str = "auto",
    calibration: CalibrationSet | None = None,
) -> FusionResult | None:
    """Fuse two (already calibrated) channel readings with the fitted fusion map when it fits.

    The fused temperature and the measured level accuracies apply only when both channels are
    the calibrated pair the calibration file was fitted for; otherwise the pooled scores are
    shown as they are (``calibrated: false``) with the default thresholds.
    """
    cal = calibration or load_calibration()
    rule = resolve_rule(rule, cal)
    pair_fits = (
        text is not None
        and vision is not None
        and text.calibrated
        and vision.calibrated
        and (text_key(text), vision_key(vision)) == cal.pair
    )
    fusion_map = cal.fusion.get(rule) if pair_fits else None
    levels = fusion.Levels(
        mixed_min=cal.levels.get("mixed_min", fusion.MIXED_MIN),
        strong_min=cal.levels.get("strong_min", fusion.STRONG_MIN),
        stats=cal.level_stats.get(rule) if fusion_map is not None else None,
    )
    single = text if vision is None else vision if text is None else None
    return fusion.fuse(
        text.shown_scores if text else None,
        vision.shown_scores if vision else None,
        weights,
        rule,
        calibration=fusion_map,
        levels=levels,
        single_calibrated=bool(single and single.calibrated),
    )
