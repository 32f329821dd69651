"""The immutable analysis result and its ``vsa.result/1`` JSON form."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vsa_desktop.core.explanation import Cue, FusionParts, TextExplanation
from vsa_desktop.core.taxonomy import EMOTIONS

SCHEMA = "vsa.result/1"
NOTICE = "Scores describe the emotion expressed in the text and image, not a person's inner state."

Scores = dict[str, float]


def _scores(data: dict[str, Any] | None) -> Scores:
    data = data or {}
    return {key: float(data.get(key, 0.0)) for key in EMOTIONS}


def _optional_scores(data: dict[str, Any] | None) -> Scores | None:
    return _scores(data) if data else None


def _calibration_fields(obj: TextResult | VisionResult | FusionResult) -> dict[str, Any]:
    """``calibrated`` always; ``calibration`` and ``probabilities`` when calibrated."""
    d: dict[str, Any] = {"calibrated": obj.calibrated}
    if obj.calibration:
        d["calibration"] = obj.calibration
    if obj.probabilities is not None:
        d["probabilities"] = dict(obj.probabilities)
    return d


def _calibration_args(d: dict[str, Any]) -> dict[str, Any]:
    """Older ``vsa.result/1`` files have no calibration keys: they read as uncalibrated."""
    return {
        "probabilities": _optional_scores(d.get("probabilities")),
        "calibrated": bool(d.get("calibrated", False)),
        "calibration": d.get("calibration"),
    }


@dataclass(frozen=True)
class ImageInfo:
    """What is recorded about the input image (never the pixels)."""

    name: str
    sha256: str
    width: int
    height: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageInfo:
        return cls(str(d["name"]), str(d["sha256"]), int(d["width"]), int(d["height"]))


@dataclass(frozen=True)
class TextResult:
    """The text channel's reading.

    ``scores`` are the model's own probabilities; ``probabilities`` the calibrated ones when
    the model is calibrated (``label`` and ``confidence`` then come from them).
    """

    model: str
    runtime: str
    scores: Scores
    label: str
    confidence: float
    chunks: int = 1
    probabilities: Scores | None = None
    calibrated: bool = False
    calibration: str | None = None
    explanation: TextExplanation | None = None  # on request only (``core.explain``)

    @property
    def shown_scores(self) -> Scores:
        """The probabilities a person sees: calibrated when available."""
        return self.probabilities if self.probabilities is not None else self.scores

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "runtime": self.runtime,
            "scores": dict(self.scores),
            "label": self.label,
            "confidence": self.confidence,
            "chunks": self.chunks,
            **_calibration_fields(self),
            **({"explanation": self.explanation.to_dict()} if self.explanation else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TextResult:
        explanation = d.get("explanation")
        return cls(
            model=str(d["model"]),
            runtime=str(d["runtime"]),
            scores=_scores(d["scores"]),
            label=str(d["label"]),
            confidence=float(d["confidence"]),
            chunks=int(d.get("chunks", 1)),
            **_calibration_args(d),
            explanation=TextExplanation.from_dict(explanation) if explanation else None,
        )


@dataclass(frozen=True)
class Face:
    """One face found by the local backend: its box (x, y, w, h) in image pixels.

    ``share`` is the face's weight in the image's reading (the shares sum to 1); None in
    files from before shares were recorded.
    """

    box: tuple[int, int, int, int]
    scores: Scores
    label: str
    share: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "box": list(self.box),
            "scores": dict(self.scores),
            "label": self.label,
        }
        if self.share is not None:
            d["share"] = self.share
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Face:
        x, y, w, h = (int(v) for v in d["box"])
        share = d.get("share")
        return cls(
            box=(x, y, w, h),
            scores=_scores(d["scores"]),
            label=str(d["label"]),
            share=float(share) if share is not None else None,
        )


@dataclass(frozen=True)
class VisionResult:
    """The vision channel's reading (``scores``/``probabilities`` as in ``TextResult``)."""

    backend: str
    model: str
    scores: Scores
    label: str
    confidence: float
    description: str = ""
    faces: tuple[Face, ...] = ()
    probabilities: Scores | None = None
    calibrated: bool = False
    calibration: str | None = None
    cues: tuple[Cue, ...] = ()  # visual cues a vision-language model named (never invented)

    @property
    def shown_scores(self) -> Scores:
        """The probabilities a person sees: calibrated when available."""
        return self.probabilities if self.probabilities is not None else self.scores

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self.model,
            "scores": dict(self.scores),
            "label": self.label,
            "confidence": self.confidence,
            "description": self.description,
            "faces": [f.to_dict() for f in self.faces],
            **_calibration_fields(self),
            **({"cues": [c.to_dict() for c in self.cues]} if self.cues else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VisionResult:
        return cls(
            backend=str(d["backend"]),
            model=str(d["model"]),
            scores=_scores(d["scores"]),
            label=str(d["label"]),
            confidence=float(d["confidence"]),
            description=str(d.get("description", "")),
            faces=tuple(Face.from_dict(f) for f in d.get("faces", [])),
            **_calibration_args(d),
            cues=tuple(Cue.from_dict(c) for c in d.get("cues", [])),
        )


@dataclass(frozen=True)
class Agreement:
    """How far the two channels agree.

    ``level`` is consistent, mixed or divergent; ``verdict`` refines consistent into
    ``consistent`` and ``different-strength`` (same label, weak agreement);
    ``validated_accuracy`` is how often fused labels at this verdict were right on the
    validation pairs that expressed one emotion, ``validated_same_share`` how many of the
    validation pairs with this verdict did (both None when not measured for these models).
    """

    same_label: bool
    score: float
    level: str
    verdict: str = ""
    validated_accuracy: float | None = None
    validated_same_share: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "same_label": self.same_label,
            "score": self.score,
            "level": self.level,
        }
        if self.verdict:
            d["verdict"] = self.verdict
        if self.validated_accuracy is not None:
            d["validated_accuracy"] = self.validated_accuracy
        if self.validated_same_share is not None:
            d["validated_same_share"] = self.validated_same_share
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Agreement:
        accuracy, same_share = d.get("validated_accuracy"), d.get("validated_same_share")
        return cls(
            bool(d["same_label"]),
            float(d["score"]),
            str(d["level"]),
            verdict=str(d.get("verdict", "")),
            validated_accuracy=float(accuracy) if accuracy is not None else None,
            validated_same_share=float(same_share) if same_share is not None else None,
        )


