"""What a reading is made of, in the window's words: faces, visual cues, the channels' parts.

- a face box under the pointer (the image preview's tooltip): its seven scores and its share
  of the image's reading;
- the visual cues a vision-language model named, as chips in the emotion's colour;
- per emotion, what the text and the image put into the fused reading (the chart's tooltip).

HTML for Qt's rich-text labels and tooltips; every text from a model is escaped.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QPointF, QRectF

from vsa_desktop.core.explain.fusion_parts import parts_of
from vsa_desktop.core.explain.highlight import EMOTION_STYLE
from vsa_desktop.core.explanation import LOG_EVIDENCE
from vsa_desktop.core.result import AnalysisResult, Face, VisionResult
from vsa_desktop.core.taxonomy import EMOTIONS


def face_rect(face: Face, target: QRectF, image_width: int) -> QRectF:
    """Where ``face``'s box is drawn when the image fills ``target``."""
    scale = target.width() / max(1, image_width)
    x, y, w, h = face.box
    return QRectF(target.x() + x * scale, target.y() + y * scale, w * scale, h * scale)


def face_at(
    faces: tuple[Face, ...], target: QRectF, image_width: int, point: QPointF
) -> Face | None:
    """The face whose box holds ``point`` (the smallest, when boxes overlap), or None."""
    hits = [f for f in faces if face_rect(f, target, image_width).contains(point)]
    return min(hits, key=lambda f: f.box[2] * f.box[3]) if hits else None


def face_tooltip(face: Face, count: int) -> str:
    """A face's seven scores, highest first, and its share of the image's reading."""
    rows = "".join(
        f"<tr><td>{e}</td><td align='right'>{face.scores.get(e, 0.0):.0%}</td></tr>"
        for e in sorted(EMOTIONS, key=lambda e: -face.scores.get(e, 0.0))
    )
    if face.share is not None and count > 1:
        share = f"{face.share:.0%} of the image's reading (by the box's area)"
    else:
        share = "the whole image's reading" if count == 1 else ""
    return f"<b>This face: {html.escape(face.label)}</b><br>{share}<table>{rows}</table>"


def cues_html(vision: VisionResult) -> str:
    """The model's visual cues as chips in their emotion's colour ("" when it named none)."""
    chips = []
    for cue in vision.cues:
        colour = EMOTION_STYLE.get(cue.emotion, {}).get("color", "#999999")
        chips.append(
            f"<span style='background-color:{_pale(colour)}; color:#000000'>"
            f"&nbsp;{html.escape(cue.text)} · {html.escape(cue.emotion)}&nbsp;</span>"
        )
    return ("<b>Cues it named:</b> " + " ".join(chips)) if chips else ""


def _pale(colour: str, keep: float = 0.45) -> str:
    """``colour`` mixed with white (rich text has no transparency): dark text stays legible."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(255 - (255 - c) * keep):02x}" for c in rgb)


def parts_tooltip(result: AnalysisResult) -> str:
    """Per emotion, the text's and the image's part of the fused reading ("" for one channel)."""
    parts = parts_of(result)
    if parts is None:
        return ""
    if parts.kind == LOG_EVIDENCE:
        intro = "What each channel put into the fused reading (log-evidence; + raised it):"
        cell = "{:+.2f}"
    else:
        intro = "What each channel put into the fused score (weight × score):"
        cell = "{:.0%}"
    rows = "".join(
        f"<tr><td>{e}</td><td align='right'>{cell.format(parts.text[e])}</td>"
        f"<td align='right'>{cell.format(parts.vision[e])}</td></tr>"
        for e in EMOTIONS
    )
    return f"{intro}<table><tr><th></th><th>text</th><th>image</th></tr>{rows}</table>"
