"""Evaluate the offline (local) vision backend on a folder of labelled face images.

Usage:
    python scripts/eval_faces.py DIR

DIR holds the images and ``labels.csv`` with columns ``file,label`` (labels in any spelling
the taxonomy knows: angry/anger, happy/joy...). Prints accuracy, per-class recall, a
confusion matrix (rows: true label, columns: predicted; ``none`` = no face found) and how
often the whole-image rule for small images was used. Nothing is copied or written.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from pathlib import Path

from vsa_desktop.core.errors import VisionError, VsaError
from vsa_desktop.core.imaging import load_image
from vsa_desktop.core.taxonomy import EMOTIONS, canonical
from vsa_desktop.core.vision.local import WHOLE_IMAGE_WARNING, LocalFaceBackend

NONE = "none"


def read_labels(folder: Path) -> list[tuple[Path, str]]:
    """Return (image path, canonical label) pairs from ``folder/labels.csv``."""
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    pairs = []
    for row in rows:
        label = canonical(row["label"])
        if label is None:
            raise SystemExit(f"labels.csv: {row['label']!r} is not one of the seven emotions")
        pairs.append((folder / row["file"], label))
    return pairs


def evaluate(pairs: list[tuple[Path, str]]) -> tuple[Counter, int, float]:
    """Run the backend on every image.

    Returns:
        Counts of (true, predicted) pairs, the number of whole-image readings, and the
        mean time per image in milliseconds.
    """
    backend = LocalFaceBackend()
    confusion: Counter = Counter()
    whole_image = 0
    elapsed = 0.0
    for path, truth in pairs:
        warnings: list[str] = []
        start = time.perf_counter()
        try:
            predicted = backend.analyze(load_image(path), warnings).label
        except VisionError as exc:
            if exc.kind != "no_face":
                raise
            predicted = NONE
        elapsed += time.perf_counter() - start
        whole_image += WHOLE_IMAGE_WARNING in warnings
        confusion[truth, predicted] += 1
    return confusion, whole_image, 1000 * elapsed / max(1, len(pairs))


def report(confusion: Counter, total: int, whole_image: int, ms_per_image: float) -> str:
    """Return the plain-text report."""
    correct = sum(n for (truth, pred), n in confusion.items() if truth == pred)
    lines = [
        f"images: {total}   accuracy: {correct / total:.3f} ({correct}/{total})",
        f"whole-image rule used: {whole_image}   no face found: "
        f"{sum(n for (_, pred), n in confusion.items() if pred == NONE)}",
        f"mean time per image: {ms_per_image:.1f} ms",
        "",
        f"{'class':<10}{'recall':>8}{'n':>6}",
    ]
    for key in EMOTIONS:
        n = sum(confusion[key, pred] for pred in (*EMOTIONS, NONE))
        recall = f"{confusion[key, key] / n:.3f}" if n else "-"
        lines.append(f"{key:<10}{recall:>8}{n:>6}")
    columns = (*EMOTIONS, NONE)
    lines += ["", "confusion (rows: true, columns: predicted)"]
    lines.append(f"{'':<10}" + "".join(f"{c[:8]:>9}" for c in columns))
    for key in EMOTIONS:
        lines.append(f"{key:<10}" + "".join(f"{confusion[key, c]:>9}" for c in columns))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, evaluate, print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder with images and labels.csv")
    args = parser.parse_args(argv)
    if not (args.folder / "labels.csv").is_file():
        print(f"{args.folder} has no labels.csv", file=sys.stderr)
        return 2
    pairs = read_labels(args.folder)
    if not pairs:
        print("labels.csv lists no images", file=sys.stderr)
        return 2
    try:
        confusion, whole_image, ms = evaluate(pairs)
    except VsaError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(report(confusion, len(pairs), whole_image, ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
