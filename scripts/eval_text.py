"""Evaluate a text emotion model on a labelled file: accuracy, macro-F1, ECE, P/R/F1, confusion.

Usage:
    python scripts/eval_text.py FILE [--model ID] [--limit N]

FILE is a GoEmotions-format TSV (text, comma-separated label ids, comment id; the label
names come from ``labels.txt`` beside it, else the Ekman order anger, disgust, fear, joy,
neutral, sadness, surprise) or a CSV with ``text`` and ``label`` columns (label names, any
alias the app knows; several labels may be joined by ``,``, ``;`` or ``|``).

Multi-label rows: a prediction counts as correct when it matches ANY gold label; otherwise
the row counts under its first gold label (in the confusion matrix, recall and F1 too).
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vsa_desktop.core.errors import VsaError
from vsa_desktop.core.taxonomy import EMOTIONS, canonical

EKMAN_LABELS = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
MULTI_LABEL_RULE = (
    "multi-label rows: a prediction matching ANY gold label counts as correct; "
    "otherwise the row counts under its first gold label"
)


class DataError(Exception):
    """The evaluation file cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class Example:
    """One labelled text; ``gold`` holds canonical keys, first one first."""

    text: str
    gold: tuple[str, ...]


def _to_keys(names: Sequence[str], where: str) -> tuple[str, ...]:
    keys: list[str] = []
    for name in names:
        key = canonical(name)
        if key is None:
            raise DataError(f"{where}: the label {name!r} is not one of the seven emotions.")
        if key not in keys:
            keys.append(key)
    if not keys:
        raise DataError(f"{where}: the row has no label.")
    return tuple(keys)


def read_tsv(path: Path) -> list[Example]:
    """Read a GoEmotions-format TSV (text, label ids, id)."""
    labels_file = path.with_name("labels.txt")
    names = (
        [line.strip() for line in labels_file.read_text("utf-8").splitlines() if line.strip()]
        if labels_file.is_file()
        else list(EKMAN_LABELS)
    )
    examples = []
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if len(row) < 2:
                raise DataError(f"{path.name} line {n}: expected text<TAB>labels<TAB>id.")
            try:
                ids = [int(part) for part in row[1].split(",")]
                label_names = [names[i] for i in ids]
            except (ValueError, IndexError) as exc:
                raise DataError(f"{path.name} line {n}: bad label ids {row[1]!r}.") from exc
            examples.append(Example(row[0], _to_keys(label_names, f"{path.name} line {n}")))
    return examples


def read_csv(path: Path) -> list[Example]:
    """Read a CSV with ``text`` and ``label`` (or ``labels``) columns."""
    examples = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = {name.strip().lower(): name for name in reader.fieldnames or []}
        label_col = fields.get("label") or fields.get("labels")
        if "text" not in fields or label_col is None:
            raise DataError(f"{path.name}: the CSV needs 'text' and 'label' columns.")
        for n, row in enumerate(reader, 2):
            raw = row[label_col] or ""
            names = [part for part in re.split(r"[,;|]", raw) if part.strip()]
            examples.append(Example(row[fields["text"]], _to_keys(names, f"{path.name} line {n}")))
    return examples


def read_dataset(path: Path) -> list[Example]:
    """Read ``path`` as a GoEmotions TSV (``.tsv``) or a text,label CSV (anything else)."""
    if not path.is_file():
        raise DataError(f"{path}: no such file.")
    examples = read_tsv(path) if path.suffix.lower() == ".tsv" else read_csv(path)
    if not examples:
        raise DataError(f"{path}: the file has no rows.")
    return examples


def effective_gold(pred: str, gold: Sequence[str]) -> str:
    """Return the gold label a prediction is scored against (the any-match rule)."""
    return pred if pred in gold else gold[0]


def score(preds: Sequence[str], golds: Sequence[Sequence[str]]) -> dict[str, object]:
    """Return accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix.

    Macro-F1 averages over the classes present in the gold or predicted labels; a class is
    in ``precision`` only when it was predicted, in ``recall`` only when it has gold rows,
    and in ``f1`` when either.
    """
    eff = [effective_gold(p, g) for p, g in zip(preds, golds, strict=True)]
    confusion = {g: dict.fromkeys(EMOTIONS, 0) for g in EMOTIONS}
    for gold, pred in zip(eff, preds, strict=True):
        confusion[gold][pred] += 1
    precision: dict[str, float] = {}
    recall: dict[str, float] = {}
    f1: dict[str, float] = {}
    for key in EMOTIONS:
        tp = confusion[key][key]
        support = sum(confusion[key].values())
        predicted = sum(confusion[g][key] for g in EMOTIONS)
        if predicted:
            precision[key] = tp / predicted
        if support:
            recall[key] = tp / support
        if support or predicted:
            f1[key] = 2 * tp / (support + predicted)
    accuracy = sum(p == g for p, g in zip(preds, eff, strict=True)) / len(preds)
    return {
        "accuracy": accuracy,
        "macro_f1": sum(f1.values()) / len(f1),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "confusion": confusion,
        "n": len(preds),
    }


