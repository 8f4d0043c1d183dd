"""Paired bootstrap of the change in a metric between two runs (after − before).

Two runs of one suite usually share their prompts. The change in a metric is then measured on
the prompts present in both runs, and each resample draws the *same* prompt ids for both runs:
a hard prompt drawn into a resample is hard for both, so the prompt-to-prompt variation that the
two runs share cancels out of the difference. That is why the paired interval is narrower than
the difference of two independent bootstraps whenever the runs are correlated (they usually
are: same prompts, related models).

Recomputing is as in :mod:`deliberate.report.bootstrap`: where the metric decomposes into
per-prompt (numerator, denominator) sums in both runs, one prompt-count matrix gives both runs'
resampled ratios and their difference per resample (fast); otherwise the metric function runs
on both resampled runs (exact). ``paired=False`` draws the two runs independently instead: the
unpaired interval, for comparison.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from deliberate.records.evaluation import EvalResult
from deliberate.report.bootstrap import (
    Interval,
    MetricLike,
    PromptGroups,
    fast_parts,
    percentiles,
    ratios,
    suite_rng,
)

PAIRED_STREAM = 1  # the paired resamples do not reuse the per-run resamples' draws


def common_prompts(before: Sequence[EvalResult], after: Sequence[EvalResult]) -> list[str]:
    """The prompt ids present in both runs, in the order of ``before``."""
    in_after = {r.item_id for r in after}
    return [i for i in dict.fromkeys(r.item_id for r in before) if i in in_after]


def difference(after: float | None, before: float | None) -> float | None:
    """after − before; None where either is undefined."""
    if after is None or before is None:
        return None
    return float(after) - float(before)


def paired_suite(
    suite: str,
    before: Sequence[EvalResult],
    after: Sequence[EvalResult],
    metrics: dict[str, MetricLike],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    paired: bool = True,
    force_exact: bool = False,
) -> dict[str, Interval]:
    """Each metric's change (after − before) on the common prompts, with its 95% interval."""
    order = common_prompts(before, after)
    g_before, g_after = PromptGroups(before, order), PromptGroups(after, order)
    n = len(order)
    everything = range(n)
    sides = {name: (fn(g_before.concat(everything)), fn(g_after.concat(everything)))
             for name, fn in metrics.items()}
    points = {name: difference(a, b) if n else None for name, (b, a) in sides.items()}
    if n_boot <= 0 or n == 0:
        return {name: Interval(v, n_prompts=n) for name, v in points.items()}

    rng = suite_rng(suite, seed, PAIRED_STREAM)
    counts_before = g_before.counts(n_boot, rng)
    counts_after = counts_before if paired else g_after.counts(n_boot, rng)
    out: dict[str, Interval] = {}
    for name, fn in metrics.items():
        if points[name] is None:
            out[name] = Interval(None, n_prompts=n)
            continue
        point_before, point_after = sides[name]
        parts_before = None if force_exact else fast_parts(g_before, fn, point_before)
        parts_after = None if parts_before is None else fast_parts(g_after, fn, point_after)
        if parts_before is not None and parts_after is not None:
            stats = ratios(counts_after, *parts_after) - ratios(counts_before, *parts_before)
            method = "fast"
        else:
            stats = _exact(fn, g_before, g_after, counts_before, counts_after)
            method = "exact"
        low, high = percentiles(stats)
        out[name] = Interval(points[name], low, high, n_prompts=n, method=method)
    return out


def _exact(fn: MetricLike, g_before: PromptGroups, g_after: PromptGroups, counts_before,
           counts_after):
    import numpy as np

    values = [difference(fn(g_after.resampled(a)), fn(g_before.resampled(b)))
              for b, a in zip(counts_before, counts_after)]
    return np.array([math.nan if v is None else v for v in values])


def paired_delta(
    before: Sequence[EvalResult], after: Sequence[EvalResult], fn: MetricLike, *,
    n_boot: int = 1000, seed: int = 0, paired: bool = True, suite: str = "custom",
) -> Interval:
    """One metric's change (see :func:`paired_suite`)."""
    return paired_suite(suite, before, after, {"metric": fn}, n_boot=n_boot, seed=seed,
                        paired=paired)["metric"]
