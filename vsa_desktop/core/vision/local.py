"""Offline vision backend: YuNet finds the faces, a small ensemble of CNNs reads each one.

How an image is read:
1. YuNet (``cv2.FaceDetectorYN``) looks for faces on a copy whose longest side is at most
   640 px; the boxes are mapped back to the original pixels.
2. Each face is cut out as a square around its box with a 10 % margin (clamped to the
   image) and turned to grayscale. Each ensemble member (``MEMBERS``: the mini-Xception
   model at 64x64 and the project's own ``fer-vgg`` at 48x48, both trained on FER2013)
   scores a few views of it (test-time augmentation: the face, its mirror image and, for
   mini-Xception, shifts of about 2 px) in one batched ONNX call; the probabilities are averaged over the views,
   then over the members with their weights (chosen on FER2013 PublicTest). These are the
   models' own probabilities, not temperature-calibrated: calibration is applied on top by
   the caller, keyed by ``model_files()``. FER2013 labels are folded onto the seven keys.
3. The image's scores are the faces' scores averaged with each face's box area as weight
   (recorded as each face's ``share``).

No face found: that is not an error of the app and not a guess; ``analyze`` raises
``VisionError(kind="no_face")`` and the pipeline goes on with the text alone.

Small-image rule: an image whose sides are both between 24 and 96 px, at most twice as long
as wide, is most likely a face crop already (FER2013's crops are 48x48 with no margin, often
too tight for a detector that needs to see the head outline). When YuNet finds nothing in
such an image, the whole image is read as one face, its box is the whole image, and a line
in ``warnings`` says so. Anything smaller is too small to show an expression: no face.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vsa_desktop.core.cancel import check
from vsa_desktop.core.errors import ModelError, ModelNotAvailableError, VisionError
from vsa_desktop.core.resources import resource_path
from vsa_desktop.core.result import Face, VisionResult
from vsa_desktop.core.taxonomy import map_scores, normalize, top

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from vsa_desktop.core.cancel import CancelToken
    from vsa_desktop.core.imaging import LoadedImage

MODEL_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
MODEL_NAME = "fer-ensemble-v2 (YuNet faces)"
BASELINE_NAME = "fer-mini-xception (YuNet faces)"
FER_PARTS = ("models", "fer", "fer_mini_xception.onnx")
VGG_PARTS = ("models", "fer-vgg", "fer_vgg.onnx")
YUNET_PARTS = ("models", "yunet", "face_detection_yunet_2023mar.onnx")

FACE_SIZE = 64  # the mini-Xception model's input side
DETECT_SIDE = 640  # longest side of the copy YuNet looks at
SMALL_SIDE = 96  # both sides at most this (and at least TINY_SIDE): whole-image rule
TINY_SIDE = 24
MARGIN = 0.10  # added on each side of the face box before cropping
SCORE_THRESHOLD = 0.8
NMS_THRESHOLD = 0.3
TOP_K = 5000
MAX_FACES = 20  # the largest faces are read; a warning says when more were found
INTRA_OP_THREADS = 1  # the model is tiny; one thread leaves the cores to the text channel

NO_FACE_MESSAGE = "No face found in the image; the image channel was not used."
WHOLE_IMAGE_WARNING = (
    "No face was detected in this small image, so the whole image was read as one face."
)

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class View:
    """One test-time view of a face: optionally mirrored, zoomed and shifted.

    ``zoom`` > 1 shows a tighter crop; ``dx``/``dy`` move the content by that fraction of
    the side. A set of views should be closed under mirroring (each view's mirror image
    is in it, ``dx`` negated) so that a mirrored face reads exactly like the face.
    """

    flip: bool = False
    zoom: float = 1.0
    dx: float = 0.0
    dy: float = 0.0


NO_TTA = (View(),)
FLIP_VIEWS = (View(), View(flip=True))
SHIFT = 0.05  # of the side: about 2 px on a 48 px face
SHIFT_VIEWS = (
    *FLIP_VIEWS,
    View(dx=SHIFT),
    View(flip=True, dx=-SHIFT),
    View(dx=-SHIFT),
    View(flip=True, dx=SHIFT),
    View(dy=-SHIFT),
    View(flip=True, dy=-SHIFT),
    View(dy=SHIFT),
    View(flip=True, dy=SHIFT),
)


@dataclass(frozen=True)
class Member:
    """One face-expression ONNX model of the ensemble and how its input is made.

    Attributes:
        parts: the file under the resources folder.
        side: the square input side in pixels.
        signed: scale pixels to ``(x / 255 - 0.5) * 2`` (mini-Xception); otherwise the
            model takes raw 0..255 values and standardises them itself (fer-vgg).
        weight: the member's share of the ensemble average.
        views: the test-time views it scores, in one batched call.
    """

    parts: tuple[str, ...]
    side: int
    signed: bool
    weight: float = 1.0
    views: tuple[View, ...] = FLIP_VIEWS


MINI_XCEPTION = Member(FER_PARTS, FACE_SIZE, signed=True)
FER_VGG = Member(VGG_PARTS, 48, signed=False)
# Weights and views chosen on FER2013 PublicTest with scripts/select_faces.py: the cheap
# mini-Xception reads ten views, fer-vgg (about 4x the cost per view) the face and mirror.
MEMBERS = (
    Member(FER_PARTS, FACE_SIZE, signed=True, weight=0.8, views=SHIFT_VIEWS),
    Member(VGG_PARTS, 48, signed=False, weight=0.2, views=FLIP_VIEWS),
)
BASELINE_MEMBERS = (MINI_XCEPTION,)

_lock = threading.Lock()
_sessions: dict[str, Any] = {}
_detectors: dict[tuple[str, float], tuple[Any, threading.Lock]] = {}


def model_files() -> list[Path]:
    """The files whose bytes decide this backend's output (they key its calibration)."""
    return [*(resource_path(*m.parts) for m in MEMBERS), resource_path(*YUNET_PARTS)]