def majority_label(golds: Sequence[Sequence[str]]) -> str:
    """Return the most frequent gold label (all labels of multi-label rows counted)."""
    counts = Counter(key for gold in golds for key in gold)
    return max(EMOTIONS, key=lambda key: (counts[key], -EMOTIONS.index(key)))


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 15
) -> float:
    """Return the top-label ECE with ``bins`` equal-width confidence bins on (0, 1]."""
    totals = [[0, 0.0, 0.0] for _ in range(bins)]
    for conf, ok in zip(confidences, correct, strict=True):
        b = min(bins - 1, max(0, math.ceil(conf * bins) - 1))
        totals[b][0] += 1
        totals[b][1] += conf
        totals[b][2] += float(ok)
    n = len(confidences)
    return sum(abs(s_conf - s_ok) for count, s_conf, s_ok in totals if count) / n


def format_confusion(confusion: dict[str, dict[str, int]]) -> str:
    """Return the confusion matrix as a plain-text table (rows gold, columns predicted)."""
    width = max(len(key) for key in EMOTIONS) + 1
    lines = ["gold \\ pred".ljust(width + 2) + "".join(k.rjust(width) for k in EMOTIONS)]
    for gold in EMOTIONS:
        row = "".join(str(confusion[gold][p]).rjust(width) for p in EMOTIONS)
        lines.append(gold.ljust(width + 2) + row)
    return "\n".join(lines)


def format_report(result: dict[str, object], baseline: dict[str, object], majority: str) -> str:
    """Return the human-readable evaluation report."""
    confusion = result["confusion"]
    assert isinstance(confusion, dict)
    lines = [
        f"rows: {result['n']}  ({MULTI_LABEL_RULE})",
        f"accuracy: {result['accuracy']:.4f}",
        f"macro-F1: {result['macro_f1']:.4f}",
        f"majority baseline (always '{majority}'): accuracy {baseline['accuracy']:.4f}, "
        f"macro-F1 {baseline['macro_f1']:.4f}",
        format_per_class(result),
        "confusion matrix (rows gold, columns predicted):",
        format_confusion(confusion),
    ]
    return "\n".join(lines)


def format_per_class(result: dict[str, object]) -> str:
    """Return per-class precision, recall, F1 and support as a plain-text table."""
    per = {name: result[name] for name in ("precision", "recall", "f1")}
    confusion = result["confusion"]
    assert isinstance(confusion, dict)
    lines = [f"  {'class':<9}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}"]
    for key in EMOTIONS:
        cells = []
        for name in ("precision", "recall", "f1"):
            table = per[name]
            assert isinstance(table, dict)
            cells.append(f"{table[key]:.4f}" if key in table else "     -")
        support = sum(confusion[key].values())
        lines.append(f"  {key:<9}{cells[0]:>10}{cells[1]:>8}{cells[2]:>8}{support:>9}")
    return "\n".join(lines)


def load_model(model_id: str, runtime: str = "auto") -> object:
    """Load any text model the app can load (``builtin:lite`` at least).

    Raises:
        VsaError: the model cannot be loaded.
    """
    try:
        from vsa_desktop.core.text.loader import load_text_analyzer
    except ImportError:
        if model_id != "builtin:lite":
            raise VsaError(
                f"This build cannot load {model_id!r}: only 'builtin:lite' is available."
            ) from None
        from vsa_desktop.core.text.lite import load_lite

        return load_lite()
    return load_text_analyzer(model_id, runtime)  # never downloads


def predict(analyzer: object, texts: Sequence[str], batch: int = 32) -> tuple[list, float]:
    """Return the TextResults for ``texts`` and the mean milliseconds per text."""
    run: Callable[[list[str]], list] = analyzer.analyze_batch  # type: ignore[attr-defined]
    results: list = []
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        results.extend(run(list(texts[i : i + batch])))
    return results, 1000 * (time.perf_counter() - start) / max(1, len(texts))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the evaluation and print the report; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path, help="GoEmotions-format .tsv or text,label .csv")
    parser.add_argument("--model", default="builtin:lite", help="model id (default builtin:lite)")
    parser.add_argument("--runtime", default="auto", help="auto, torch, onnx or onnx-int8")
    parser.add_argument("--limit", type=int, default=0, help="only the first N rows")
    args = parser.parse_args(argv)
    try:
        examples = read_dataset(args.file)
        examples = [e for e in examples if e.text.strip()]
        if args.limit > 0:
            examples = examples[: args.limit]
        analyzer = load_model(args.model, args.runtime)
        results, ms = predict(analyzer, [e.text for e in examples])
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except VsaError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    golds = [e.gold for e in examples]
    preds = [r.label for r in results]
    majority = majority_label(golds)
    result = score(preds, golds)
    baseline = score([majority] * len(golds), golds)
    correct = [p in g for p, g in zip(preds, golds, strict=True)]
    ece = expected_calibration_error([r.confidence for r in results], correct)
    model_name = getattr(analyzer, "model_id", args.model)
    runtime = getattr(analyzer, "runtime", "?")
    print(f"model: {model_name} ({runtime})  file: {args.file}")
    print(format_report(result, baseline, majority))
    print(f"ECE (15 bins, top label, any-match correctness): {ece:.4f}")
    print(f"mean time per text: {ms:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
