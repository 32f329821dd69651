"""Compare variants of the lite text model on GoEmotions dev (the table in its model card).

Usage (slow, minutes per variant; run in the background):
    nice -n 10 python scripts/sweep_lite_text.py [--data DIR] [--only NAME ...] > sweep.log

Every variant is fitted on the same seeded fit split of train.tsv; its temperature (and, where
a variant has them, its per-class decision offsets and top-label map) is fitted on the
held-out 10% of train, never on dev; dev measures (and picks among the variants). Prints one
JSON line per variant (accuracy, macro-F1, ECE and per-class F1) and a Markdown table at the
end; ``train_lite_text.py --variants TABLE.md`` puts such a table in the model card.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_lite_text as tl

from vsa_desktop.core.taxonomy import EMOTIONS
from vsa_desktop.core.text.lite_features import FeatureConfig

CUES = FeatureConfig(negation=True, emoji=True, elongation=True, punctuation=True, caps=True)


@dataclass(frozen=True)
class Variant:
    """One row of the comparison."""

    name: str
    settings: tl.Settings
    offsets: bool = False  # per-class decision offsets tuned on the held-out train rows


def variants() -> list[Variant]:
    """Return the variants, baseline first; those sharing features are adjacent."""
    base = tl.Settings(
        c_grid=(1.0,),
        config=FeatureConfig(),
        class_weight_power=0.0,
        top_label_reg=None,
        classifier="softmax",
    )
    cues = replace(base, config=CUES)
    lr = replace(cues, class_weight_power=0.5, top_label_reg=5.0)
    nb = replace(lr, classifier="nblr")
    return [
        Variant("baseline (v1 features, C=1)", base),
        Variant("baseline + offsets", base, offsets=True),
        Variant("class weights ^0.5", replace(base, class_weight_power=0.5)),
        Variant("class weights ^1", replace(base, class_weight_power=1.0)),
        Variant("v1 features, NB-LR cw^0.5, top-label cal", replace(nb, config=FeatureConfig())),
        Variant("+ negation", replace(base, config=FeatureConfig(negation=True))),
        Variant("+ emoji/emoticons", replace(base, config=FeatureConfig(emoji=True))),
        Variant(
            "+ elong/punct/caps",
            replace(base, config=FeatureConfig(elongation=True, punctuation=True, caps=True)),
        ),
        Variant(
            "negation only, NB-LR cw^0.5, top-label cal, C=2",
            replace(nb, c_grid=(2.0,), config=FeatureConfig(negation=True)),
        ),
        Variant(
            "negation + emoji, NB-LR cw^0.5, top-label cal, C=2",
            replace(nb, c_grid=(2.0,), config=FeatureConfig(negation=True, emoji=True)),
        ),
        Variant("cues, NB-LR cw^0.5, top-label cal", nb),
        Variant("cues, NB-LR cw^0.5, top-label cal, C=0.5", replace(nb, c_grid=(0.5,))),
        Variant("cues, NB-LR cw^0.5, top-label cal, C=2", replace(nb, c_grid=(2.0,))),
        Variant("cues, NB-LR cw^0.5, top-label cal, C=4", replace(nb, c_grid=(4.0,))),
        Variant("cues, NB-LR cw^0.3, top-label cal", replace(nb, class_weight_power=0.3)),
        Variant("cues, NB-LR cw^0.7, top-label cal", replace(nb, class_weight_power=0.7)),
        Variant("cues, LR+NB-LR cw^0.5, top-label cal", replace(nb, classifier="both")),
        Variant("cues, LR cw^0.5, top-label cal", lr),
        Variant("cues, LR cw^0.5, top-label cal, + offsets", lr, offsets=True),
        Variant("+ all cues (LR)", cues),
        Variant(
            "cues, NB-LR cw^0.5, top-label cal, word 1-3",
            replace(nb, config=replace(CUES, word_max_n=3)),
        ),
        Variant(
            "cues, NB-LR cw^0.5, top-label cal, min_df 2/3",
            replace(nb, min_df_word=2, min_df_char=3),
        ),
    ]


_FEATURES: dict[tuple, tl.Features] = {}


def features_for(s: tl.Settings, train_rows, dev_rows, log) -> tl.Features:
    """Featurise once per feature setting (the slow part), reuse across variants."""
    key = (s.config, s.min_df_word, s.min_df_char, s.max_words, s.max_chars, s.seed)
    if key not in _FEATURES:
        _FEATURES.clear()  # variants are ordered so one feature set is live at a time
        _FEATURES[key] = tl.featurise(train_rows, dev_rows, s, log)
    return _FEATURES[key]


def run(variant: Variant, train_rows, dev_rows, labels, log: Callable[[str], None]) -> dict:
    """Fit one variant and measure it on dev."""
    s = replace(variant.settings, offsets=variant.offsets)
    feats = features_for(s, train_rows, dev_rows, log)
    t0 = time.perf_counter()
    model, report = tl.train(train_rows, dev_rows, labels, s, log=log, features=feats)
    seconds = time.perf_counter() - t0
    from vsa_desktop.core.text.lite import LiteTextAnalyzer

    analyzer = LiteTextAnalyzer(model)
    metrics = tl.dev_metrics(analyzer, dev_rows, labels, latency_rows=300)
    return {
        "name": variant.name,
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "ece": metrics["ece_calibrated"],
        "ece_temperature": metrics["ece_temperature"],
        "f1": metrics["f1"],
        "features": model.vocab.size,
        "fit_s": seconds,
        "p50_ms": metrics["latency_ms_median"],
        "temperature": model.temperature,
        "C": report["C"],
    }


def table(rows: Sequence[dict]) -> str:
    """Return the Markdown comparison table."""
    head = "| variant | accuracy | macro-F1 | ECE | " + " | ".join(EMOTIONS) + " |"
    lines = [head, "|---" * (4 + len(EMOTIONS)) + "|"]
    for r in rows:
        per = " | ".join(f"{r['f1'].get(k, 0):.3f}" for k in EMOTIONS)
        lines.append(
            f"| {r['name']} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['ece']:.4f} | {per} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen variants and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=tl.DEFAULT_DATA)
    parser.add_argument("--only", nargs="*", default=None, help="variant names (substrings)")
    args = parser.parse_args(argv)
    labels = tl.read_label_names(args.data)
    train_rows = tl.read_rows(args.data / "train.tsv")
    dev_rows = tl.read_rows(args.data / "dev.tsv")
    rows = []
    for variant in variants():
        if args.only and not any(part in variant.name for part in args.only):
            continue
        result = run(variant, train_rows, dev_rows, labels, log=lambda m: print("  " + m))
        rows.append(result)
        print(json.dumps(result), flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
