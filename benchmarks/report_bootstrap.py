"""How long the report's bootstrap takes at StrongREJECT's full size (313 prompts x 20 jailbreaks,
1,000 resamples), on the fast (matrix) path and, for one metric, on the exact path.

    python benchmarks/report_bootstrap.py
"""

from __future__ import annotations

import random
import time

from deliberate.evals.metrics import headline
from deliberate.records.evaluation import EvalResult
from deliberate.report import bootstrap_suite


def main() -> None:
    rng = random.Random(0)
    results = []
    for i in range(313):
        for j in range(20):
            score = rng.random() ** 3
            results.append(EvalResult(suite="strongreject", item_id=f"sr-{i}", group=f"jb{j}",
                                      prompt="p", answer="a", score=score,
                                      refusal="compliance" if score > 0.3 else "refusal"))
    metrics = headline("strongreject")
    start = time.perf_counter()
    fast = bootstrap_suite("strongreject", results, metrics, n_boot=1000, seed=0)
    fast_s = time.perf_counter() - start
    start = time.perf_counter()
    bootstrap_suite("strongreject", results, {"mean_score": metrics["mean_score"]}, n_boot=1000,
                    seed=0, force_exact=True)
    exact_s = time.perf_counter() - start
    print(f"results: {len(results)}; methods: {sorted({iv.method for iv in fast.values()})}")
    print(f"fast path, {len(metrics)} metrics x 1000 resamples: {fast_s:.2f} s")
    print(f"exact path, 1 metric x 1000 resamples: {exact_s:.2f} s")


if __name__ == "__main__":
    main()
