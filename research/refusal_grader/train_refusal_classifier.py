"""Train the refusal grader's classifiers on all XSTest labelled completions and write the weights
the package ships (``src/deliberate/evals/refusal/weights_{rules,embedding,lm}.npz``).

    python -m research.refusal_grader.train_refusal_classifier [--data-dir ../shared/data]
        [--out-dir DIR] [--lm]

(from the repository root, where ``research`` is importable: the installed ``deliberate``
package does not include it).

The classifiers are multinomial logistic regressions in numpy (fitted by ``fit.fit_logreg``, run
by ``deliberate.evals.refusal.model``): rules mode on the hand-written rule features, embedding
mode on rule features + MiniLM embeddings of the response, and (with ``--lm``, about 10 minutes on
two CPU cores) the lm mode: one per layer of Gemma 3 270M on the embedding mode's features + that
layer's pooled states. Training data: the 3 x 450 human-labelled completions plus label-preserving
truncations (``training.augment``). The hyper-parameters are the ones the leave-one-model-out
benchmark (``research/refusal_grader/refusal_agreement.py``) validates.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from deliberate.evals.refusal.grader import (
    EMBEDDING_WEIGHTS,
    LM_WEIGHTS,
    RULES_WEIGHTS,
    WEIGHTS_DIR,
)
from research.refusal_grader import training as T


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=T.default_data_dir())
    ap.add_argument("--out-dir", type=Path, default=WEIGHTS_DIR)
    ap.add_argument("--rules-only", action="store_true", help="skip the embedding classifier")
    ap.add_argument("--lm", action="store_true",
                    help="also train the lm mode (Gemma 3 270M states)")
    args = ap.parse_args(argv)

    rows = T.load_xstest(args.data_dir)
    aug = T.augment(rows)
    print(f"{len(rows)} labelled rows, {len(aug)} augmented rows", flush=True)
    X, Xa = T.rule_matrix(rows), T.rule_matrix(aug)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    rules = T.fit_all(rows, aug, X, Xa, T.RULES_L2)
    rules.save(args.out_dir / RULES_WEIGHTS, kind="rules", l2=T.RULES_L2)
    print(f"wrote {args.out_dir / RULES_WEIGHTS}")
    if args.rules_only:
        return 0

    from deliberate.evals.refusal.embedding import (
        DEFAULT_HEAD_SENTENCES,
        DEFAULT_MAX_LENGTH,
        ResponseEmbedder,
    )

    t0 = time.perf_counter()
    embedder = ResponseEmbedder()
    E = T.embedding_matrix(rows, embedder.embed)
    Ea = T.embedding_matrix(aug, embedder.embed)
    print(f"embedded {len(rows) + len(aug)} texts in {time.perf_counter() - t0:.1f}s", flush=True)
    model = T.fit_all(rows, aug, np.hstack([X, E]), np.hstack([Xa, Ea]), T.EMBEDDING_L2)
    model.save(args.out_dir / EMBEDDING_WEIGHTS, kind="embedding", l2=T.EMBEDDING_L2,
               max_length=DEFAULT_MAX_LENGTH, head_sentences=DEFAULT_HEAD_SENTENCES)
    print(f"wrote {args.out_dir / EMBEDDING_WEIGHTS}")
    if args.lm:
        from deliberate.evals.refusal import lm_states

        t0 = time.perf_counter()
        lm = lm_states.LMStateEmbedder()
        S, Sa = lm.embed([r.response for r in rows]), lm.embed([a.response for a in aug])
        print(f"LM states of {len(rows) + len(aug)} texts in {time.perf_counter() - t0:.1f}s",
              flush=True)
        ensemble = T.fit_all(rows, aug, lm_states.lm_views(X, E, S), lm_states.lm_views(Xa, Ea, Sa),
                             T.LM_L2)
        ensemble.save(args.out_dir / LM_WEIGHTS, kind="lm", l2=T.LM_L2, lm_ref=lm_states.DEFAULT_LM,
                      layers=np.array(lm.layers), hidden_size=lm.hidden_size,
                      max_length=lm.max_length, head_sentences=lm.head_sentences)
        print(f"wrote {args.out_dir / LM_WEIGHTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
