"""Offline vision backend: YuNet finds the faces, the mini-Xception model reads each one.

How an image is read:
1. YuNet (``cv2.FaceDetectorYN``) looks for faces on a copy whose longest side is at most
   640 px; the boxes are mapped back to the original pixels.
2. Each face is cut out as a square around its box with a 10 % margin (clamped to the
   image), turned to grayscale, resized to 64x64 and scored by the mini-Xception ONNX model
   (FER2013 labels, folded onto the seven canonical keys).
3. The image's scores are the faces' scores averaged with each face's box area as weight.

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
MODEL_NAME = "fer-mini-xception (YuNet faces)"
FER_PARTS = ("models", "fer", "fer_mini_xception.onnx")
YUNET_PARTS = ("models", "yunet", "face_detection_yunet_2023mar.onnx")

FACE_SIZE = 64  # the model's input side
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

_lock = threading.Lock()
_sessions: dict[str, Any] = {}
_detectors: dict[tuple[str, float], tuple[Any, threading.Lock]] = {}


def model_files() -> list[Path]:
    """The files whose bytes decide this backend's output (they key its calibration)."""
    return [resource_path(*FER_PARTS), resource_path(*YUNET_PARTS)]


def face_input(gray: np.ndarray) -> np.ndarray:
    """Turn a grayscale face (uint8, any size) into model input of shape (1, 1, 64, 64).

    Scaling is the one the model was trained with: ``(x / 255 - 0.5) * 2``.
    """
    import cv2

    h, w = gray.shape[:2]
    shrink = h > FACE_SIZE or w > FACE_SIZE
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    face = cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=interpolation)
    x = (face.astype(np.float32) / 255.0 - 0.5) * 2.0
    return x[None, None, :, :]


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
    """

    name = "local"

    def __init__(
        self,
        fer_path: str | Path | None = None,
        yunet_path: str | Path | None = None,
        score_threshold: float = SCORE_THRESHOLD,
    ) -> None:
        self.fer_path = Path(fer_path) if fer_path else resource_path(*FER_PARTS)
        self.yunet_path = Path(yunet_path) if yunet_path else resource_path(*YUNET_PARTS)
        self.score_threshold = score_threshold

    def analyze(
        self, image: LoadedImage, warnings: list[str], cancel: CancelToken | None = None
    ) -> VisionResult:
        """Find the faces in ``image`` and read their expressions.

        Raises:
            VisionError: kind ``no_face`` when no face is found.
            ModelNotAvailableError: when a model file is missing.
            Cancelled: when ``cancel`` is set between steps.
        """
        fer_path = _require(self.fer_path, "face-expression model")
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
        session = _session(fer_path)
        faces = []
        for box in boxes:
            check(cancel)
            region = _crop_region(box, pixels.width, pixels.height, margin=not whole_image)
            gray = np.asarray(pixels.crop(region).convert("L"))
            faces.append(_face(box, self.score_face(gray, session)))
        return _combine(faces, whole_image)

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

    def score_face(self, gray_face: np.ndarray, session: Any = None) -> np.ndarray:
        """Return the model's 7 probabilities (model order) for one grayscale face."""
        session = session or _session(_require(self.fer_path, "face-expression model"))
        output = session.run(None, {"input": face_input(gray_face)})[0]
        return np.asarray(output[0], dtype=np.float64)


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


def _combine(faces: list[Face], whole_image: bool) -> VisionResult:
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
        model=MODEL_NAME,
        scores=scores,
        label=label,
        confidence=confidence,
        description=_describe(faces, whole_image),
        faces=tuple(faces),
    )


def _describe(faces: list[Face], whole_image: bool) -> str:
    readings = [f"{f.label} ({f.scores[f.label]:.2f})" for f in faces[:5]]
    more = f", and {len(faces) - 5} more" if len(faces) > 5 else ""
    if whole_image:
        return f"1 face (the whole image): {readings[0]}"
    noun = "face" if len(faces) == 1 else "faces"
    return f"{len(faces)} {noun}: {', '.join(readings)}{more}"
