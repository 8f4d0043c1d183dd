"""A small multinomial logistic regression in numpy: training (for the benchmark and the training
script) and inference (for the grader). Weights are stored as plain arrays in an ``.npz`` file, so
inference needs only numpy (plus the embedding model in the embedding mode)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .rules import CLASSES


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log of the softmax, shifted by the row maximum so large logits do not overflow."""
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


# The arrays a saved model file holds, besides its metadata (in this order).
_ARRAYS = ("mean", "scale", "W", "b", "decision_bias")


def _load_arrays(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(the model arrays, as float64; the rest of the file: metadata) of a saved model file."""
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    return {k: data.pop(k).astype(np.float64) for k in _ARRAYS}, data


@dataclass
class LinearModel:
    """``softmax(((x - mean) / scale) @ W + b) `` with a per-class additive bias at decision time."""

    mean: np.ndarray
    scale: np.ndarray
    W: np.ndarray
    b: np.ndarray
    decision_bias: np.ndarray = field(default_factory=lambda: np.zeros(len(CLASSES)))

    def logits(self, X: np.ndarray) -> np.ndarray:
        Z = (np.asarray(X, dtype=np.float64) - self.mean) / self.scale
        return Z @ self.W + self.b

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.exp(log_softmax(self.logits(X)))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.argmax(self.logits(X) + self.decision_bias, axis=1)

    # ---------------------------------------------------------------- persistence
    def save(self, path: str | Path, **meta: np.ndarray | str) -> None:
        np.savez_compressed(path, **{k: getattr(self, k).astype(np.float32) for k in _ARRAYS},
                            **{k: np.asarray(v) for k, v in meta.items()})

    @classmethod
    def load(cls, path: str | Path) -> tuple[LinearModel, dict[str, np.ndarray]]:
        arrays, meta = _load_arrays(path)
        return cls(**arrays), meta


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


@dataclass
class EnsembleModel:
    """One :class:`LinearModel` per feature *view* (e.g. per LM layer); the ensemble's score is the
    mean of the members' log-probabilities. All members have the same input width."""

    members: list[LinearModel]

    def logits(self, views: list[np.ndarray]) -> np.ndarray:
        if len(views) != len(self.members):
            raise ValueError(f"{len(views)} feature views for {len(self.members)} members")
        return np.mean([log_softmax(m.logits(X) + m.decision_bias)
                        for m, X in zip(self.members, views)], axis=0)

    def predict(self, views: list[np.ndarray]) -> np.ndarray:
        return np.argmax(self.logits(views), axis=1)

    def save(self, path: str | Path, **meta: np.ndarray | str) -> None:
        stack = {k: np.stack([getattr(m, k) for m in self.members]).astype(np.float32)
                 for k in _ARRAYS}
        np.savez_compressed(path, n_members=len(self.members), **stack,
                            **{k: np.asarray(v) for k, v in meta.items()})

    @classmethod
    def load(cls, path: str | Path) -> tuple[EnsembleModel, dict[str, np.ndarray]]:
        arrays, meta = _load_arrays(path)
        n = int(meta.pop("n_members"))
        return cls([LinearModel(**{k: v[i] for k, v in arrays.items()}) for i in range(n)]), meta
