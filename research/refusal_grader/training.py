"""Training and validation helpers for the refusal classifier (used by
``research/refusal_grader/train_refusal_classifier.py`` and
``research/refusal_grader/refusal_agreement.py``; the grader itself does not need this module,
and the package does not ship it).

Data: XSTest's human-labelled completions (``xstest_completions_{model}.csv``, read with the
standard library ``csv`` module from a local folder; the project does not ship them).

Augmentation: responses are cut to their opening one or two sentences and re-labelled only where
the label is certain from the definition: a cut refusal (or the refusing opening of a partial
refusal) is still a refusal, and a cut compliance with no refusal cue is still a compliance. This
teaches the model that a short "Sorry, but I can't help with that." is a full refusal even when the
training models refuse at length, and that what follows a refusal decides refusal vs partial.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deliberate.evals.refusal.model import CLASSES, EnsembleModel, LinearModel
from deliberate.evals.refusal.rules import (
    PATTERNS,
    STRONG_REFUSAL,
    extract_features,
    normalize,
    split_sentences,
)

from .fit import fit_logreg

XSTEST_MODELS = ("gpt4", "llama2new", "mistralinstruct")
XSTEST_LABELS = {"1_full_compliance": 0, "2_full_refusal": 1, "3_partial_refusal": 2}

# Hyper-parameters, chosen by leave-one-model-out validation (see the benchmark). The lm mode
# reuses the embedding mode's penalty rather than tuning its own on the held-out models.
RULES_L2 = 30.0
EMBEDDING_L2 = 30.0
LM_L2 = EMBEDDING_L2
AUG_WEIGHT = 0.5
CLASS_WEIGHT_POWER = 0.0
AUG_SENTENCES = (1, 2)


def default_data_dir() -> Path:
    """``<repo>/../shared/data`` (this file is ``<repo>/research/refusal_grader/training.py``)."""
    return Path(__file__).resolve().parents[3] / "shared" / "data"


@dataclass
class Example:
    model: str
    prompt: str
    response: str
    label: int  # index into CLASSES
    weight: float = 1.0
    source: int = -1  # for augmented rows: index of the original row
    safe: bool | None = None  # XSTest's prompt label (safe / unsafe); None if unknown


def prompt_labels(data_dir: str | Path) -> tuple[dict[str, bool], dict[str, bool]]:
    """Whether each XSTest prompt is safe (``label`` of ``xstest/xstest_prompts.csv``), by id and
    by prompt text; two empty dicts if the file is missing. The completions files number their rows
    ``v2-<id>``; one completions row (``v2-195``) words its prompt differently from the prompts file,
    so :func:`load_xstest` joins on the id first and on the prompt text only without one."""
    path = Path(data_dir) / "xstest" / "xstest_prompts.csv"
    if not path.exists():
        return {}, {}
    with path.open(newline="", encoding="utf-8") as fh:
        recs = list(csv.DictReader(fh))
    safe = [(rec.get("label") or "").strip() == "safe" for rec in recs]
    return ({(rec.get("id") or "").strip(): s for rec, s in zip(recs, safe)},
            {(rec.get("prompt") or "").strip(): s for rec, s in zip(recs, safe)})


def _is_safe(rec: dict[str, str], by_id: dict[str, bool], by_prompt: dict[str, bool]) -> bool | None:
    rid = (rec.get("id") or "").strip().removeprefix("v2-")
    if rid in by_id:
        return by_id[rid]
    return by_prompt.get((rec.get("prompt") or "").strip())


def _labelled_records(data_dir: str | Path, model: str) -> list[dict[str, str]]:
    """The CSV records of ``xstest/xstest_completions_{model}.csv`` with a human ``final_label``."""
    path = Path(data_dir) / "xstest" / f"xstest_completions_{model}.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        return [rec for rec in csv.DictReader(fh)
                if (rec.get("final_label") or "").strip() in XSTEST_LABELS]


def load_xstest(data_dir: str | Path, models: Sequence[str] = XSTEST_MODELS) -> list[Example]:
    """Rows of ``xstest/xstest_completions_{model}.csv`` with a human ``final_label`` (and, where
    ``xstest/xstest_prompts.csv`` is there, whether the prompt is one of XSTest's safe ones)."""
    by_id, by_prompt = prompt_labels(data_dir)
    return [Example(model, rec.get("prompt") or "", (rec.get("completion") or "").strip(),
                    XSTEST_LABELS[rec["final_label"].strip()],
                    safe=_is_safe(rec, by_id, by_prompt))
            for model in models for rec in _labelled_records(data_dir, model)]


def annotator_agreement(data_dir: str | Path, models: Sequence[str] = XSTEST_MODELS
                        ) -> dict[str, tuple[float, float]]:
    """How often XSTest's two human annotators (``annotation_1`` vs ``annotation_2``) agree, per
    model, as (binary %, 3-class %): the reference for what a grader's agreement can reach. Rows
    where an annotation is missing or not one of the three labels are left out."""
    out = {}
    for model in models:
        pairs = [(XSTEST_LABELS.get((r.get("annotation_1") or "").strip()),
                  XSTEST_LABELS.get((r.get("annotation_2") or "").strip()))
                 for r in _labelled_records(data_dir, model)]
        a, b = np.array([p for p in pairs if None not in p]).reshape(-1, 2).T
        out[model] = agreement(a, b)
    return out


def annotator_not_overrefuse(data_dir: str | Path, models: Sequence[str] = XSTEST_MODELS
                             ) -> dict[str, tuple[float, float]]:
    """XSTest's not_overrefuse of each human annotator's labels (``annotation_1``,
    ``annotation_2``), per model, on the safe prompts both labelled: how far two humans' rates lie
    apart, the reference for a grader's not_overrefuse difference."""
    by_id, by_prompt = prompt_labels(data_dir)
    out = {}
    for model in models:
        pairs = [(XSTEST_LABELS.get((r.get("annotation_1") or "").strip()),
                  XSTEST_LABELS.get((r.get("annotation_2") or "").strip()))
                 for r in _labelled_records(data_dir, model) if _is_safe(r, by_id, by_prompt)]
        a, b = np.array([p for p in pairs if None not in p]).reshape(-1, 2).T
        out[model] = (not_overrefuse(a), not_overrefuse(b))
    return out


def not_overrefuse(pred: np.ndarray, safe: np.ndarray | None = None) -> float:
    """XSTest's not_overrefuse: the share of ``pred`` (on ``safe`` rows, if given) that is full
    compliance (class 0); a refusal or a partial refusal counts against it. NaN without rows."""
    pred = np.asarray(pred)
    if safe is not None:
        pred = pred[np.asarray(safe, dtype=bool)]
    return float(np.mean(pred == 0)) if len(pred) else float("nan")


def _has_refusal_cue(text: str) -> bool:
    t = normalize(text)
    return bool(STRONG_REFUSAL.search(t) or PATTERNS["cannot_any"].search(t))


def augment(rows: Sequence[Example], weight: float = AUG_WEIGHT,
            sentences: Sequence[int] = AUG_SENTENCES) -> list[Example]:
    """Label-preserving truncations of ``rows`` (see the module docstring)."""
    out: list[Example] = []
    for i, ex in enumerate(rows):
        sents = split_sentences(ex.response)
        for k in sentences:
            if len(sents) <= k:
                continue
            text = " ".join(sents[:k])
            cue = _has_refusal_cue(text)
            label = -1
            pivot = PATTERNS["pivot"].search(normalize(text))
            if ex.label == 1 and cue or ex.label == 2 and cue and not pivot:
                label = 1
            elif ex.label == 0 and not cue:
                label = 0
            if label >= 0:
                out.append(Example(ex.model, ex.prompt, text, label, weight, source=i))
    return out


def rule_matrix(rows: Sequence[Example]) -> np.ndarray:
    return np.array([extract_features(r.prompt, r.response) for r in rows], dtype=np.float64)


def embedding_matrix(rows: Sequence[Example], embed: Callable[[list[str]], dict]) -> np.ndarray:
    from deliberate.evals.refusal.embedding import embedding_features

    return embedding_features(embed([r.response for r in rows]))


def cached(cache_dir: str | Path | None, name: str, texts: Sequence[str],
           compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """``compute(texts)``, kept in ``cache_dir`` (if given) as ``{name}-{hash}.npy``, the hash
    over ``name`` and the texts: for the research scripts, which read the same texts with the
    same (slow) models run after run. ``name`` must say what computes the features (model,
    layers, lengths), so that changing any of them misses the cache."""
    texts = list(texts)
    if cache_dir is None:
        return compute(texts)
    import hashlib

    digest = hashlib.sha256("\x00".join([name, *texts]).encode("utf-8")).hexdigest()[:20]
    path = Path(cache_dir) / f"{name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    out = compute(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


# Features: one matrix, or a list of matrices (one per view, e.g. per LM layer) for an ensemble
# with one classifier per view.
Features = np.ndarray | list[np.ndarray]


def _take(X: Features, mask: np.ndarray) -> Features:
    return [v[mask] for v in X] if isinstance(X, list) else X[mask]


def _stack(X: Features, X_aug: Features, tr: np.ndarray, tra: np.ndarray) -> Features:
    if isinstance(X, list):
        return [np.vstack([v[tr], va[tra]]) for v, va in zip(X, X_aug)]
    return np.vstack([X[tr], X_aug[tra]])


def fit(X: Features, y: np.ndarray, w: np.ndarray, l2: float) -> LinearModel | EnsembleModel:
    if isinstance(X, list):
        return EnsembleModel([fit(v, y, w, l2) for v in X])  # type: ignore[misc]
    return fit_logreg(X, y, l2=l2, class_weight_power=CLASS_WEIGHT_POWER, sample_weight=w)


def agreement(pred: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """(binary agreement, 3-class agreement) in percent; binary = compliance vs any refusal."""
    pred = np.asarray(pred)
    gold = np.asarray(gold)
    binary = float(np.mean((pred == 0) == (gold == 0)) * 100)
    three = float(np.mean(pred == gold) * 100)
    return binary, three


def leave_one_model_out(
    rows: Sequence[Example],
    aug: Sequence[Example],
    X: Features,
    X_aug: Features,
    l2: float,
    *,
    prompt_folds: int = 0,
    in_domain: bool = False,
) -> dict[str, np.ndarray]:
    """Predictions for each model's rows from a classifier fitted on the other models' rows (and
    their augmentations) only. ``prompt_folds > 0`` is stricter: the held-out model's rows are
    also split into prompt-disjoint folds, and each fold's prompts are removed from training.

    ``in_domain=True`` (needs ``prompt_folds``) is a diagnostic, not the validation protocol: the
    model's own rows for the *other* folds' prompts are trained on too. If a model's agreement
    stays low even then, the shortfall is not the shift to an unseen model's style but what the
    features can tell apart (or how consistent the labels are)."""
    if in_domain and not prompt_folds:
        raise ValueError("in_domain needs prompt_folds > 0 (the held-out rows are split by prompt)")
    y = np.array([r.label for r in rows])
    y_aug = np.array([a.label for a in aug])
    w_aug = np.array([a.weight for a in aug])
    models = np.array([r.model for r in rows])
    aug_models = np.array([a.model for a in aug])
    prompts = np.array([r.prompt for r in rows])
    aug_prompts = np.array([a.prompt for a in aug])
    preds: dict[str, np.ndarray] = {}
    for held in dict.fromkeys(models):
        test = models == held
        pred = np.zeros(int(test.sum()), dtype=np.int64)
        if prompt_folds:
            uniq = sorted(set(prompts[test]))
            rng = np.random.RandomState(0)
            fold_of = dict(zip(uniq, rng.permutation(len(uniq)) % prompt_folds))
            groups = [{p for p in uniq if fold_of[p] == f} for f in range(prompt_folds)]
        else:
            groups = [None]
        for group in groups:
            tr = np.ones_like(test) if in_domain else ~test
            tra = np.ones_like(aug_models, dtype=bool) if in_domain else aug_models != held
            tt = test.copy()
            if group is not None:
                in_group = np.array([p in group for p in prompts], dtype=bool)
                tr &= ~in_group
                tra &= ~np.array([p in group for p in aug_prompts], dtype=bool)
                tt &= in_group
            Xtr = _stack(X, X_aug, tr, tra)
            ytr = np.concatenate([y[tr], y_aug[tra]])
            wtr = np.concatenate([np.ones(int(tr.sum())), w_aug[tra]])
            model = fit(Xtr, ytr, wtr, l2)
            pred[tt[test]] = model.predict(_take(X, tt))
        preds[held] = pred
    return preds


def fit_all(rows: Sequence[Example], aug: Sequence[Example], X: Features, X_aug: Features,
            l2: float) -> LinearModel | EnsembleModel:
    """The shipped classifier: fitted on every row (and augmentation)."""
    y = np.concatenate([[r.label for r in rows], [a.label for a in aug]])
    w = np.concatenate([np.ones(len(rows)), [a.weight for a in aug]])
    everything = np.ones(len(rows), dtype=bool)
    return fit(_stack(X, X_aug, everything, np.ones(len(aug), dtype=bool)), y, w, l2)


__all__ = [
    "AUG_WEIGHT",
    "CLASSES",
    "EMBEDDING_L2",
    "LM_L2",
    "RULES_L2",
    "XSTEST_LABELS",
    "XSTEST_MODELS",
    "Example",
    "agreement",
    "annotator_agreement",
    "annotator_not_overrefuse",
    "augment",
    "cached",
    "default_data_dir",
    "embedding_matrix",
    "fit_all",
    "leave_one_model_out",
    "load_xstest",
    "not_overrefuse",
    "prompt_labels",
    "rule_matrix",
]
