"""Train the built-in lite text emotion model (builtin:lite) on GoEmotions (Ekman labels).

Usage:
    python scripts/train_lite_text.py [--data ../shared/data/goemotions-ekman]
                                      [--out resources/models/text-lite]
                                      [--baseline OLD/model.npz] [--variants TABLE.md]

Method (the model card says it in full): word 1-2-grams, character 2-5-grams inside words
and cue features (negation scope, emoji/emoticon name words, elongation, "!!"/"??" runs,
ALL-CAPS), from the featuriser the app runs (``vsa_desktop/core/text/lite_features.py``);
sublinear tf x idf, each block L2-normalised, vocabulary pruned by document frequency.
Classifier: one-vs-rest NB-LR with rare classes up-weighted, folded into one float16
weight matrix (SciPy's L-BFGS at training time only). A row with k gold labels has the soft
target 1/k on each. C is chosen on dev.tsv by macro-F1 (any-match rule). A seeded 10% of
train.tsv is held out from fitting and used only for calibration (a temperature, then a
top-label map); dev metrics are then measured on the shipped float16 file through the app's
own analyzer. ``scripts/sweep_lite_text.py`` compares the variants that led here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_text  # noqa: E402

from vsa_desktop.core.taxonomy import EMOTIONS  # noqa: E402
from vsa_desktop.core.text.lite import (  # noqa: E402
    LiteModel,
    LiteTextAnalyzer,
    TopLabelMap,
    read_model,
    save_model,
)
from vsa_desktop.core.text.lite_features import (  # noqa: E402
    FeatureConfig,
    Vocabulary,
    analyse,
    char_grams,
    featurize,
)

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "goemotions-ekman"
DEFAULT_OUT = ROOT / "resources" / "models" / "text-lite"


@dataclass(frozen=True)
class Settings:
    """Training settings; the defaults are the shipped model's."""

    seed: int = 20260
    calib_fraction: float = 0.10
    min_df_word: int = 3
    min_df_char: int = 5
    max_words: int = 60_000
    max_chars: int = 120_000
    c_grid: tuple[float, ...] = (1.0, 2.0, 4.0)
    max_iter: int = 150
    # Elongation, "!!"-run and ALL-CAPS cues measured no better on dev: off.
    config: FeatureConfig = field(default_factory=lambda: FeatureConfig(negation=True, emoji=True))
    # Rare classes up-weighted by (class frequency) ** -power (0 = off): softmax rows by
    # the sum over their labels, mean 1; NB-LR the positives of each one-vs-rest fit.
    class_weight_power: float = 0.5
    # Per-class logit offsets tuned for macro-F1 on the held-out calibration rows.
    offsets: bool = False
    # Strength of the pull towards "no change" of the top-label map; None = no map.
    top_label_reg: float | None = 5.0
    # "softmax" (multinomial LR), "nblr" (one-vs-rest NB-LR) or "both" (their logits averaged).
    classifier: str = "nblr"
    nb_alpha: float = 1.0


@dataclass(frozen=True)
class Rows:
    """Texts with their gold label indices (into ``labels``)."""

    texts: list[str]
    labels: list[tuple[int, ...]]


def read_rows(path: Path, limit: int = 0) -> Rows:
    """Read a GoEmotions TSV: text, comma-separated label ids, comment id."""
    texts, labels = [], []
    for line in path.read_text("utf-8").splitlines():
        parts = line.split("\t")
        texts.append(parts[0])
        labels.append(tuple(int(i) for i in parts[1].split(",")))
        if limit and len(texts) >= limit:
            break
    return Rows(texts, labels)


def read_label_names(data: Path) -> list[str]:
    """Return the class names in ``labels.txt`` order."""
    return [n.strip() for n in (data / "labels.txt").read_text("utf-8").splitlines() if n.strip()]


def _top_by_df(df: Counter[str], min_df: int, cap: int) -> list[str]:
    """Keep n-grams seen in at least ``min_df`` texts, the ``cap`` most frequent (ties: text)."""
    kept = [(-count, gram) for gram, count in df.items() if count >= min_df]
    kept.sort()
    return [gram for _, gram in kept[:cap]]


