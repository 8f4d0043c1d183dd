"""Bootstrap confidence intervals over prompts.

Each resample draws prompts (``item_id``) with replacement and recomputes a metric on all the
results of the drawn prompts; a prompt drawn twice counts as two prompts. The 95% interval is
the 2.5 and 97.5 percentiles of the resampled metric.

Two ways to recompute, same resamples, same answer:

* **fast**: every headline metric of a suite (:class:`deliberate.evals.suites.Metric`) says how
  it decomposes: a mean over prompts of a per-prompt value (``per_prompt``), or a mean over the
  records of the drawn prompts that ``counts`` accepts. So it is a ratio of per-prompt sums; each
  prompt's (numerator, denominator) is computed once with the metric function itself, and all
  resamples are then one matrix product of prompt counts. Before use the decomposition is checked
  against the metric function on the full sample and on a subset, so a metric whose definition
  changes falls back to the exact path instead of giving wrong intervals.
* **exact**: the metric function on the concatenated resampled results, with the copies of a
  prompt drawn more than once given distinct item ids. Used for metrics that do not decompose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deliberate.evals.suites import Metric, suite_names
from deliberate.records.evaluation import EvalResult

if TYPE_CHECKING:
    import numpy as np

MetricLike = Metric | Callable[[Sequence[EvalResult]], "float | None"]

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap percentile interval (``None`` where undefined)."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n_prompts: int = 0
    method: str = "none"  # fast | exact | none (no resampling)

    @property
    def excludes_zero(self) -> bool:
        """The interval lies strictly on one side of 0 (for a difference: a real change)."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


class PromptGroups:
    """Results grouped by prompt once, so every resample only draws prompt indices.

    ``order``: only these prompts, in this order (two runs' groups aligned prompt by prompt).
    """

    def __init__(self, results: Sequence[EvalResult], order: Sequence[str] | None = None) -> None:
        groups: dict[str, list[EvalResult]] = {}
        for r in results:
            groups.setdefault(r.item_id, []).append(r)
        if order is not None:
            groups = {i: groups[i] for i in order if i in groups}
        self.item_ids: list[str] = list(groups)
        self.groups: list[list[EvalResult]] = list(groups.values())
        self._copies: dict[tuple[int, int], list[EvalResult]] = {}

    def __len__(self) -> int:
        return len(self.groups)

    def counts(self, n_boot: int, rng: np.random.Generator) -> np.ndarray:
        """``(n_boot, n_prompts)`` matrix: how often each prompt is drawn in each resample."""
        import numpy as np

        n = len(self.groups)
        draws = rng.integers(0, n, size=(n_boot, n))
        counts = np.zeros((n_boot, n), dtype=np.int64)
        rows = np.repeat(np.arange(n_boot), n)
        np.add.at(counts, (rows, draws.ravel()), 1)
        return counts

    def concat(self, indices: Sequence[int]) -> list[EvalResult]:
        return [r for i in indices for r in self.groups[i]]

    def resampled(self, count_row: Sequence[int]) -> list[EvalResult]:
        """The results of one resample; the k-th extra copy of a prompt gets its own item id."""
        out: list[EvalResult] = []
        for i, c in enumerate(count_row):
            for k in range(int(c)):
                out.extend(self.groups[i] if k == 0 else self._copy(i, k))
        return out

    def _copy(self, i: int, k: int) -> list[EvalResult]:
        key = (i, k)
        if key not in self._copies:
            new_id = f"{self.item_ids[i]}\x00boot{k}"
            self._copies[key] = [r.model_copy(update={"item_id": new_id}) for r in self.groups[i]]
        return self._copies[key]


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _decompose(groups: PromptGroups, fn: MetricLike) -> tuple[list[float], list[float]] | None:
    """Per-prompt (numerators, denominators) of a metric that says how it decomposes, else None.

    A mean over prompts: numerator = the prompt's value, denominator = 1 (0 if it has none). A
    mean over accepted records: denominator = the prompt's accepted records, numerator = the
    metric on the prompt's results times that count.
    """
    nums: list[float] = []
    dens: list[float] = []
    if isinstance(fn, Metric) and fn.per_prompt:
        for g in groups.groups:
            v = fn(g)
            nums.append(0.0 if v is None else float(v))
            dens.append(0.0 if v is None else 1.0)
    elif isinstance(fn, Metric) and fn.counts is not None:
        passes = fn.counts
        for g in groups.groups:
            d = sum(1 for r in g if passes(r))
            v = fn(g) if d else None
            if d and v is None:
                return None
            nums.append(0.0 if v is None else float(v) * d)
            dens.append(float(d))
    else:
        return None
    return nums, dens


