"""The refusal grader's classifiers at inference time: a small multinomial logistic regression in
numpy (and a per-view ensemble of them). Weights are stored as plain arrays in an ``.npz`` file, so
inference needs only numpy (plus the embedding model in the embedding mode). Training them is
research code, not part of the package: ``research/refusal_grader/`` in the source repository."""

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
