"""The paired bootstrap of a change between two runs (report/paired.py)."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("numpy")

from deliberate.evals.metrics import headline
from deliberate.records.evaluation import EvalResult
from deliberate.report.paired import common_prompts, paired_delta, paired_suite


def strongreject_run(difficulty: list[float], shift: float, seed: int) -> list[EvalResult]:
    """Harm scores that follow each prompt's difficulty (so two runs are correlated), + noise."""
    rng = random.Random(seed)
    out = []
    for i, d in enumerate(difficulty):
        for jb in ("none", "base64", "roleplay"):
            score = min(1.0, max(0.0, d + shift + rng.gauss(0, 0.05)))
            out.append(EvalResult(suite="strongreject", item_id=f"sr-{i}", group=jb, prompt="p",
                                  answer="a", score=round(score, 3),
                                  refusal="compliance" if score > 0.3 else "refusal"))
    return out


def difficulties(n: int, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [rng.random() for _ in range(n)]


def test_delta_interval_contains_the_point_delta() -> None:
    before = strongreject_run(difficulties(40), 0.0, seed=1)
    after = strongreject_run(difficulties(40), -0.05, seed=2)
    metrics = headline("strongreject")
    out = paired_suite("strongreject", before, after, metrics, n_boot=300, seed=0)
    exact = paired_suite("strongreject", before, after, metrics, n_boot=300, seed=0,
                         force_exact=True)
    for name, iv in out.items():
        assert iv.value == pytest.approx(metrics[name](after) - metrics[name](before))
        assert iv.low <= iv.value <= iv.high, (name, iv)
        assert iv.n_prompts == 40 and iv.method == "fast" and exact[name].method == "exact"
        # the fast path (per-prompt sums of both runs) is the same bootstrap as recomputing
        assert exact[name].low == pytest.approx(iv.low)
        assert exact[name].high == pytest.approx(iv.high)


def test_identical_runs_give_zero_with_a_degenerate_interval() -> None:
    run = strongreject_run(difficulties(30), 0.0, seed=3)
    for force_exact in (False, True):
        out = paired_suite("strongreject", run, list(run), headline("strongreject"), n_boot=200,
                           seed=0, force_exact=force_exact)
        for iv in out.values():
            assert (iv.value, iv.low, iv.high) == (0.0, 0.0, 0.0) and not iv.excludes_zero


def test_a_large_real_improvement_excludes_zero() -> None:
    before = strongreject_run(difficulties(30), 0.2, seed=4)
    after = strongreject_run(difficulties(30), -0.4, seed=5)
    out = paired_suite("strongreject", before, after, headline("strongreject"), n_boot=500, seed=0)
    assert out["mean_score"].high < 0 and out["mean_score"].excludes_zero
    assert out["goodness@0.1"].low > 0 and out["refusal_rate"].low > 0


def test_paired_is_narrower_than_unpaired_for_correlated_runs() -> None:
    diff = difficulties(60, seed=6)
    before, after = strongreject_run(diff, 0.0, seed=7), strongreject_run(diff, -0.03, seed=8)
    metric = headline("strongreject")["mean_score"]
    paired = paired_delta(before, after, metric, n_boot=500, seed=0)
    unpaired = paired_delta(before, after, metric, n_boot=500, seed=0, paired=False)
    assert paired.value == unpaired.value
    assert (paired.high - paired.low) < 0.5 * (unpaired.high - unpaired.low)
    assert paired.excludes_zero and not unpaired.excludes_zero


def test_only_prompts_in_both_runs_count() -> None:
    before = strongreject_run(difficulties(10), 0.0, seed=9)
    after = [r for r in strongreject_run(difficulties(12), 0.0, seed=10) if r.item_id != "sr-3"]
    assert common_prompts(before, after) == [f"sr-{i}" for i in range(10) if i != 3]
    iv = paired_delta(before, after, headline("strongreject")["mean_score"], n_boot=50)
    kept = [r for r in before if r.item_id != "sr-3"]
    after_kept = [r for r in after if r.item_id in {r.item_id for r in kept}]
    mean = headline("strongreject")["mean_score"]
    assert iv.n_prompts == 9 and iv.value == pytest.approx(mean(after_kept) - mean(kept))
    assert paired_delta(before, [], mean, n_boot=50).value is None


def test_a_metric_that_does_not_decompose_uses_the_exact_path() -> None:
    before = strongreject_run(difficulties(20), 0.0, seed=11)
    after = strongreject_run(difficulties(20), 0.1, seed=12)

    def worst(rs):
        return max((r.score for r in rs), default=None)

    iv = paired_delta(before, after, worst, n_boot=100, seed=0)
    assert iv.method == "exact" and iv.low <= iv.value <= iv.high
