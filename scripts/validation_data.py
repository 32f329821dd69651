"""Validation data for calibration and the validation report: items, channel outputs, pairs.

Only the train/validation splits in ``../shared/data`` are read: FER2013 ``publictest`` faces
and GoEmotions-Ekman ``dev`` texts (the shipped models were fitted on the train splits, so
their outputs on train data would be over-confident and are not used). The held-out test splits
are not on this machine and are never looked for.

Channel outputs are computed through the app's own analyzers (``LiteTextAnalyzer``,
``LocalFaceBackend.analyze`` on the decoded jpg, exactly what ``vsa batch --vision local`` does)
and cached in ``.cache/validation/`` under a key made of the model files' sha256, so a changed
model is never paired with stale outputs.

Pairs follow the protocol the project is judged by: the same number of pairs for each of the
seven emotions; a same-emotion pair is a random face and a random single-label text of that
emotion; a different-emotion pair keeps the face and takes a text of another emotion chosen
uniformly.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
FER_DIR = SHARED_DATA / "fer2013" / "publictest"
GOEMOTIONS_DIR = SHARED_DATA / "goemotions-ekman"
CACHE_DIR = ROOT / ".cache" / "validation"
SEED = 20261130

sys.path.insert(0, str(ROOT))

from vsa_desktop.core.taxonomy import EMOTIONS, canonical  # noqa: E402

EMOTION_INDEX = {key: i for i, key in enumerate(EMOTIONS)}


@dataclass(frozen=True)
class Channel:
    """One channel's outputs on its validation items: probabilities (n, 7) and true labels (n,)."""

    name: str
    model: str
    fingerprint: str
    probs: np.ndarray
    labels: np.ndarray
    items: tuple[str, ...]

    def by_label(self) -> dict[int, np.ndarray]:
        """Indices of the items of each label."""
        return {k: np.flatnonzero(self.labels == k) for k in range(len(EMOTIONS))}


@dataclass(frozen=True)
class Pairs:
    """Index pairs into the text and face channels, with each pair's truth.

    ``same`` marks same-emotion pairs; ``text_label``/``face_label`` are the true labels.
    """

    text_index: np.ndarray
    face_index: np.ndarray
    text_label: np.ndarray
    face_label: np.ndarray

    @property
    def same(self) -> np.ndarray:
        return self.text_label == self.face_label

    def subset(self, mask: np.ndarray) -> Pairs:
        return Pairs(
            self.text_index[mask],
            self.face_index[mask],
            self.text_label[mask],
            self.face_label[mask],
        )


def fingerprint(files: Sequence[Path]) -> str:
    """sha256 over the bytes of ``files`` (in order), the first 16 hex digits."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def read_dev_texts(path: Path | None = None) -> list[tuple[str, int]]:
    """Single-label GoEmotions-Ekman dev rows as (text, emotion index)."""
    path = path or GOEMOTIONS_DIR / "dev.tsv"
    names = (GOEMOTIONS_DIR / "labels.txt").read_text("utf-8").split()
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            ids = row[1].split(",")
            if len(ids) != 1:
                continue
            key = canonical(names[int(ids[0])])
            assert key is not None
            rows.append((row[0], EMOTION_INDEX[key]))
    return rows


def read_faces(folder: Path | None = None) -> list[tuple[Path, int]]:
    """FER2013 faces in class folders as (path, emotion index), sorted by path."""
    folder = folder or FER_DIR
    faces = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        key = canonical(sub.name)
        assert key is not None, sub
        faces += [(path, EMOTION_INDEX[key]) for path in sorted(sub.glob("*.jpg"))]
    return faces


def _cached(name: str, key: str, compute: object) -> dict[str, np.ndarray]:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"{name}-{key}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    arrays = compute()  # type: ignore[operator]
    np.savez_compressed(path, **arrays)
    return arrays


def text_channel(limit: int | None = None) -> Channel:
    """The lite text model's outputs on the single-label dev texts."""
    from vsa_desktop.core.text import lite

    rows = read_dev_texts()[:limit]
    files = lite.model_files() if hasattr(lite, "model_files") else [lite.default_model_path()]
    key = fingerprint(files)

    def compute() -> dict[str, np.ndarray]:
        analyzer = lite.load_lite()
        results = analyzer.analyze_batch([text for text, _ in rows])
        probs = np.array([[r.scores[k] for k in EMOTIONS] for r in results])
        return {"probs": probs, "labels": np.array([label for _, label in rows])}

    data = _cached(f"text-lite-{len(rows)}", key, compute)
    texts = tuple(text for text, _ in rows)
    return Channel("text", "builtin:lite", key, data["probs"], data["labels"], texts)