def build_vocabulary(texts: Sequence[str], s: Settings) -> Vocabulary:
    """Build the pruned vocabulary and smoothed IDF (stored as float16) from ``texts``."""
    cfg = s.config
    word_df: Counter[str] = Counter()
    char_df: Counter[str] = Counter()
    for text in texts:
        parts = analyse(text, cfg)
        word_df.update(set(parts.grams))
        grams: set[str] = set()
        for word in parts.words:
            grams.update(char_grams(word, cfg.char_min_n, cfg.char_max_n))
        char_df.update(grams)
    words = _top_by_df(word_df, s.min_df_word, s.max_words)
    chars = _top_by_df(char_df, s.min_df_char, s.max_chars)
    n = len(texts)
    df = np.array([word_df[g] for g in words] + [char_df[g] for g in chars], dtype=np.float64)
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    # Round IDF as the file stores it, so training sees exactly what inference computes.
    idf = idf.astype(np.float16).astype(np.float64)
    return Vocabulary(
        config=cfg,
        words={g: i for i, g in enumerate(words)},
        chars={g: i for i, g in enumerate(chars)},
        idf=idf,
    )


def feature_matrix(texts: Sequence[str], vocab: Vocabulary):  # -> scipy.sparse.csr_matrix
    """Featurise ``texts`` with the app's own featuriser into a CSR matrix."""
    from scipy import sparse

    indptr, indices, values = [0], [], []
    for text in texts:
        idx, val = featurize(text, vocab)
        indices.append(idx)
        values.append(val)
        indptr.append(indptr[-1] + len(idx))
    return sparse.csr_matrix(
        (np.concatenate(values), np.concatenate(indices), np.array(indptr)),
        shape=(len(texts), vocab.size),
    )


def soft_targets(labels: Sequence[tuple[int, ...]], k: int) -> np.ndarray:
    """Return the (n, k) soft target matrix (1/k on each of a row's gold labels)."""
    target = np.zeros((len(labels), k))
    for i, gold in enumerate(labels):
        target[i, list(gold)] = 1.0 / len(gold)
    return target


def fit_softmax(
    x, target: np.ndarray, c: float, s: Settings, start=None, row_weight=None
) -> np.ndarray:
    """Fit L2-regularised multinomial logistic regression on soft targets.

    Minimises mean (row-weighted) soft-target cross-entropy + ||W||^2 / (2 C n) with L-BFGS
    (scipy); identical to scikit-learn's LogisticRegression(C) on rows duplicated per label
    with sample weight 1/k, and several times faster here. Deterministic.

    Args:
        row_weight: optional (n,) weights of the rows (class weights), mean 1.

    Returns:
        The flat parameter vector: weights (features x classes, row-major) then biases.
    """
    from scipy.optimize import minimize

    n, v = x.shape
    k = target.shape[1]
    xt = x.T.tocsr()
    alpha = 1.0 / (c * n)
    rw = np.ones((n, 1)) if row_weight is None else np.asarray(row_weight).reshape(n, 1)

    def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: v * k].reshape(v, k)
        z = x @ w + theta[v * k :]
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -(rw * target * logp).sum() / n + 0.5 * alpha * float((w * w).sum())
        g = rw * (np.exp(logp) - target) / n
        return loss, np.concatenate([(xt @ g + alpha * w).ravel(), g.sum(axis=0)])

    theta0 = np.zeros(v * k + k) if start is None else start
    res = minimize(
        loss_grad,
        theta0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": s.max_iter, "gtol": 1e-5},
    )
    return res.x