def face_input(
    gray: np.ndarray,
    side: int = FACE_SIZE,
    signed: bool = True,
    views: tuple[View, ...] = NO_TTA,
) -> np.ndarray:
    """Turn a grayscale face (uint8, any size) into model input of shape (views, 1, side, side).

    With ``signed`` the scaling is mini-Xception's, ``(x / 255 - 0.5) * 2``; otherwise the
    pixels stay 0..255 (fer-vgg standardises each face itself).
    """
    import cv2

    h, w = gray.shape[:2]
    shrink = h > side or w > side
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    face = cv2.resize(gray, (side, side), interpolation=interpolation).astype(np.float32)
    batch = np.stack([_view(face, v) for v in views])
    if signed:
        batch = (batch / 255.0 - 0.5) * 2.0
    return np.ascontiguousarray(batch[:, None, :, :], dtype=np.float32)


def _view(face: np.ndarray, view: View) -> np.ndarray:
    """Apply one view (zoom and shift about the centre, then the mirror) to a square face."""
    out = face
    if view.zoom != 1.0 or view.dx or view.dy:
        import cv2

        side = face.shape[0]
        centre = (side - 1) / 2
        matrix = np.array(
            [
                [view.zoom, 0.0, (1 - view.zoom) * centre + view.dx * side],
                [0.0, view.zoom, (1 - view.zoom) * centre + view.dy * side],
            ]
        )
        out = cv2.warpAffine(
            face, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    return out[:, ::-1] if view.flip else out


def _require(path: Path, what: str) -> str:
    if not path.is_file():
        raise ModelNotAvailableError(
            f"The offline {what} file is missing ({path}); reinstall the app or choose the "
            "groq vision backend in Settings.",
            kind="model_missing",
        )
    return str(path)


def _session(path: str) -> Any:
    """Return the process-wide ONNX Runtime session for ``path`` (loaded on first use)."""
    with _lock:
        session = _sessions.get(path)
        if session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = INTRA_OP_THREADS
            options.inter_op_num_threads = 1
            try:
                session = ort.InferenceSession(
                    path, sess_options=options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:  # ONNX Runtime raises its own untyped errors
                raise ModelError(
                    "The offline face-expression model cannot be loaded; reinstall the app.",
                    detail=f"{path}: {exc}",
                ) from exc
            _sessions[path] = session
        return session


def _detector(path: str, score_threshold: float) -> tuple[Any, threading.Lock]:
    """Return the shared YuNet detector and the lock that guards it (it keeps state)."""
    key = (path, score_threshold)
    with _lock:
        entry = _detectors.get(key)
        if entry is None:
            import cv2

            # OpenCV 5 logs "setPreferableTarget: Targets are not supported by the new graph
            # engine" on every create; it is harmless, so it is kept out of the user's console.
            level = cv2.utils.logging.getLogLevel()
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
            try:
                detector = cv2.FaceDetectorYN.create(
                    path, "", (DETECT_SIDE, DETECT_SIDE), score_threshold, NMS_THRESHOLD, TOP_K
                )
            except cv2.error as exc:
                raise ModelError(
                    "The offline face detector cannot be loaded; reinstall the app.",
                    detail=f"{path}: {exc}",
                ) from exc
            finally:
                cv2.utils.logging.setLogLevel(level)
            entry = (detector, threading.Lock())
            _detectors[key] = entry
        return entry


class LocalFaceBackend:
    """Reads facial expressions offline (see the module docstring for the rules).

    Args:
        fer_path: the mini-Xception ONNX file; default ``resources/models/fer/...``.
        yunet_path: the YuNet ONNX file; default ``resources/models/yunet/...``.
        score_threshold: YuNet's minimum face score.
        members: the ensemble (default ``MEMBERS``; ``BASELINE_MEMBERS`` is
            mini-Xception alone).
        views: test-time views for every member instead of each member's own.
        vgg_path: the fer-vgg ONNX file; default ``resources/models/fer-vgg/...``.
    """

    name = "local"

    def __init__(
        self,
        fer_path: str | Path | None = None,
        yunet_path: str | Path | None = None,
        score_threshold: float = SCORE_THRESHOLD,
        members: tuple[Member, ...] = MEMBERS,
        views: tuple[View, ...] | None = None,
        vgg_path: str | Path | None = None,
    ) -> None:
        self.fer_path = Path(fer_path) if fer_path else resource_path(*FER_PARTS)
        self.vgg_path = Path(vgg_path) if vgg_path else resource_path(*VGG_PARTS)
        self.yunet_path = Path(yunet_path) if yunet_path else resource_path(*YUNET_PARTS)
        self.score_threshold = score_threshold
        self.members = members
        self.views = views
        shipped = members == MEMBERS and views is None
        self.model_name = MODEL_NAME if shipped else _describe_variant(members, views)

    def _member_path(self, member: Member) -> Path:
        """The file of ``member``, honouring the paths given to the constructor."""
        if member.parts == FER_PARTS:
            return self.fer_path
        if member.parts == VGG_PARTS:
            return self.vgg_path
        return resource_path(*member.parts)

    def analyze(
        self, image: LoadedImage, warnings: list[str], cancel: CancelToken | None = None
    ) -> VisionResult:
        """Find the faces in ``image`` and read their expressions.

        Raises:
            VisionError: kind ``no_face`` when no face is found.
            ModelNotAvailableError: when a model file is missing.
            Cancelled: when ``cancel`` is set between steps.
        """
        paths = self._model_paths()
        check(cancel)
        pixels = image.pixels if image.pixels.mode == "RGB" else image.pixels.convert("RGB")
        boxes = self.detect_image(pixels)
        whole_image = not boxes and _looks_like_a_face_crop(pixels.width, pixels.height)
        if whole_image:
            boxes = [(0, 0, pixels.width, pixels.height)]
            warnings.append(WHOLE_IMAGE_WARNING)
        if not boxes:
            raise VisionError(NO_FACE_MESSAGE, kind="no_face")
        if len(boxes) > MAX_FACES:
            warnings.append(f"{len(boxes)} faces were found; the {MAX_FACES} largest were read.")
            boxes = boxes[:MAX_FACES]
        sessions = [_session(path) for path in paths]
        faces = []
        for box in boxes:
            check(cancel)
            region = _crop_region(box, pixels.width, pixels.height, margin=not whole_image)
            gray = np.asarray(pixels.crop(region).convert("L"))
            faces.append(_face(box, self.score_face(gray, sessions)))
        return _combine(faces, whole_image, self.model_name)

    def _model_paths(self) -> list[str]:
        """The members' files, checked to exist."""
        return [_require(self._member_path(m), "face-expression model") for m in self.members]

    def detect_image(self, pixels: PILImage.Image) -> list[Box]:
        """Return the face boxes (x, y, w, h) in an RGB image's pixels, largest first.

        Large images are shrunk with Pillow first, which is much cheaper than converting
        all of their pixels for OpenCV.
        """
        from PIL import Image

        scale = min(1.0, DETECT_SIDE / max(pixels.width, pixels.height))
        small = pixels
        if scale < 1.0:
            size = (max(1, round(pixels.width * scale)), max(1, round(pixels.height * scale)))
            small = pixels.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
        bgr = np.ascontiguousarray(np.asarray(small)[:, :, ::-1])
        return self._detect(bgr, (pixels.width / small.width, pixels.height / small.height))

    def _detect(self, small_bgr: np.ndarray, factor: tuple[float, float]) -> list[Box]:
        """Run YuNet on ``small_bgr``; multiply the boxes by ``factor`` (x, y) to map back."""
        path = _require(self.yunet_path, "face detector")
        height, width = small_bgr.shape[:2]
        detector, lock = _detector(path, self.score_threshold)
        with lock:
            detector.setInputSize((width, height))
            _, rows = detector.detect(small_bgr)
        if rows is None:
            return []
        fx, fy = factor
        full = (round(width * fx), round(height * fy))
        boxes = [_to_box(row[:4] * (fx, fy, fx, fy), *full) for row in rows]
        boxes = [b for b in boxes if b[2] > 0 and b[3] > 0]
        return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)

    def score_face(self, gray_face: np.ndarray, sessions: list[Any] | None = None) -> np.ndarray:
        """Return the ensemble's 7 probabilities (model order) for one grayscale face.

        Each member scores all the views in one ONNX call; the views' probabilities are
        averaged, then the members' with their weights.
        """
        sessions = sessions or [_session(path) for path in self._model_paths()]
        total = np.zeros(len(MODEL_LABELS), dtype=np.float64)
        for member, session in zip(self.members, sessions, strict=True):
            batch = face_input(gray_face, member.side, member.signed, self.views or member.views)
            output = session.run(None, {"input": batch})[0]
            total += member.weight * np.asarray(output, dtype=np.float64).mean(axis=0)
        return total / sum(m.weight for m in self.members)


def _looks_like_a_face_crop(width: int, height: int) -> bool:
    """The small-image rule: small, not tiny, roughly square (see the module docstring)."""
    sides_ok = all(TINY_SIDE <= side <= SMALL_SIDE for side in (width, height))
    return sides_ok and max(width, height) <= 2 * min(width, height)


def _to_box(xywh: np.ndarray, width: int, height: int) -> Box:
    """Round a float box and clamp it to the image."""
    x0 = int(np.clip(round(float(xywh[0])), 0, width))
    y0 = int(np.clip(round(float(xywh[1])), 0, height))
    x1 = int(np.clip(round(float(xywh[0] + xywh[2])), 0, width))
    y1 = int(np.clip(round(float(xywh[1] + xywh[3])), 0, height))
    return x0, y0, x1 - x0, y1 - y0


def _crop_region(box: Box, width: int, height: int, margin: bool = True) -> Box:
    """Return (left, top, right, bottom): a square around ``box``, with margin, clamped."""
    x, y, w, h = box
    if not margin:
        return x, y, x + w, y + h
    side = max(w, h) * (1 + 2 * MARGIN)
    cx, cy = x + w / 2, y + h / 2
    left, top = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
    return left, top, min(width, round(cx + side / 2)), min(height, round(cy + side / 2))


def _face(box: Box, probabilities: np.ndarray) -> Face:
    raw = dict(zip(MODEL_LABELS, probabilities.tolist(), strict=True))
    scores = normalize(map_scores(raw)[0])
    return Face(box=box, scores=scores, label=top(scores)[0])


def _describe_variant(members: tuple[Member, ...], views: tuple[View, ...] | None) -> str:
    """A model name for a configuration other than the shipped one (evaluation scripts)."""
    if members == BASELINE_MEMBERS and views == NO_TTA:
        return BASELINE_NAME
    names = "+".join(
        f"{Path(m.parts[-1]).stem}x{m.weight:g}/{len(views or m.views)} views" for m in members
    )
    return f"{names} (YuNet faces)"


def _combine(faces: list[Face], whole_image: bool, model_name: str = MODEL_NAME) -> VisionResult:
    """Average the faces' scores weighted by box area; describe them in plain words."""
    areas = np.array([max(1, f.box[2] * f.box[3]) for f in faces], dtype=np.float64)
    weights = areas / areas.sum()
    combined = {
        key: float(sum(w * f.scores[key] for w, f in zip(weights, faces, strict=True)))
        for key in faces[0].scores
    }
    scores = normalize(combined)
    label, confidence = top(scores)
    return VisionResult(
        backend="local",
        model=model_name,
        scores=scores,
        label=label,
        confidence=confidence,
        description=_describe(faces, whole_image),
        faces=tuple(replace(f, share=float(w)) for f, w in zip(faces, weights, strict=True)),
    )


def _describe(faces: list[Face], whole_image: bool) -> str:
    # the label only: the face model's own score beside the image's calibrated percentage
    # would be two numbers for one face (each face's seven scores are in ``faces``)
    readings = [f.label for f in faces[:5]]
    more = f", and {len(faces) - 5} more" if len(faces) > 5 else ""
    if whole_image:
        return f"1 face (the whole image): {readings[0]}"
    noun = "face" if len(faces) == 1 else "faces"
    return f"{len(faces)} {noun}: {', '.join(readings)}{more}"