def _ratio(nums: Sequence[float], dens: Sequence[float], idx: Sequence[int]) -> float | None:
    d = sum(dens[i] for i in idx)
    return sum(nums[i] for i in idx) / d if d else None


def _verified(groups: PromptGroups, fn: MetricLike, point: float | None,
              nums: list[float], dens: list[float]) -> bool:
    """The decomposition reproduces the metric on the full sample and on every other prompt."""
    everything = range(len(groups))
    if not _close(_ratio(nums, dens, everything), point):
        return False
    half = range(0, len(groups), 2)
    return _close(_ratio(nums, dens, half), fn(groups.concat(half)))


def fast_parts(groups: PromptGroups, fn: MetricLike,
               point: float | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Verified per-prompt (numerators, denominators) as arrays, else None (use the exact path)."""
    import numpy as np

    parts = _decompose(groups, fn)
    if parts is None or not _verified(groups, fn, point, *parts):
        return None
    nums, dens = parts
    return np.asarray(nums, dtype=float), np.asarray(dens, dtype=float)


def ratios(counts: np.ndarray, nums: np.ndarray, dens: np.ndarray) -> np.ndarray:
    """The metric in every resample (rows of ``counts``); NaN where it is undefined."""
    import numpy as np

    num_b, den_b = counts @ nums, counts @ dens
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den_b > 0, num_b / np.where(den_b > 0, den_b, 1), np.nan)


def suite_rng(suite: str, seed: int, stream: int = 0) -> np.random.Generator:
    """The random stream of one suite (``stream`` tells apart uses that must not share draws)."""
    import numpy as np

    names = suite_names()
    suite_key = names.index(suite) if suite in names else sum(map(ord, suite))
    return np.random.default_rng([seed, suite_key] + ([stream] if stream else []))


def percentiles(stats: np.ndarray) -> tuple[float | None, float | None]:
    import numpy as np

    stats = stats[~np.isnan(stats)]
    if stats.size == 0:
        return None, None
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(stats, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_suite(
    suite: str,
    results: Sequence[EvalResult],
    metrics: dict[str, MetricLike],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    groups: PromptGroups | None = None,
    force_exact: bool = False,
) -> dict[str, Interval]:
    """Point estimate and 95% bootstrap interval of each metric, resampling prompts.

    All metrics of a suite share the same resamples. Deterministic for a given ``seed``; the
    random stream also depends on the suite, so suites of one run are resampled independently.
    """
    import numpy as np

    groups = groups if groups is not None else PromptGroups(results)
    n = len(groups)
    points = {name: fn(results) for name, fn in metrics.items()}
    if n_boot <= 0 or n == 0:
        return {name: Interval(v, n_prompts=n) for name, v in points.items()}

    counts = groups.counts(n_boot, suite_rng(suite, seed))

    out: dict[str, Interval] = {}
    for name, fn in metrics.items():
        point = points[name]
        if point is None:
            out[name] = Interval(None, n_prompts=n)
            continue
        parts = None if force_exact else fast_parts(groups, fn, point)
        if parts is not None:
            stats, method = ratios(counts, *parts), "fast"
        else:
            values = [fn(groups.resampled(row)) for row in counts]
            stats = np.array([np.nan if v is None else float(v) for v in values])
            method = "exact"
        low, high = percentiles(stats)
        out[name] = Interval(point, low, high, n_prompts=n, method=method)
    return out


def bootstrap_metric(
    results: Sequence[EvalResult], fn: MetricLike, *, n_boot: int = 1000, seed: int = 0,
    suite: str = "custom", name: str = "metric",
) -> Interval:
    """One metric's interval (see :func:`bootstrap_suite`)."""
    return bootstrap_suite(suite, results, {name: fn}, n_boot=n_boot, seed=seed)[name]