def fit_nblr(
    x, target: np.ndarray, c: float, s: Settings, power: float
) -> tuple[np.ndarray, np.ndarray]:
    """Fit one-vs-rest NB-LR (Wang & Manning 2012) and fold it into one linear layer.

    For each class j, the features are scaled by the log-count ratio
    r_j = log(p_j / |p_j|_1) - log(q_j / |q_j|_1), with p_j (q_j) the feature sums over the
    rows of (not of) class j plus ``s.nb_alpha``; then an L2-regularised logistic
    regression is fitted on x * r_j, its positives weighted by (class frequency)^-power.
    Since x * r_j . w_j = x . (r_j * w_j), the shipped weights are just r_j * w_j: the app
    runs the same one matrix product as for any linear model. Deterministic.

    Returns:
        (weights (features x classes), biases (classes)).
    """
    from scipy import sparse
    from scipy.optimize import minimize

    n, v = x.shape
    k = target.shape[1]
    weights, biases = np.zeros((v, k)), np.zeros(k)
    alpha = 1.0 / (c * n)
    for j in range(k):
        y = target[:, j]
        pos = s.nb_alpha + x.T @ y
        neg = s.nb_alpha + x.T @ (1.0 - y)
        r = np.log(pos / pos.sum()) - np.log(neg / neg.sum())
        xr = (x @ sparse.diags(r)).tocsr()
        xrt = xr.T.tocsr()
        w_pos = float(y.mean()) ** -power
        scale = n / float((w_pos * y + 1.0 - y).sum())  # mean row weight 1, as in fit_softmax

        def loss_grad(theta, xr=xr, xrt=xrt, y=y, w_pos=w_pos, scale=scale):
            w, b = theta[:-1], theta[-1]
            z = xr @ w + b
            # -[w_pos y log sig(z) + (1 - y) log(1 - sig(z))], stable
            loss = (w_pos * y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z)).sum()
            sig = 0.5 * (1.0 + np.tanh(0.5 * z))
            g = scale * (sig * (w_pos * y + 1.0 - y) - w_pos * y) / n
            value = scale * loss / n + 0.5 * alpha * float(w @ w)
            return value, np.concatenate([xrt @ g + alpha * w, [g.sum()]])

        res = minimize(
            loss_grad,
            np.zeros(v + 1),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": s.max_iter, "gtol": 1e-5},
        )
        weights[:, j], biases[j] = res.x[:-1] * r, res.x[-1]
    return weights, biases


def fit_linear(x, target: np.ndarray, c: float, s: Settings, start=None):
    """Fit the classifier ``s.classifier`` names; return (weights, bias, softmax state)."""
    k = target.shape[1]
    parts = []
    if s.classifier in ("softmax", "both"):
        row_weight = class_row_weights(target, s.class_weight_power)
        start = fit_softmax(x, target, c, s, start=start, row_weight=row_weight)
        parts.append(split_params(start, k))
    if s.classifier in ("nblr", "both"):
        parts.append(fit_nblr(x, target, c, s, s.class_weight_power))
    if not parts:
        raise ValueError(f"unknown classifier {s.classifier!r}")
    # Averaging logits of linear models is again one linear model.
    w = sum(p[0] for p in parts) / len(parts)
    b = sum(p[1] for p in parts) / len(parts)
    return w, b, start


def split_params(theta: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (weights, bias) from a flat parameter vector."""
    return theta[:-k].reshape(-1, k), theta[-k:]


def fit_temperature(logits: np.ndarray, target: np.ndarray) -> float:
    """Return the temperature minimising soft-target NLL of softmax(logits / T)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        z = logits / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-(target * logp).sum(axis=1).mean())

    res = minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(res.x))


def class_row_weights(target: np.ndarray, power: float) -> np.ndarray | None:
    """Return row weights that up-weight rare classes (``freq ** -power``), mean 1."""
    if power == 0.0:
        return None
    freq = target.mean(axis=0)
    row = target @ (freq**-power)
    return row / row.mean()


def _multi_hot(labels: Sequence[tuple[int, ...]], k: int) -> tuple[np.ndarray, np.ndarray]:
    hot = np.zeros((len(labels), k), dtype=bool)
    for i, gold in enumerate(labels):
        hot[i, list(gold)] = True
    return hot, np.array([gold[0] for gold in labels])


def macro_f1(pred: np.ndarray, hot: np.ndarray, first: np.ndarray) -> float:
    """Macro-F1 under the any-match rule of ``eval_text.score`` (vectorised, for tuning)."""
    k = hot.shape[1]
    correct = hot[np.arange(len(pred)), pred]
    eff = np.where(correct, pred, first)
    tp = np.bincount(pred[correct], minlength=k)
    denom = np.bincount(eff, minlength=k) + np.bincount(pred, minlength=k)
    seen = denom > 0
    return float(np.mean(2 * tp[seen] / denom[seen]))


