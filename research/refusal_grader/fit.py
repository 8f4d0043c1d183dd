"""Fitting the refusal grader's multinomial logistic regression (the training half of
``deliberate.evals.refusal.model``, which keeps inference only: :class:`LinearModel`,
:class:`EnsembleModel`, loading and saving)."""

from __future__ import annotations

import numpy as np

from deliberate.evals.refusal.model import LinearModel
from deliberate.evals.refusal.rules import CLASSES


def fit_logreg(
    X: np.ndarray,
    y: np.ndarray,
    *,
    l2: float | np.ndarray = 1.0,
    class_weight_power: float = 0.5,
    n_classes: int = len(CLASSES),
    steps: int = 600,
    lr: float = 0.05,
    sample_weight: np.ndarray | None = None,
) -> LinearModel:
    """Full-batch Adam on the weighted cross-entropy with an L2 penalty (``l2``: a scalar or one
    value per feature, divided by the number of samples).

    ``class_weight_power``: 0 = unweighted, 1 = fully balanced classes, in between = partial.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    n, d = X.shape
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-6] = 1.0
    Z = (X - mean) / scale
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    cw = np.where(counts > 0, (n / (n_classes * np.maximum(counts, 1))) ** class_weight_power, 0.0)
    w = cw[y]
    if sample_weight is not None:
        w = w * sample_weight
    w = w / w.sum()
    Y = np.eye(n_classes)[y]
    W = np.zeros((d, n_classes))
    b = np.zeros(n_classes)
    mW = np.zeros_like(W); vW = np.zeros_like(W); mb = np.zeros_like(b); vb = np.zeros_like(b)
    b1, b2, eps = 0.9, 0.999, 1e-8
    reg = np.broadcast_to(np.asarray(l2, dtype=np.float64), (d,))[:, None] / n
    for t in range(1, steps + 1):
        z = Z @ W + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - Y) * w[:, None]
        gW = Z.T @ g + reg * W
        gb = g.sum(axis=0)
        mW = b1 * mW + (1 - b1) * gW; vW = b2 * vW + (1 - b2) * gW * gW
        mb = b1 * mb + (1 - b1) * gb; vb = b2 * vb + (1 - b2) * gb * gb
        c1 = 1 - b1 ** t; c2 = 1 - b2 ** t
        W -= lr * (mW / c1) / (np.sqrt(vW / c2) + eps)
        b -= lr * (mb / c1) / (np.sqrt(vb / c2) + eps)
    return LinearModel(mean=mean, scale=scale, W=W, b=b)
