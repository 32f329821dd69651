"""Evaluate the offline (local) vision backend on a folder of labelled face images.

Usage:
    python scripts/eval_faces.py DIR [--limit N] [--variant NAME] [--save FILE.npz]
    python scripts/eval_faces.py DIR --bench [--limit N]

DIR holds either ``labels.csv`` (columns ``file,label``) beside the images, or one folder
per class (``DIR/<label>/*.jpg``, the FER2013 layout); labels in any spelling the taxonomy
knows (angry/anger, happy/joy...). Every image goes through the app's own path,
``LocalFaceBackend.analyze(load_image(path))`` (YuNet detection, or the whole-image rule
for small crops). Prints accuracy, macro-F1, per-class recall, the confusion matrix (rows:
true label, columns: predicted; ``none`` = no face found), the expected calibration error
(ECE: 10 equal-width bins of the top score), how often the whole-image rule was used and
the time per face (mean, p50, p95).

``--variant`` picks a configuration of the backend (see ``VARIANTS``; the default is what
ships). ``--save`` writes the per-image scores (seven canonical keys, in
``taxonomy.EMOTIONS`` order), labels, file names, face counts and times to an NPZ file for
later analysis. ``--bench`` times every variant on the same images and prints a table of
per-face milliseconds. ``--limit N`` reads about N images spread evenly over the list.
Nothing is copied into the project.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vsa_desktop.core.errors import VisionError, VsaError
from vsa_desktop.core.imaging import load_image
from vsa_desktop.core.taxonomy import EMOTIONS, canonical
from vsa_desktop.core.vision import local
from vsa_desktop.core.vision.local import WHOLE_IMAGE_WARNING, LocalFaceBackend

NONE = "none"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
ECE_BINS = 10


def variants() -> dict[str, LocalFaceBackend]:
    """The backend configurations that can be evaluated; ``shipped`` is the default."""
    return {
        "shipped": LocalFaceBackend(),
        "baseline": LocalFaceBackend(members=local.BASELINE_MEMBERS, views=local.NO_TTA),
        "baseline-tta": LocalFaceBackend(members=local.BASELINE_MEMBERS, views=local.SHIFT_VIEWS),
        "ensemble-flip": LocalFaceBackend(views=local.FLIP_VIEWS),
        "vgg-tta": LocalFaceBackend(members=(local.FER_VGG,)),
    }


@dataclass
class Run:
    """What one pass over the images gave."""

    labels: list[str]
    predicted: list[str]
    scores: np.ndarray  # (N, 7) in EMOTIONS order; NaN rows where no face was found
    faces: np.ndarray  # faces read per image
    whole_image: np.ndarray  # the whole-image rule was used
    ms: np.ndarray  # milliseconds per image (wall clock)
    cpu_ms: np.ndarray  # CPU milliseconds per image (all threads; robust to a busy machine)


def read_labels(folder: Path) -> list[tuple[Path, str]]:
    """Return (image path, canonical label) pairs from ``labels.csv`` or class folders."""
    if (folder / "labels.csv").is_file():
        with (folder / "labels.csv").open(newline="", encoding="utf-8") as f:
            rows = [(folder / row["file"], row["label"]) for row in csv.DictReader(f)]
    else:
        rows = [
            (path, sub.name)
            for sub in sorted(p for p in folder.iterdir() if p.is_dir())
            for path in sorted(sub.iterdir())
            if path.suffix.lower() in IMAGE_SUFFIXES
        ]
    pairs = []
    for path, name in rows:
        label = canonical(name)
        if label is None:
            raise SystemExit(f"{name!r} ({path}) is not one of the seven emotions")
        pairs.append((path, label))
    return pairs


def spread(pairs: list[tuple[Path, str]], limit: int) -> list[tuple[Path, str]]:
    """About ``limit`` pairs taken evenly over the list (so every class keeps its share)."""
    if not limit or limit >= len(pairs):
        return pairs
    step = len(pairs) / limit
    return [pairs[int(i * step)] for i in range(limit)]


def evaluate(pairs: list[tuple[Path, str]], backend: LocalFaceBackend) -> Run:
    """Run ``backend`` on every image through the app's path."""
    predicted, rows, faces, whole, times, cpu = [], [], [], [], [], []
    for path, _ in pairs:
        warnings: list[str] = []
        image = load_image(path)
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            result = backend.analyze(image, warnings)
        except VisionError as exc:
            if exc.kind != "no_face":
                raise
            predicted.append(NONE)
            rows.append([np.nan] * len(EMOTIONS))
            faces.append(0)
        else:
            predicted.append(result.label)
            rows.append([result.scores[key] for key in EMOTIONS])
            faces.append(len(result.faces))
        times.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.process_time() - cpu_start))
        whole.append(WHOLE_IMAGE_WARNING in warnings)
    return Run(
        labels=[label for _, label in pairs],
        predicted=predicted,
        scores=np.asarray(rows, dtype=np.float64),
        faces=np.asarray(faces),
        whole_image=np.asarray(whole),
        ms=np.asarray(times),
        cpu_ms=np.asarray(cpu),
    )


def macro_f1(labels: list[str], predicted: list[str]) -> float:
    """Unweighted mean of the per-class F1 over the classes present in ``labels``."""
    f1s = []
    for key in EMOTIONS:
        tp = sum(t == p == key for t, p in zip(labels, predicted, strict=True))
        n_true, n_pred = labels.count(key), predicted.count(key)
        if n_true:
            f1s.append(2 * tp / (n_true + n_pred) if n_true + n_pred else 0.0)
    return float(np.mean(f1s))