def tune_offsets(
    logits: np.ndarray, labels: Sequence[tuple[int, ...]], rounds: int = 3
) -> np.ndarray:
    """Return per-class logit offsets that raise macro-F1 on (logits, labels).

    Coordinate ascent over a grid, class by class; ties keep the offset nearest zero, so
    offsets move only where the F1 gain is real on these rows.
    """
    k = logits.shape[1]
    hot, first = _multi_hot(labels, k)
    grid = np.round(np.arange(-1.5, 1.5001, 0.05), 2)
    grid = grid[np.argsort(np.abs(grid), kind="stable")]
    offsets = np.zeros(k)
    best = macro_f1(logits.argmax(axis=1), hot, first)
    for _ in range(rounds):
        for j in range(k):
            for value in grid:
                trial = offsets.copy()
                trial[j] = value
                score = macro_f1((logits + trial).argmax(axis=1), hot, first)
                if score > best + 1e-12:
                    best, offsets = score, trial
    return offsets


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def fit_top_label(z: np.ndarray, labels: Sequence[tuple[int, ...]], reg: float) -> TopLabelMap:
    """Fit the top-label map on tempered logits ``z`` of held-out rows.

    Minimises the log-loss of "the top class is one of the row's labels" (the any-match
    correctness that ECE is measured with) plus ``reg`` times the squared distance of
    (slope, intercepts) from the identity (1, 0), which keeps rare classes' intercepts from
    chasing a handful of rows.
    """
    from scipy.optimize import minimize

    k = z.shape[1]
    top = z.argmax(axis=1)
    ok = np.array([t in gold for t, gold in zip(top, labels, strict=True)], dtype=np.float64)
    p = softmax(z)
    conf = np.clip(p.max(axis=1), 1e-12, 1 - 1e-12)
    log_odds = np.log(conf) - np.log1p(-conf)

    def loss(theta: np.ndarray) -> float:
        s = theta[0] * log_odds + theta[1:][top]
        nll = np.logaddexp(0.0, -s) * ok + np.logaddexp(0.0, s) * (1.0 - ok)
        return float(nll.sum() + reg * ((theta[0] - 1.0) ** 2 + (theta[1:] ** 2).sum()))

    theta = minimize(loss, np.concatenate([[1.0], np.zeros(k)]), method="L-BFGS-B").x
    return TopLabelMap(float(theta[0]), tuple(float(b) for b in theta[1:]))


def any_match_accuracy(probs: np.ndarray, labels: Sequence[tuple[int, ...]]) -> float:
    """Accuracy where a prediction matching any gold label is correct."""
    pred = probs.argmax(axis=1)
    return float(np.mean([p in gold for p, gold in zip(pred, labels, strict=True)]))