def face_channel(limit: int | None = None) -> Channel:
    """The local face backend's outputs on the publictest faces, through the app's own path."""
    from vsa_desktop.core.imaging import load_image
    from vsa_desktop.core.vision import local

    faces = read_faces()
    if limit:
        faces = faces[:: max(1, len(faces) // limit)][:limit]
    files = (
        local.model_files()
        if hasattr(local, "model_files")
        else [local.resource_path(*local.FER_PARTS), local.resource_path(*local.YUNET_PARTS)]
    )
    key = fingerprint(files)

    def compute() -> dict[str, np.ndarray]:
        backend = local.LocalFaceBackend()
        probs = np.zeros((len(faces), len(EMOTIONS)))
        for i, (path, _) in enumerate(faces):
            result = backend.analyze(load_image(path), [])
            probs[i] = [result.scores[k] for k in EMOTIONS]
            if i % 500 == 0:
                print(f"  faces {i}/{len(faces)}", file=sys.stderr, flush=True)
        return {"probs": probs, "labels": np.array([label for _, label in faces])}

    data = _cached(f"faces-{len(faces)}", key, compute)
    names = tuple(str(path.relative_to(SHARED_DATA)) for path, _ in faces)
    model = getattr(local, "MODEL_NAME", "local")
    return Channel("vision", model, key, data["probs"], data["labels"], names)


def make_pairs(
    text: Channel,
    face: Channel,
    per_emotion: int,
    seed: int = SEED,
    text_pool: np.ndarray | None = None,
    face_pool: np.ndarray | None = None,
) -> Pairs:
    """Same- and different-emotion pairs, ``per_emotion`` of each kind for every emotion.

    Args:
        text, face: the channels whose items are paired.
        per_emotion: pairs of each kind per emotion (so 14 * per_emotion pairs in all).
        seed: the random seed (fixed: the same call gives the same pairs).
        text_pool, face_pool: restrict the draw to these item indices (for split halves).
    """
    rng = np.random.default_rng(seed)
    t_pool = np.arange(len(text.labels)) if text_pool is None else text_pool
    f_pool = np.arange(len(face.labels)) if face_pool is None else face_pool
    t_by = {k: t_pool[text.labels[t_pool] == k] for k in range(len(EMOTIONS))}
    f_by = {k: f_pool[face.labels[f_pool] == k] for k in range(len(EMOTIONS))}
    ti, fi, tl, fl = [], [], [], []
    for k in range(len(EMOTIONS)):
        faces = rng.choice(f_by[k], size=2 * per_emotion, replace=len(f_by[k]) < 2 * per_emotion)
        for j, face_index in enumerate(faces):
            other = k
            if j >= per_emotion:  # the different-emotion half: another emotion, uniformly
                other = int(rng.choice([e for e in range(len(EMOTIONS)) if e != k]))
            ti.append(int(rng.choice(t_by[other])))
            fi.append(int(face_index))
            tl.append(other)
            fl.append(k)
    return Pairs(np.array(ti), np.array(fi), np.array(tl), np.array(fl))


def split_items(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint halves of ``range(n)`` (for fitting on one and reporting on the other)."""
    order = np.random.default_rng(seed + 1).permutation(n)
    return np.sort(order[: n // 2]), np.sort(order[n // 2 :])
