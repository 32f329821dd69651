"""Faithfulness of the word explanations: delete the top-2 words vs 2 random words.

For each GoEmotions dev text with at least ``--min-words`` words, the text channel's label is
explained (the analyzer's own top label), then

- the 2 words with the largest weight for the label are deleted together, and
- 2 words drawn at random (``--draws`` draws, seeded) are deleted together,

and the drop of the label's probability (the analyzer's own probability, whole text minus
text without the words) is recorded. A faithful explanation makes the first drop much larger
than the second. Words are the ``word`` units of ``core.explain.segment`` (no punctuation or
emoji), removed with ``segment.remove`` as occlusion does.

Analyzers:
- ``lite``: the built-in model, explained exactly from its weights (never by deleting words).
- ``onnx``: the tests' tiny RoBERTa (random, seeded weights; ``tests/tiny_model.py``), or any
  model folder given with ``--onnx-model``, converted with the app's converter and run on the
  int8 ONNX runtime, explained by occlusion. With random weights the labels mean nothing:
  this checks the mechanics (occlusion's single-word effects predict two-word deletions),
  not that a trained transformer's explanations are good.

Validation data only: ``../shared/data/goemotions-ekman/dev.tsv``, never the test split.

Usage: python scripts/eval_explanations.py [--analyzers lite,onnx] [--limit 1000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vsa_desktop.core.text.base import TextAnalyzer

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "data" / "goemotions-ekman" / "dev.tsv"


@dataclass
class Row:
    """One text's outcome."""

    top_drop: float
    random_drop: float


def dev_texts(limit: int, min_words: int) -> list[str]:
    """The first ``limit`` dev texts with at least ``min_words`` word units."""
    from vsa_desktop.core.explain import segment

    out = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        text = line.split("\t")[0]
        if sum(u.kind == segment.WORD for u in segment.units(text)) >= min_words:
            out.append(text)
            if len(out) == limit:
                break
    return out


def evaluate(
    analyzer: TextAnalyzer,
    texts: list[str],
    draws: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> list[Row]:
    """Explain each text and measure both deletions."""
    from vsa_desktop.core.explain import explain_text, segment

    rng = random.Random(seed)
    rows = []
    for n, text in enumerate(texts):
        explanation = explain_text(analyzer, text)
        k = explanation.label
        words = [u for u in segment.units(text) if u.kind == segment.WORD]
        weight = {(s.start, s.end): s.weight for s in explanation.spans}
        ranked = sorted(words, key=lambda u: weight.get((u.start, u.end), 0.0), reverse=True)
        variants = [segment.remove(text, [(u.start, u.end) for u in ranked[:2]])]
        for _ in range(draws):
            pair = rng.sample(words, 2)
            variants.append(segment.remove(text, [(u.start, u.end) for u in pair]))
        scores = [r.scores[k] for r in analyzer.analyze_batch([text, *variants])]
        base, top, randoms = scores[0], scores[1], scores[2:]
        rows.append(Row(base - top, base - statistics.fmean(randoms)))
        if progress and (n + 1) % 100 == 0:
            progress(n + 1)
    return rows


def summary(name: str, rows: list[Row], seconds: float) -> str:
    """One table row: n, both mean drops, their ratio, share of texts where top-2 wins."""
    top = statistics.fmean(r.top_drop for r in rows)
    rnd = statistics.fmean(r.random_drop for r in rows)
    wins = sum(r.top_drop > r.random_drop for r in rows) / len(rows)
    ratio = f"{top / rnd:8.1f}x" if rnd > 0 else "     n/a"
    return (
        f"| {name:44} | {len(rows):5} | {top:12.5f} | {rnd:14.5f} | {ratio} | {wins:6.1%} |"
        f" {seconds:6.1f} s |"
    )


def int8_onnx(work: Path, model: Path | None = None) -> TextAnalyzer:
    """A model converted with the app's converter, on the int8 runtime.

    Default: the tests' tiny RoBERTa, built in ``work``; else ``model`` (a model folder,
    converted into ``work``'s cache if it is not there yet).
    """
    from vsa_desktop.core.text.convert import ensure_onnx
    from vsa_desktop.core.text.onnx_backend import OnnxTextAnalyzer

    os.environ["VSA_HOME"] = str(work / "home")
    if model is None:
        sys.path.insert(0, str(ROOT))
        from tests.tiny_model import build_tiny_model

        model = work / "tiny-emotion"
        if not (model / "config.json").is_file():
            build_tiny_model(model)
    report = ensure_onnx(str(model))
    return OnnxTextAnalyzer(report.folder, str(model), int8=True)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--analyzers", default="lite,onnx")
    parser.add_argument("--limit", type=int, default=1000, help="dev texts per analyzer")
    parser.add_argument("--min-words", type=int, default=4)
    parser.add_argument("--draws", type=int, default=5, help="random pairs per text")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "vsa-eval-explanations"
    )
    parser.add_argument(
        "--onnx-model",
        type=Path,
        help="for --analyzers onnx: this model folder instead of the tiny test model "
        "(e.g. benchmarks/text_speed.py's DistilRoBERTa-shaped one)",
    )
    args = parser.parse_args(argv)
    if not DEV.is_file():
        print(f"no dev split at {DEV}", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    texts = dev_texts(args.limit, args.min_words)
    lines = []
    for name in args.analyzers.split(","):
        analyzer: TextAnalyzer
        if name == "lite":
            from vsa_desktop.core.text.lite import load_lite

            analyzer, title = load_lite(), "lite (exact, builtin:lite)"
        elif name == "onnx":
            analyzer = int8_onnx(args.work, args.onnx_model)
            what = "tiny" if args.onnx_model is None else args.onnx_model.name
            title = f"ONNX int8 occlusion ({what}, random weights)"
        else:
            parser.error(f"unknown analyzer {name!r}")
        started = time.perf_counter()
        rows = evaluate(
            analyzer,
            texts,
            args.draws,
            args.seed,
            lambda n, name=name: print(f"  {name}: {n} texts", file=sys.stderr, flush=True),
        )
        lines.append(summary(title, rows, time.perf_counter() - started))
    print(
        f"\nFaithfulness on GoEmotions dev ({len(texts)} texts with >= {args.min_words} words; "
        f"{args.draws} random pairs per text, seed {args.seed}).\n"
        "Drop = the label's probability for the whole text minus without the 2 words.\n"
    )
    print(
        f"| {'analyzer':44} | {'texts':>5} | {'top-2 drop':>12} | {'random-2 drop':>14} |"
        f" {'ratio':>9} | {'top>rnd':>6} | {'time':>8} |"
    )
    print(f"|{'-' * 46}|{'-' * 7}|{'-' * 14}|{'-' * 16}|{'-' * 11}|{'-' * 8}|{'-' * 10}|")
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
