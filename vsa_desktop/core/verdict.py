"""The words a person reads about a result: headline, agreement verdict, what it means.

One place for them, so the window, the chart title, the exports and the command line say the
same thing with the same numbers. Every sentence names the labels the channels actually gave:
two channels with the same top label are never called mixed or divergent.
"""

from __future__ import annotations

from vsa_desktop.core.result import Agreement, AnalysisResult, FusionResult

VERDICT_TITLES = {
    "consistent": "Consistent",
    "different-strength": "Same emotion, different strength",
    "mixed": "Mixed signals",
    "divergent": "Divergent",
}


def percent(value: float) -> str:
    """The one way a probability is written: ``81 %`` (rounded to a whole percent).

    A probability that is not exactly 0 or 1 never rounds to "0 %" or "100 %": a calibrated
    0.997 is written "> 99 %", so the window never claims a certainty the model does not have.
    """
    if 0.995 <= value < 1.0:
        return "> 99 %"
    if 0.0 < value < 0.005:
        return "< 1 %"
    return f"{round(100 * value):d} %"


def verdict_of(agreement: Agreement) -> str:
    """The verdict key, also for older results that only stored a level."""
    if agreement.verdict in VERDICT_TITLES:
        return agreement.verdict
    if agreement.same_label:  # old files could say "divergent" with the same label: not any more
        return "consistent"
    return agreement.level if agreement.level in ("mixed", "divergent") else "mixed"


def is_mixed(result: AnalysisResult) -> bool:
    """True when the channels name different labels (mixed or divergent)."""
    fusion = result.fusion
    if fusion is None or fusion.agreement is None or not (result.text and result.vision):
        return False
    return verdict_of(fusion.agreement) in ("mixed", "divergent")


def reading(fusion: FusionResult) -> str:
    """``Happy 81 %``: the fused label and the one confidence shown everywhere."""
    return f"{fusion.label.capitalize()} {percent(fusion.confidence)}"


def headline(result: AnalysisResult) -> str:
    """``Happy 81 %``, or ``Mixed signals: text sad, image fear (fused Sad 64 %)``."""
    fusion = result.fusion
    if fusion is None:
        return "No reading."
    if not is_mixed(result):
        return reading(fusion)
    assert result.text and result.vision and fusion.agreement
    title = VERDICT_TITLES[verdict_of(fusion.agreement)]
    return (
        f"{title}: text {result.text.label}, image {result.vision.label} (fused {reading(fusion)})"
    )


def agreement_sentence(result: AnalysisResult) -> str:
    """The verdict in one sentence that names the channels' labels."""
    fusion = result.fusion
    if fusion is None:
        return "No fused reading."
    if fusion.agreement is None or not (result.text and result.vision):
        channel = "text" if fusion.single_channel == "text" else "image"
        return f"One channel only ({channel}): no agreement to measure."
    agreement = fusion.agreement
    key = verdict_of(agreement)
    text, vision = result.text, result.vision
    score = f"agreement {agreement.score:.2f}"
    if key == "consistent":
        return f"Consistent: the text and the image both read {text.label} ({score})."
    if key == "different-strength":
        return (
            f"Same emotion, different strength: both read {text.label}, the text at "
            f"{percent(text.confidence)}, the image at {percent(vision.confidence)} ({score})."
        )
    if key == "mixed":
        sentence = (
            f"Mixed signals: the text reads {text.label}, the image reads {vision.label} ({score})."
        )
    else:
        sentence = (
            f"Divergent: the text reads {text.label}, the image reads {vision.label}; they "
            f"probably express different emotions ({score})."
        )
    return sentence + third_label_note(result)


def third_label_note(result: AnalysisResult) -> str:
    """Why the fused label can be neither channel's: each channel gives the other's first
    choice almost nothing, so a third emotion both give something to wins the product."""
    fusion, text, vision = result.fusion, result.text, result.vision
    if fusion is None or text is None or vision is None:
        return ""
    if fusion.label in (text.label, vision.label):
        return ""
    t = percent(text.shown_scores.get(fusion.label, 0.0))
    v = percent(vision.shown_scores.get(fusion.label, 0.0))
    return (
        f" The fused reading, {fusion.label}, is neither channel's first choice: it scores "
        f"best when both are taken together (text {t}, image {v})."
    )


def level_meaning(fusion: FusionResult) -> str:
    """What this verdict meant on the validation pairs; empty when it was not measured."""
    agreement = fusion.agreement
    if agreement is None or agreement.validated_accuracy is None:
        return ""
    key = verdict_of(agreement)
    right = percent(agreement.validated_accuracy)
    if key in ("consistent", "different-strength"):
        return f"In validation, readings like this were right {right} of the time."
    share = agreement.validated_same_share
    one = f"{percent(share)} of such pairs expressed one emotion; " if share is not None else ""
    return f"In validation, {one}the fused label was then right {right} of the time."


def fusion_words(fusion: FusionResult) -> str:
    """``product, text 50 % / image 50 %``, or ``text only`` for one channel."""
    if fusion.single_channel:
        return f"{'text' if fusion.single_channel == 'text' else 'image'} only"
    text_w, image_w = fusion.weights.get("text", 0.0), fusion.weights.get("vision", 0.0)
    return f"{fusion.rule}, text {percent(text_w)} / image {percent(image_w)}"


def calibration_words(calibrated: bool) -> str:
    """``calibrated`` or ``raw scores, not calibrated`` (for detail lines)."""
    return "calibrated" if calibrated else "raw scores, not calibrated"


def confidence_sentence(fusion: FusionResult) -> str:
    """What the shown percentage is."""
    if fusion.calibrated:
        if fusion.single_channel:
            return "The percentage is the calibrated probability that this label is right."
        return (
            "The percentage is the calibrated probability that the fused label is the emotion "
            "this post expresses (a text and image that express two emotions lower it)."
        )
    return "The percentage is the model's own score, not calibrated for these models."