@dataclass(frozen=True)
class FusionResult:
    """The fused reading. ``agreement`` is None for a single-channel result.

    ``scores`` are the pooled channel probabilities (by ``rule``); ``probabilities`` the
    calibrated distribution when the channel pair is calibrated. ``confidence`` is the one
    number shown for the reading everywhere: the top of ``probabilities`` (else of ``scores``).
    """

    weights: dict[str, float]
    scores: Scores
    label: str
    confidence: float
    agreement: Agreement | None
    single_channel: str | None = None
    rule: str = "weighted"
    probabilities: Scores | None = None
    calibrated: bool = False
    calibration: str | None = None
    parts: FusionParts | None = None  # on request only (``core.explain.fusion_parts``)

    @property
    def shown_scores(self) -> Scores:
        """The probabilities a person sees: calibrated when available."""
        return self.probabilities if self.probabilities is not None else self.scores

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "weights": dict(self.weights),
            "rule": self.rule,
            "scores": dict(self.scores),
            "label": self.label,
            "confidence": self.confidence,
            "agreement": self.agreement.to_dict() if self.agreement else None,
            **_calibration_fields(self),
        }
        if self.single_channel:
            d["single_channel"] = self.single_channel
        if self.parts is not None:
            d["parts"] = self.parts.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FusionResult:
        agreement, parts = d.get("agreement"), d.get("parts")
        return cls(
            weights={k: float(v) for k, v in d["weights"].items()},
            scores=_scores(d["scores"]),
            label=str(d["label"]),
            confidence=float(d["confidence"]),
            agreement=Agreement.from_dict(agreement) if agreement else None,
            single_channel=d.get("single_channel"),
            rule=str(d.get("rule", "weighted")),  # files before rules existed used this one
            **_calibration_args(d),
            parts=FusionParts.from_dict(parts) if parts else None,
        )


# C1 controls, and the bidirectional formatting characters (embeddings, overrides, isolates).
_INVISIBLE = re.compile("[\u0080-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_invisible(text: str) -> str:
    """Write C1 controls and bidi formatting characters in JSON text as ``\\uXXXX``."""
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def new_id() -> str:
    """Return a fresh result id."""
    return str(uuid.uuid4())


def utc_now() -> str:
    """Return the current time as ISO-8601 UTC with a Z suffix, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class AnalysisResult:
    """One analysis, immutable. ``to_dict`` gives exactly the ``vsa.result/1`` document."""

    mode: str
    text_input: str | None
    image: ImageInfo | None
    text: TextResult | None
    vision: VisionResult | None
    fusion: FusionResult | None
    warnings: tuple[str, ...] = ()
    text_error: dict[str, str] | None = None
    vision_error: dict[str, str] | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    id: str = field(default_factory=new_id)
    created_at: str = field(default_factory=utc_now)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "schema": SCHEMA,
            "id": self.id,
            "created_at": self.created_at,
            "mode": self.mode,
            "notice": NOTICE,
            "input": {
                "text": self.text_input,
                "image": self.image.to_dict() if self.image else None,
            },
            "text": self.text.to_dict() if self.text else None,
            "vision": self.vision.to_dict() if self.vision else None,
            "fusion": self.fusion.to_dict() if self.fusion else None,
            "warnings": list(self.warnings),
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
        if self.text_error:
            d["text_error"] = dict(self.text_error)
        if self.vision_error:
            d["vision_error"] = dict(self.vision_error)
        return d

    def to_json(self, indent: int | None = 2) -> str:
        """Return the ``vsa.result/1`` JSON text.

        Readable Unicode stays as it is; C1 controls and bidirectional overrides (which a
        terminal obeys) are written as ``\\uXXXX`` escapes: the same JSON value, harmless on
        screen.
        """
        return escape_invisible(json.dumps(self.to_dict(), indent=indent, ensure_ascii=False))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AnalysisResult:
        """Rebuild a result from its ``vsa.result/1`` document.

        Raises:
            ValueError: when the document is not a ``vsa.result/1`` result.
        """
        if d.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document (schema={d.get('schema')!r})")
        inp = d.get("input") or {}
        image = inp.get("image")
        return cls(
            id=str(d["id"]),
            created_at=str(d["created_at"]),
            mode=str(d["mode"]),
            text_input=inp.get("text"),
            image=ImageInfo.from_dict(image) if image else None,
            text=TextResult.from_dict(d["text"]) if d.get("text") else None,
            vision=VisionResult.from_dict(d["vision"]) if d.get("vision") else None,
            fusion=FusionResult.from_dict(d["fusion"]) if d.get("fusion") else None,
            warnings=tuple(d.get("warnings", [])),
            text_error=d.get("text_error"),
            vision_error=d.get("vision_error"),
            timings_ms={k: float(v) for k, v in (d.get("timings_ms") or {}).items()},
        )

    @classmethod
    def from_json(cls, text: str) -> AnalysisResult:
        """Parse ``vsa.result/1`` JSON text."""
        return cls.from_dict(json.loads(text))
