"""Metric building blocks shared by the suites, and one suite's ``metrics.json`` entry.

The headline metrics themselves live with their suite (``evals/suites/``), each a pure function
of the suite's results, so the report can recompute and bootstrap them by resampling prompts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from deliberate.records.evaluation import EvalResult

if TYPE_CHECKING:
    from deliberate.evals.suites.base import Metric, Suite

COMPLIANCE = "compliance"


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean; None for no values (a metric with nothing to measure)."""
    return sum(values) / len(values) if values else None


def rate(results: Sequence[EvalResult], predicate: Callable[[EvalResult], bool]) -> float | None:
    """Share of the results with a refusal label that satisfy ``predicate``."""
    graded = [r for r in results if r.refusal is not None]
    return mean([1.0 if predicate(r) else 0.0 for r in graded])


def refusal_rate(results: Sequence[EvalResult]) -> float | None:
    """Share of graded answers that refuse, fully or partly."""
    return rate(results, lambda r: r.refusal != COMPLIANCE)


def compliance_rate(results: Sequence[EvalResult]) -> float | None:
    """Share of graded answers that fully comply."""
    return rate(results, lambda r: r.refusal == COMPLIANCE)


def mean_score(results: Sequence[EvalResult]) -> float | None:
    """Mean of the graded scores."""
    return mean([r.score for r in results if r.score is not None])


def by_group(results: Sequence[EvalResult],
             metric: Callable[[Sequence[EvalResult]], float | None]) -> dict[str, float | None]:
    """``metric`` on each group (jailbreak, type, category) of results."""
    groups: dict[str, list[EvalResult]] = defaultdict(list)
    for r in results:
        groups[r.group or "none"].append(r)
    return {g: metric(v) for g, v in sorted(groups.items())}


def _suite(suite: Suite | str) -> Suite:
    from deliberate.evals.suites import get_suite

    return get_suite(suite) if isinstance(suite, str) else suite


def headline(suite: Suite | str) -> dict[str, Metric]:
    """The suite's headline metrics by name."""
    return {metric.name: metric for metric in _suite(suite).metrics}


def suite_metrics(suite: Suite | str, results: Sequence[EvalResult]) -> dict[str, object]:
    """Everything ``metrics.json`` holds for one suite: headline metrics, counts, bar values."""
    suite = _suite(suite)
    out: dict[str, object] = {m.name: m(results) for m in suite.metrics}
    out["n_items"] = len(results)
    out["n_errors"] = sum(r.error is not None for r in results)
    for bars in suite.bars:
        out[bars.key] = bars.values(results)
    return out
