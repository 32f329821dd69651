"""Fitting and measuring calibration (used by ``scripts/calibrate.py``, ``validate.py``, tests).

Not used by the running app (which only applies fitted maps, ``core.calibration``); SciPy is
imported inside the fitting functions, so this module costs nothing to import.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vsa_desktop.core.calibration import agreement_temperatures, log_probs, softmax_rows

N_CLASSES = 7


def class_weights(labels: np.ndarray, balanced: bool, n_classes: int = N_CLASSES) -> np.ndarray:
    """Per-row weights summing to 1: equal per class when ``balanced``, else equal per row."""
    if not balanced:
        return np.full(len(labels), 1.0 / len(labels))
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    present = counts > 0
    weights = np.where(present[labels], 1.0 / np.maximum(counts[labels], 1.0), 0.0)
    return np.asarray(weights / weights.sum())


def _nll(logits: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    z = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    picked = z[np.arange(len(labels)), labels] - log_norm
    return float(-(weights * picked).sum())


def fit_bcts(
    probs: np.ndarray, labels: np.ndarray, balanced: bool = True, with_bias: bool = True
) -> tuple[float, np.ndarray]:
    """Fit bias-corrected temperature scaling: ``q ∝ exp(log p / T + b)``.

    Args:
        probs: (n, 7) probabilities.
        labels: (n,) true class indices.
        balanced: weight the log-loss equally per class (calibration under equal priors).
        with_bias: fit the per-class offsets (else plain temperature scaling, b = 0).

    Returns:
        (T, b) with ``b[0] == 0`` (offsets are only defined up to a constant).
    """
    from scipy.optimize import minimize

    lp = log_probs(probs)
    weights = class_weights(labels, balanced, probs.shape[1])
    n_bias = probs.shape[1] - 1 if with_bias else 0

    def objective(x: np.ndarray) -> float:
        bias = np.concatenate([[0.0], x[1:]]) if n_bias else 0.0
        return _nll(lp / np.exp(x[0]) + bias, labels, weights)

    found = minimize(objective, np.zeros(1 + n_bias), method="L-BFGS-B")
    bias = np.concatenate([[0.0], found.x[1:]]) if n_bias else np.zeros(probs.shape[1])
    return float(np.exp(found.x[0])), bias


def apply_agreement_temperature(
    pooled: np.ndarray, theta: np.ndarray, features: np.ndarray
) -> np.ndarray:
    """Pooled distributions sharpened/flattened by the agreement-aware temperature."""
    temperature = agreement_temperatures(theta, features)
    return softmax_rows(log_probs(pooled) / temperature[:, None])


def fit_agreement_temperature(
    pooled: np.ndarray,
    features: np.ndarray,
    right: np.ndarray,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Fit θ of the agreement-aware temperature so the top probability is calibrated.

    The loss is the log-loss of the top label being right (the number a person sees), not of
    the whole distribution; the temperature keeps every label's rank, so the top label is the
    pooled one whatever θ is.

    Args:
        pooled: (n, 7) pooled distributions.
        features: (n, k) what the temperature depends on (``calibration.fusion_features``).
        right: whether the pooled top label is right, per row.
        weights: per-row weights (default: equal).

    Returns:
        θ, one value per feature column.
    """
    from scipy.optimize import minimize

    lp = log_probs(pooled)
    w = np.full(len(right), 1.0 / len(right)) if weights is None else weights / weights.sum()
    hit = right.astype(bool)

    def objective(theta: np.ndarray) -> float:
        temperature = agreement_temperatures(theta, features)
        top = softmax_rows(lp / temperature[:, None]).max(axis=1)
        top = np.clip(top, 1e-9, 1 - 1e-9)
        return float(-(w * np.where(hit, np.log(top), np.log1p(-top))).sum())

    options = {"xatol": 1e-6, "fatol": 1e-10, "maxiter": 400 * features.shape[1]}
    found = minimize(objective, np.zeros(features.shape[1]), method="Nelder-Mead", options=options)
    return np.asarray(found.x)


@dataclass(frozen=True)
class Reliability:
    """Reliability-diagram bins: count, mean confidence and accuracy per bin."""

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def ece(self) -> float:
        """Expected calibration error: the count-weighted mean |accuracy - confidence|."""
        total = self.counts.sum()
        if total == 0:
            return 0.0
        gaps = np.abs(self.accuracy - self.confidence)
        return float((self.counts * np.nan_to_num(gaps)).sum() / total)


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10, weights: np.ndarray | None = None
) -> Reliability:
    """Bin confidences into ``bins`` equal-width bins of [0, 1] (the last bin includes 1)."""
    weights = np.ones(len(confidence)) if weights is None else weights
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=False), 0, bins - 1)
    counts = np.zeros(bins)
    conf = np.full(bins, np.nan)
    acc = np.full(bins, np.nan)
    for b in range(bins):
        member = index == b
        w = weights[member]
        if w.sum() > 0:
            counts[b] = w.sum()
            conf[b] = np.average(confidence[member], weights=w)
            acc[b] = np.average(correct[member].astype(np.float64), weights=w)
    return Reliability(edges, counts, conf, acc)


def ece(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of top-label confidences (``bins`` equal-width bins)."""
    return reliability(confidence, correct, bins).ece


def nll(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of the true labels."""
    return float(-np.mean(log_probs(probs[np.arange(len(labels)), labels])))


def brier(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean multi-class Brier score."""
    onehot = np.eye(probs.shape[1])[labels]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


def fit_isotonic(confidence: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Isotonic regression of correctness on confidence (pool-adjacent-violators).

    Returns:
        Breakpoints (x, y), non-decreasing, for ``np.interp``.
    """
    order = np.argsort(confidence, kind="stable")
    x = confidence[order].astype(np.float64)
    y = correct[order].astype(np.float64)
    # blocks of (sum, count, x-mean)
    sums: list[float] = []
    counts: list[float] = []
    xs: list[float] = []
    for xi, yi in zip(x, y, strict=True):
        sums.append(yi)
        counts.append(1.0)
        xs.append(xi)
        while len(sums) > 1 and sums[-2] / counts[-2] > sums[-1] / counts[-1]:
            s, c, xm = sums.pop(), counts.pop(), xs.pop()
            xs[-1] = (xs[-1] * counts[-1] + xm * c) / (counts[-1] + c)
            sums[-1] += s
            counts[-1] += c
    return np.array(xs), np.array([s / c for s, c in zip(sums, counts, strict=True)])
