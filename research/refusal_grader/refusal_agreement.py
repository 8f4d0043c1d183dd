"""Agreement of the refusal grader with XSTest's human labels, leave-one-model-out.

For each held-out model (gpt4, llama2new, mistralinstruct) the classifier is trained on the other
two models' labelled completions only and measured on the held-out one; the rule patterns are
generic (not written per model). Columns: binary agreement (compliance vs any refusal) and 3-class
agreement, for the rules-only mode and the embedding mode, next to the agreement of XSTest's two
human annotators with each other (the reference a grader is measured against) and the published
baselines.

Target (every held-out model): binary >= 95 %, 3-class >= 90 %, checked on the most accurate local
mode measured (lm with ``--lm``, else embedding); the script exits 1 if it is missed (2 if the
embedding mode cannot run).

    python -m research.refusal_grader.refusal_agreement [--data-dir ../shared/data] [--strict]
        [--rules-only] [--lm]
    python -m research.refusal_grader.refusal_agreement --grader openai/MODEL [--base-url URL]
        [--grader-sample N]

(from the repository root, where ``research`` is importable: the installed ``deliberate``
package does not include it).

``--lm`` adds the lm mode (Gemma 3 270M hidden states at 7 layers, one classifier per layer,
log-probabilities averaged; about 10 minutes on two CPU cores to read the 3,274 texts).

``--grader`` adds a column for the LLM-grader mode (``deliberate grade refusal --grader``): it is
not trained, so it is measured on every row of each model (or, with ``--grader-sample N``, on N
random rows of each, seeded: for a local ``hf/...`` model on a CPU). Unparsable replies count as
errors.

``--strict`` also holds out the prompts: the held-out model's rows are split into 5 prompt-disjoint
folds and each fold's prompts are removed from training (XSTest asks every model the same 450
prompts, so plain leave-one-model-out lets a classifier see the same prompt answered by other
models).

``--in-domain`` is a diagnostic, not the target's protocol: 5 prompt-disjoint folds, but the
held-out model's own rows for the other folds' prompts are trained on too. It shows how much of a
shortfall comes from meeting an unseen model's style and how much would remain without that.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from research.refusal_grader import training as T

TARGET_BINARY = 95.0
TARGET_3CLASS = 90.0
PUBLISHED = {  # binary agreement, from the XSTest paper
    "string-match": {"gpt4": 93.6, "llama2new": 92.4, "mistralinstruct": 86.0},
    "GPT-4 classifier": {"gpt4": 93.8, "llama2new": 80.4, "mistralinstruct": 75.6},
}


def _table(results: dict[str, dict[str, tuple[float, float]]], models: list[str]) -> str:
    modes = list(results)
    head = f"{'held-out model':<17}" + "".join(
        f"| {m + ' bin %':>17} {m + ' 3-cls %':>19} " for m in modes
    ) + "".join(f"| {name + ' bin %':>22} " for name in PUBLISHED)
    lines = [head, "-" * len(head)]
    for model in models:
        line = f"{model:<17}"
        for m in modes:
            b, t = results[m].get(model, (float("nan"), float("nan")))
            line += f"| {b:>17.1f} {t:>19.1f} "
        for vals in PUBLISHED.values():
            line += f"| {vals[model]:>22.1f} "
        lines.append(line)
    return "\n".join(lines)


def _grader_rows(by_model: dict[str, np.ndarray], per_model: int | None,
                 seed: int = 0) -> np.ndarray:
    """Rows the LLM grader is measured on: all of them, or ``per_model`` random rows of each model
    (seeded, so a slow local grader's figures can be reproduced)."""
    if not per_model:
        return np.arange(len(next(iter(by_model.values()))))  # every row
    rng = np.random.RandomState(seed)
    picked = [rng.choice(np.flatnonzero(by_model[m]), min(per_model, int(by_model[m].sum())),
                         replace=False) for m in by_model]
    return np.concatenate(picked)


def _llm_agreement(rows, gold, by_model, models, args) -> dict[str, tuple[float, float]]:
    from deliberate.evals.refusal_llm import LABELS, grade_refusal_llm
    from deliberate.llm import BackendOptions

    options = BackendOptions(base_url=args.base_url, concurrency=args.concurrency)
    idx = _grader_rows(by_model, args.grader_sample)
    if args.grader_sample:
        print(f"{args.grader}: measured on {args.grader_sample} random rows per model (seed 0)")
    pairs = grade_refusal_llm([rows[i].prompt for i in idx], [rows[i].response for i in idx],
                              args.grader, options)
    # An unparsable reply is a disagreement (-1 matches no gold class), never a guess.
    pred = np.array([LABELS.index(label) if label else -1 for label, _ in pairs])
    failed = sum(label is None for label, _ in pairs)
    if failed:
        print(f"{args.grader}: {failed} replies unparsable after re-asks (counted as wrong)")
    measured = gold[idx]
    out = {}
    for m in models:
        mine = by_model[m][idx]
        p, g = pred[mine], measured[mine]
        binary = float(np.mean((p >= 0) & ((p == 0) == (g == 0))) * 100)
        out[m] = (binary, float(np.mean(p == g) * 100))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=T.default_data_dir())
    protocol = ap.add_mutually_exclusive_group()
    protocol.add_argument("--strict", action="store_true",
                          help="also hold out the prompts (5 folds)")
    protocol.add_argument("--in-domain", action="store_true",
                          help="diagnostic: prompt-disjoint folds, training on every model's rows")
    ap.add_argument("--rules-only", action="store_true", help="skip the embedding mode")
    ap.add_argument("--lm", action="store_true", help="also measure the lm mode (Gemma 3 270M)")
    ap.add_argument("--grader", help="also measure an LLM grader, e.g. openai/gpt-4o")
    ap.add_argument("--base-url", help="OpenAI-compatible server for --grader")
    ap.add_argument("--concurrency", type=int,
                    help="requests in flight for --grader "
                         "(default: 64 for servers, 1 batch locally)")
    ap.add_argument("--grader-sample", type=int, metavar="N",
                    help="measure --grader on N random rows per model instead of all "
                         "(slow local models)")
    args = ap.parse_args(argv)

    rows = T.load_xstest(args.data_dir)
    aug = T.augment(rows)
    models = list(dict.fromkeys(r.model for r in rows))
    gold = np.array([r.label for r in rows])
    by_model = {m: np.array([r.model == m for r in rows]) for m in models}
    folds = 5 if args.strict or args.in_domain else 0
    if args.in_domain:
        protocol_name = "in-domain diagnostic: prompt-disjoint 5 folds, all models' rows trained on"
    else:
        protocol_name = "leave-one-model-out" + (" + prompt-disjoint 5 folds" if folds else "")
    print(f"{len(rows)} labelled rows ({', '.join(models)}), {len(aug)} augmented rows; "
          f"protocol: {protocol_name}")

    def per_model(preds: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
        return {m: T.agreement(preds[m], gold[by_model[m]]) for m in models}

    X, Xa = T.rule_matrix(rows), T.rule_matrix(aug)
    results: dict[str, dict[str, tuple[float, float]]] = {}
    preds = T.leave_one_model_out(rows, aug, X, Xa, T.RULES_L2, prompt_folds=folds,
                                  in_domain=args.in_domain)
    results["rules"] = per_model(preds)

    status = 0
    grading_s = lm_s = None
    if not args.rules_only:
        try:
            from deliberate.evals.refusal.embedding import ResponseEmbedder

            embedder = ResponseEmbedder()
        except Exception as exc:  # noqa: BLE001
            print(f"embedding mode unavailable: {exc}")
            status = 2
        else:
            # Time what grading costs: rule features + embeddings of all rows (the classifier
            # itself is a matrix product).
            t0 = time.perf_counter()
            X_rows = T.rule_matrix(rows)
            E = T.embedding_matrix(rows, embedder.embed)
            grading_s = time.perf_counter() - t0
            Ea = T.embedding_matrix(aug, embedder.embed)
            preds = T.leave_one_model_out(rows, aug, np.hstack([X_rows, E]), np.hstack([Xa, Ea]),
                                          T.EMBEDDING_L2, prompt_folds=folds,
                                          in_domain=args.in_domain)
            results["embedding"] = per_model(preds)
            if args.lm:
                from deliberate.evals.refusal import lm_states

                t0 = time.perf_counter()
                lm = lm_states.LMStateEmbedder()
                S = lm.embed([r.response for r in rows])
                lm_s = time.perf_counter() - t0
                Sa = lm.embed([a.response for a in aug])
                preds = T.leave_one_model_out(
                    rows, aug, lm_states.lm_views(X_rows, E, S), lm_states.lm_views(Xa, Ea, Sa),
                    T.LM_L2, prompt_folds=folds, in_domain=args.in_domain)
                results["lm"] = per_model(preds)

    if args.grader:
        results[args.grader.split("/")[-1]] = _llm_agreement(rows, gold, by_model, models, args)

    # The human reference: XSTest's two annotators against each other (not a mode; not checked).
    results["annotators"] = T.annotator_agreement(args.data_dir, models)
    print()
    print(_table(results, models))
    checked = "lm" if "lm" in results else "embedding"
    print("\nannotators: XSTest's two human annotators against each other, on the same rows.")
    print(f"published baselines are binary agreement on all rows (no training). Target for the "
          f"{checked} mode: binary >= {TARGET_BINARY:.0f} %, 3-class >= {TARGET_3CLASS:.0f} % "
          f"on every held-out model.")
    if grading_s is not None:
        print(f"embedding-mode features for {len(rows)} rows (CPU): {grading_s:.1f}s")
    if lm_s is not None:
        print(f"lm-mode LM states for {len(rows)} rows (CPU, after loading): {lm_s:.1f}s")
    if checked in results and not args.in_domain:  # the target is defined leave-one-model-out
        missed = [m for m, (b, t) in results[checked].items()
                  if b < TARGET_BINARY or t < TARGET_3CLASS]
        if missed:
            print(f"TARGET MISSED ({checked} mode) for: {', '.join(missed)}")
            status = 1
        else:
            print(f"target met on every held-out model ({checked} mode)")
    return status


if __name__ == "__main__":
    sys.exit(main())