def split_train(n: int, s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Return (fit, calibration) row indices of a seeded random split."""
    order = np.random.default_rng(s.seed).permutation(n)
    n_cal = round(n * s.calib_fraction)
    return np.sort(order[n_cal:]), np.sort(order[:n_cal])


@dataclass(frozen=True)
class Features:
    """The vocabulary and feature matrices of the fit, calibration and dev rows."""

    vocab: Vocabulary
    x_fit: Any
    x_cal: Any
    x_dev: Any
    fit_labels: list[tuple[int, ...]]
    cal_labels: list[tuple[int, ...]]


def featurise(train_rows: Rows, dev_rows: Rows, s: Settings, log=print) -> Features:
    """Split train (seeded), build the vocabulary on the fit rows, featurise all three sets."""
    fit_idx, cal_idx = split_train(len(train_rows.texts), s)
    fit_texts = [train_rows.texts[i] for i in fit_idx]
    t0 = time.perf_counter()
    vocab = build_vocabulary(fit_texts, s)
    features = Features(
        vocab=vocab,
        x_fit=feature_matrix(fit_texts, vocab),
        x_cal=feature_matrix([train_rows.texts[i] for i in cal_idx], vocab),
        x_dev=feature_matrix(dev_rows.texts, vocab),
        fit_labels=[train_rows.labels[i] for i in fit_idx],
        cal_labels=[train_rows.labels[i] for i in cal_idx],
    )
    log(
        f"vocabulary {len(vocab.words)} word + {len(vocab.chars)} char n-grams "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    return features


def train(
    train_rows: Rows,
    dev_rows: Rows,
    labels: Sequence[str],
    s: Settings,
    log=print,
    features: Features | None = None,
) -> tuple[LiteModel, dict]:
    """Train, select C on dev, calibrate on the held-out split; return model and report.

    Args:
        features: ``featurise(train_rows, dev_rows, s)``, when the caller already has it.
    """
    f = features or featurise(train_rows, dev_rows, s, log)
    vocab, x_fit, x_cal, x_dev = f.vocab, f.x_fit, f.x_cal, f.x_dev
    fit_labels, cal_labels = f.fit_labels, f.cal_labels
    k = len(labels)
    target = soft_targets(fit_labels, k)
    hot, first = _multi_hot(dev_rows.labels, k)
    best, theta = None, None
    selection = []
    for c in sorted(s.c_grid):  # weakest C first; softmax fits warm-start the next
        t1 = time.perf_counter()
        w, b, theta = fit_linear(x_fit, target, c, s, theta)
        z_dev = x_dev @ w + b
        acc = any_match_accuracy(z_dev, dev_rows.labels)
        f1 = macro_f1(z_dev.argmax(axis=1), hot, first)
        selection.append({"C": c, "dev_accuracy": round(acc, 4), "dev_macro_f1": round(f1, 4)})
        log(
            f"C={c:g}: dev accuracy {acc:.4f}, macro-F1 {f1:.4f} ({time.perf_counter() - t1:.1f} s)"
        )
        if best is None or (f1, acc) > best[0]:
            best = ((f1, acc), c, w, b)
    assert best is not None
    _, c, w, b = best
    offsets = np.zeros(k)
    if s.offsets:
        offsets = tune_offsets(x_cal @ w + b, cal_labels)
        b = b + offsets
        log(f"offsets {np.round(offsets, 2).tolist()} (macro-F1 on the held-out rows)")
    z_cal = x_cal @ w + b
    temperature = fit_temperature(z_cal, soft_targets(cal_labels, k))
    log(
        f"chosen C={c:g}; temperature {temperature:.3f} (fitted on {len(cal_labels)} held-out rows)"
    )
    top_label = None
    if s.top_label_reg is not None:
        top_label = fit_top_label(z_cal / temperature, cal_labels, s.top_label_reg)
        log(f"top-label map: slope {top_label.slope:.3f}, intercepts {top_label.intercepts}")
    model = LiteModel(
        top_label=top_label,
        vocab=vocab,
        weights=w.astype(np.float32),
        bias=b.astype(np.float32),
        temperature=temperature,
        labels=tuple(labels),
        meta={
            "C": c,
            "seed": s.seed,
            "fit_rows": len(fit_labels),
            "calibration_rows": len(cal_labels),
            "classifier": s.classifier,
            "class_weight_power": s.class_weight_power,
            "offsets": [round(float(o), 2) for o in offsets],
        },
    )
    report = {"selection": selection, "C": c, "temperature": temperature, "offsets": offsets}
    return model, report


def dev_metrics(
    analyzer: LiteTextAnalyzer, dev: Rows, labels: Sequence[str], latency_rows: int = 1000
) -> dict:
    """Measure the shipped model on dev: metrics before/after calibration and latency."""
    golds = [eval_text._to_keys([labels[i] for i in gold], "dev") for gold in dev.labels]
    logits = np.array([analyzer.logits(t) for t in dev.texts])
    out: dict = {}
    stages = {
        "uncalibrated": softmax(logits),
        "temperature": softmax(logits / analyzer.temperature),
        "calibrated": analyzer.calibrate(logits),
    }
    for name, p in stages.items():
        preds = [EMOTIONS[i] for i in p.argmax(axis=1)]
        correct = [pr in g for pr, g in zip(preds, golds, strict=True)]
        out[f"ece_{name}"] = eval_text.expected_calibration_error(list(p.max(axis=1)), correct)
    out.update(eval_text.score(preds, golds))
    majority = eval_text.majority_label(golds)
    out["majority_label"] = majority
    out["majority"] = eval_text.score([majority] * len(golds), golds)
    times = []
    for text in dev.texts[:latency_rows]:
        t0 = time.perf_counter()
        analyzer.analyze(text)
        times.append(1000 * (time.perf_counter() - t0))
    out["latency_ms_median"] = statistics.median(times)
    out["latency_ms_p95"] = sorted(times)[int(0.95 * len(times))]
    return out


def measure_load_ms(path: Path, repeats: int = 5) -> float:
    """Median time to load the model file into an analyzer, in ms."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        LiteTextAnalyzer(read_model(path))
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    """Train, write model.npz and MODEL_CARD.md, print the dev report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--limit", type=int, default=0, help="only the first N train rows")
    parser.add_argument(
        "--baseline", type=Path, help="an earlier model.npz to measure beside the new one"
    )
    parser.add_argument(
        "--variants", type=Path, help="a Markdown table of variants (sweep) for the card"
    )
    args = parser.parse_args(argv)
    if not (args.data / "train.tsv").is_file():
        print(f"error: {args.data / 'train.tsv'} not found; pass --data DIR.", file=sys.stderr)
        return 2
    s = Settings()
    labels = read_label_names(args.data)
    train_rows = read_rows(args.data / "train.tsv", args.limit)
    dev_rows = read_rows(args.data / "dev.tsv")
    t0 = time.perf_counter()
    model, report = train(train_rows, dev_rows, labels, s)
    train_s = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "model.npz"
    save_model(path, model)
    analyzer = LiteTextAnalyzer(read_model(path))
    metrics = dev_metrics(analyzer, dev_rows, labels)
    metrics["load_ms"] = measure_load_ms(path)
    metrics["size_bytes"] = path.stat().st_size
    metrics["train_seconds"] = train_s
    baseline = None
    if args.baseline:
        baseline = dev_metrics(LiteTextAnalyzer(read_model(args.baseline)), dev_rows, labels)
    summary = {k: v for k, v in metrics.items() if k not in ("confusion", "majority")}
    summary["majority_accuracy"] = metrics["majority"]["accuracy"]
    summary["majority_macro_f1"] = metrics["majority"]["macro_f1"]
    print(json.dumps(summary, indent=1))
    print(eval_text.format_per_class(metrics))
    print(eval_text.format_confusion(metrics["confusion"]))
    variants = args.variants.read_text("utf-8").strip() if args.variants else None
    card = model_card(model, s, report, metrics, baseline, variants, train_rows, dev_rows)
    (args.out / "MODEL_CARD.md").write_text(card, "utf-8")
    return 0


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _on(cfg: FeatureConfig, on: bool) -> str:
    """Name the cues of ``cfg`` that are on (``on``) or off."""
    names = ("negation", "emoji", "elongation", "punctuation", "caps")
    picked = [name for name in names if getattr(cfg, name) is on]
    return ", ".join(picked) if picked else "none"


def _classifier_text(s: Settings) -> str:
    """Describe the classifier of ``s`` for the model card."""
    nb = (
        "one-vs-rest NB-LR (Wang & Manning 2012): per class, the features are scaled by "
        f"their log-count ratio (smoothing {s.nb_alpha:g}) and an L2 logistic regression is "
        "fitted on them; the ratios are folded into the weights, so the app runs one "
        "matrix product"
    )
    lr = "multinomial logistic regression, L2 penalty, on soft targets"
    text = {"softmax": lr, "nblr": nb, "both": f"the average of the logits of {lr} and {nb}"}
    weights = (
        f"; rare classes up-weighted by (class frequency)^-{s.class_weight_power:g}"
        if s.class_weight_power
        else ""
    )
    return text[s.classifier] + weights


def _metric_rows(m: dict, base: dict | None) -> str:
    """The dev metrics table rows: shipped, previous model (when given), majority."""
    maj = m["majority"]

    def cells(key: str, fmt) -> str:
        old = fmt(base[key]) if base else ""
        return f"{fmt(m[key])} | {old} | {fmt(maj[key]) if key in maj else ''}"

    four = "{:.4f}".format
    return "\n".join(
        [
            f"| accuracy | {cells('accuracy', _pct)} |",
            f"| macro-F1 | {cells('macro_f1', _pct)} |",
            f"| ECE, no calibration | {four(m['ece_uncalibrated'])} | "
            f"{four(base['ece_uncalibrated']) if base else ''} | |",
            f"| ECE, temperature only | {four(m['ece_temperature'])} | "
            f"{four(base['ece_temperature']) if base else ''} | |",
            f"| **ECE, as shipped** | **{four(m['ece_calibrated'])}** | "
            f"{four(base['ece_calibrated']) if base else ''} | |",
        ]
    )


def _class_rows(m: dict, base: dict | None) -> str:
    """Per-class precision/recall/F1 of the shipped model, recall/F1 of the previous one."""
    rows = []
    for key in EMOTIONS:
        old = f"{_pct(base['recall'][key])} | {_pct(base['f1'][key])}" if base else " | "
        rows.append(
            f"| {key} | {_pct(m['precision'].get(key, 0.0))} | {_pct(m['recall'][key])} | "
            f"{_pct(m['f1'][key])} | {old} |"
        )
    return "\n".join(rows)


def model_card(
    model: LiteModel,
    s: Settings,
    report: dict,
    m: dict,
    base: dict | None,
    variants: str | None,
    train_rows: Rows,
    dev: Rows,
) -> str:
    """Return MODEL_CARD.md for the trained model."""
    cfg = model.vocab.config
    grid = ", ".join(
        f"C={r['C']:g}: {_pct(r['dev_macro_f1'])} / {_pct(r['dev_accuracy'])}"
        for r in report["selection"]
    )
    tl_map = model.top_label
    top_label = (
        "none"
        if tl_map is None
        else f"slope {tl_map.slope:.3f}, intercepts "
        + ", ".join(
            f"{lab} {b:+.2f}" for lab, b in zip(model.labels, tl_map.intercepts, strict=True)
        )
    )
    variants_part = (
        "\n## Variants tried (dev)\nEach fitted on the same fit rows and calibrated on the same "
        "held-out train rows (never dev); `scripts/sweep_lite_text.py` reruns them.\n\n"
        f"{variants}\n"
        if variants
        else ""
    )
    return f"""# builtin:lite: the built-in text emotion model

A small text emotion model that ships inside VSA Desktop and needs nothing but NumPy. The app
uses it when the DistilRoBERTa model (`j-hartmann/emotion-english-distilroberta-base`) is not
available. It is **lighter and less accurate** than DistilRoBERTa; results name it
`builtin:lite` (runtime `numpy`) so that nobody mistakes one for the other.

Generated by `scripts/train_lite_text.py` (seed {model.meta["seed"]}); rerun it to rebuild
this file and `model.npz` (the same data and seed give the same file).

## Data
GoEmotions (Demszky et al., 2020, "GoEmotions: A Dataset of Fine-Grained Emotions",
ACL 2020; Apache-2.0), English Reddit comments, its 27 emotions folded onto Ekman's six plus
neutral by the official `ekman_mapping.json`: anger, disgust, fear, joy, neutral, sadness,
surprise, mapped onto the app's keys angry, disgust, fear, happy, neutral, sad, surprise.
Train split {len(train_rows.texts):,} rows ({model.meta["fit_rows"]:,} to fit the weights,
{model.meta["calibration_rows"]:,} held out at random for calibration only); dev split
{len(dev.texts):,} rows to choose the settings and for the numbers below. The test split was
not used.

## Method
- Features (`vsa_desktop/core/text/lite_features.py`, the same code at training and in the
  app): NFKC normalisation, case folding, emoji variation selectors dropped, curly
  apostrophes straightened; tokens are words of any script, emoticons, or single
  punctuation/emoji characters; word 1-{cfg.word_max_n}-grams and character
  {cfg.char_min_n}-{cfg.char_max_n}-grams inside space-padded words; sublinear tf x smoothed
  idf; the word block and the character block are each L2-normalised.
- Cues (word-block features); on in this model: {_on(cfg, True)}; measured and left off
  (no better on dev): {_on(cfg, False)}. negation: after "not", "never", "don't", "dont"...
  the next words up to punctuation, at most four, become `not_<word>` (their character
  n-grams stay); emoji: emoji and emoticons also emit the words of their Unicode names
  ("😂" -> tears, joy; ":)" -> smiling, like "🙂"); elongation: letter runs shrink to two
  ("soooo" -> "soo") plus an `<elongated>` cue; punctuation: `<!!>`, `<??>`, `<?!>` for
  runs of marks; caps: `<caps>` for a shouted ALL-CAPS word.
- Vocabulary pruned by document frequency (words >= {s.min_df_word} texts, character
  n-grams >= {s.min_df_char}): {len(model.vocab.words):,} word n-grams and cues,
  {len(model.vocab.chars):,} character n-grams.
- Classifier: {_classifier_text(s)}. C chosen on dev by macro-F1 (macro-F1 / accuracy:
  {grid}); chosen C={report["C"]:g}.
- Multi-label rows ({sum(len(g) > 1 for g in train_rows.labels):,} of the train rows have 2-3
  labels): the target is a soft distribution with 1/k on each of the k gold labels.
- Calibration, fitted on the held-out train rows only (never on dev, so the dev ECE below is
  honest): temperature scaling by soft-target log-loss, T = {model.temperature:.3f}; then a
  top-label map ({top_label}): the top class's log-odds are Platt-scaled with a shared slope
  and an intercept per predicted class, the other classes share the rest in their old
  proportions. Class weights make the model over-confident on the classes they favour and
  under-confident on the others; one temperature cannot undo that, this map does, and it
  never changes which class is on top.
- Stored as float16 weights and IDF, a newline-joined vocabulary and a JSON header, no
  pickles.

## Dev results (the shipped float16 file, through the app's analyzer)
Multi-label dev rows count as correct when the prediction matches any gold label (else the
row counts under its first gold label). ECE: 15 equal-width bins, top label. "Previous" is the
lite model this one replaced (v1 features, multinomial LR, temperature only).

| metric | builtin:lite | previous builtin:lite | majority baseline (always {m["majority_label"]}) |
|---|---|---|---|
{_metric_rows(m, base)}

| class | precision | recall | F1 | previous recall | previous F1 |
|---|---|---|---|---|---|
{_class_rows(m, base)}
{variants_part}
## Size and speed
- `model.npz`: {m["size_bytes"] / 1e6:.2f} MB.
- Load: {m["load_ms"]:.0f} ms (median of 5); per text: {m["latency_ms_median"]:.2f} ms median,
  {m["latency_ms_p95"]:.2f} ms 95th percentile over 1,000 dev texts (one at a time), on the
  2-core development machine while other jobs were running.
- Training: {m["train_seconds"] / 60:.0f} minutes on that machine (featurising and fitting).

## Limits
- Trained on English Reddit comments: other languages, registers and domains are read
  poorly (a text in another script mostly falls back to the class priors).
- It reads the emotion a text *expresses*, not the writer's inner state.
- A bag of n-grams: the negation cue helps with "not happy", but sarcasm and irony still
  fool it. Long texts are read as one bag, not window by window.
- Rare classes (fear, disgust) have few training examples; class weights trade some
  precision on them for recall (see the table), which is what lifts macro-F1.
- GoEmotions labels come from crowd raters and are noisy; it carries their biases.

## In the app: calibration and fused readings
The app does not show this model's probabilities as they are: `scripts/calibrate.py` fits a
temperature on the validation split (read alone, the label stays the model's), and moves the
channel to equal emotion priors when text and image are read together. After retraining, run
`scripts/calibrate.py` and `scripts/validate.py`; the validation report
[docs/validation.md](../../../docs/validation.md) has the fused figures.
"""


if __name__ == "__main__":
    sys.exit(main())