def ece(scores: np.ndarray, labels: list[str], bins: int = ECE_BINS) -> float:
    """Expected calibration error of the top score (no-face rows count as wrong, conf 0)."""
    truth = np.array([EMOTIONS.index(label) for label in labels])
    filled = np.nan_to_num(scores, nan=0.0)
    confidence = filled.max(axis=1)
    correct = (filled.argmax(axis=1) == truth) & ~np.isnan(scores).any(axis=1)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(total)


def report(run: Run) -> str:
    """Return the plain-text report."""
    confusion = Counter(zip(run.labels, run.predicted, strict=True))
    total = len(run.labels)
    correct = sum(n for (truth, pred), n in confusion.items() if truth == pred)
    per_face = run.ms[run.faces > 0] / run.faces[run.faces > 0]
    lines = [
        f"images: {total}   accuracy: {correct / total:.4f} ({correct}/{total})   "
        f"macro-F1: {macro_f1(run.labels, run.predicted):.4f}   "
        f"ECE: {ece(run.scores, run.labels):.4f}",
        f"whole-image rule used: {int(run.whole_image.sum())}   no face found: "
        f"{confusion_total(confusion, NONE)}   faces read: {int(run.faces.sum())}",
        f"time per face: mean {per_face.mean():.2f} ms, p50 {np.percentile(per_face, 50):.2f}"
        f" ms, p95 {np.percentile(per_face, 95):.2f} ms (wall); CPU mean "
        f"{(run.cpu_ms[run.faces > 0] / run.faces[run.faces > 0]).mean():.2f} ms",
        "",
        f"{'class':<10}{'recall':>8}{'n':>6}",
    ]
    for key in EMOTIONS:
        n = run.labels.count(key)
        recall = f"{confusion[key, key] / n:.3f}" if n else "-"
        lines.append(f"{key:<10}{recall:>8}{n:>6}")
    columns = (*EMOTIONS, NONE)
    lines += ["", "confusion (rows: true, columns: predicted)"]
    lines.append(f"{'':<10}" + "".join(f"{c[:8]:>9}" for c in columns))
    for key in EMOTIONS:
        lines.append(f"{key:<10}" + "".join(f"{confusion[key, c]:>9}" for c in columns))
    return "\n".join(lines)


def confusion_total(confusion: Counter, predicted: str) -> int:
    """How many images were predicted as ``predicted``."""
    return sum(n for (_, pred), n in confusion.items() if pred == predicted)


def save(path: Path, run: Run, pairs: list[tuple[Path, str]]) -> None:
    """Write the per-image scores and facts to an NPZ file."""
    np.savez_compressed(
        path,
        files=np.array([str(p) for p, _ in pairs]),
        labels=np.array(run.labels),
        predicted=np.array(run.predicted),
        keys=np.array(EMOTIONS),
        scores=run.scores,
        faces=run.faces,
        whole_image=run.whole_image,
        ms=run.ms,
        cpu_ms=run.cpu_ms,
    )


def bench(pairs: list[tuple[Path, str]], names: list[str]) -> str:
    """Time each variant on the same images; one warm-up image first. Return a table.

    Wall-clock percentiles grow with the machine's load; the CPU columns (process time,
    all threads) show the work itself.
    """
    lines = [
        f"{'variant':<15}{'faces':>6}{'p50 ms':>8}{'p95 ms':>8}{'cpu p50':>9}{'cpu p95':>9}"
        f"{'acc':>8}"
    ]
    for name in names:
        backend = variants()[name]
        evaluate(pairs[:1], backend)  # loads the models outside the timing
        run = evaluate(pairs, backend)
        found = run.faces > 0
        wall, cpu = run.ms[found] / run.faces[found], run.cpu_ms[found] / run.faces[found]
        accuracy = np.mean([t == p for t, p in zip(run.labels, run.predicted, strict=True)])
        lines.append(
            f"{name:<15}{int(run.faces.sum()):>6}{np.percentile(wall, 50):>8.2f}"
            f"{np.percentile(wall, 95):>8.2f}{np.percentile(cpu, 50):>9.2f}"
            f"{np.percentile(cpu, 95):>9.2f}{accuracy:>8.4f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, evaluate, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="labels.csv + images, or DIR/<label>/*.jpg")
    parser.add_argument("--limit", type=int, default=0, help="read about N images")
    parser.add_argument("--variant", default="shipped", help=f"one of: {', '.join(variants())}")
    parser.add_argument("--save", type=Path, help="write per-image scores to this .npz")
    parser.add_argument("--bench", action="store_true", help="time every variant")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"{args.folder} is not a folder", file=sys.stderr)
        return 2
    pairs = spread(read_labels(args.folder), args.limit)
    if not pairs:
        print(f"{args.folder} lists no images", file=sys.stderr)
        return 2
    if args.variant not in variants():
        print(f"unknown variant {args.variant!r}; choose from {list(variants())}", file=sys.stderr)
        return 2
    try:
        if args.bench:
            print(bench(pairs, list(variants())))
            return 0
        run = evaluate(pairs, variants()[args.variant])
    except VsaError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"variant: {args.variant} ({variants()[args.variant].model_name})")
    print(report(run))
    if args.save:
        save(args.save, run, pairs)
        print(f"\nwrote {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
