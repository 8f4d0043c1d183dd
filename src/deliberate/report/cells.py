"""The metric table: one cell per (run, suite, metric), recomputed from results with intervals.

``metrics.json`` is only a fallback for suites whose results are missing (marked with a dagger);
where both exist and disagree, the recomputed value wins and the disagreement is noted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from deliberate.evals.suites import SUITES
from deliberate.report.bootstrap import Interval, PromptGroups, bootstrap_suite
from deliberate.report.load import Run

Column = tuple[str, str]  # (suite, metric)


@dataclass
class Cell:
    """One metric value of one run, with where it came from."""

    interval: Interval | None
    source: str = "results"  # results | metrics.json | none
    best: bool = False
    signed: bool = False  # a change between runs, shown with its sign

    @property
    def value(self) -> float | None:
        return self.interval.value if self.interval else None

    @property
    def significant(self) -> bool:
        """The 95% interval excludes 0 (meaningful for a change)."""
        return self.interval is not None and self.interval.excludes_zero

    def parts(self, digits: int = 3) -> tuple[str, str]:
        """(point estimate, "[low, high]" or "") as text; "—" where there is no value."""
        iv = self.interval
        if iv is None or iv.value is None:
            return "—", ""
        fmt = f"{'+' if self.signed else ''}.{digits}f"
        has_ci = iv.low is not None and iv.high is not None
        ci = f"[{iv.low:{fmt}}, {iv.high:{fmt}}]" if has_ci else ""
        return f"{iv.value:{fmt}}", ci

    def text(self, digits: int = 3) -> str:
        point, ci = self.parts(digits)
        out = f"{point} {ci}" if ci else point
        return out + " †" if self.source == "metrics.json" else out


def number(v: Any) -> float | None:
    """A finite number from a JSON value, else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def metric_cells(run: Run, n_boot: int, seed: int) -> dict[Column, Cell]:
    """Every headline metric of every suite of ``run``."""
    cells: dict[Column, Cell] = {}
    for suite in SUITES:
        stored = run.stored_metrics.get(suite.name, {})
        metrics = {m.name: m for m in suite.metrics}
        if suite.name in run.results:
            results = run.results[suite.name]
            intervals = bootstrap_suite(suite.name, results, metrics, n_boot=n_boot, seed=seed,
                                        groups=PromptGroups(results))
            for name, iv in intervals.items():
                cells[(suite.name, name)] = Cell(iv)
                _note_disagreement(run, suite.name, name, number(stored.get(name)), iv.value)
        elif stored:
            for name in metrics:
                if (v := number(stored.get(name))) is not None:
                    cells[(suite.name, name)] = Cell(Interval(v), source="metrics.json")
    return cells


def _note_disagreement(run: Run, suite: str, name: str, old: float | None, new: float | None) -> None:
    if old is not None and new is not None and not math.isclose(old, new, abs_tol=1e-6):
        run.notes.append(f"{suite} {name}: metrics.json says {old:.4f}, recomputed "
                         f"{new:.4f} from results.jsonl (the report uses the latter)")


def direction(column: Column) -> str:
    """'higher' or 'lower' (which way is better), '' for an unknown column."""
    for suite in SUITES:
        for metric in suite.metrics:
            if (suite.name, metric.name) == column:
                return metric.direction
    return ""


def mark_best(report_cells: dict[str, dict[Column, Cell]], columns: list[Column]) -> None:
    """Bold the best value of each column (only where at least two runs have one)."""
    for col in columns:
        better = direction(col)
        values = [(c.value, c) for cells in report_cells.values()
                  if (c := cells.get(col)) and c.value is not None]
        if len(values) < 2 or better not in ("higher", "lower"):
            continue
        best = (max if better == "higher" else min)(v for v, _ in values)
        for v, c in values:
            c.best = math.isclose(v, best, abs_tol=1e-12)


def coverage(runs: list[Run]) -> list[dict[str, Any]]:
    """Per run and suite: prompts, results, groups and errors behind the numbers."""
    rows = []
    for run in runs:
        for suite in SUITES:
            results = run.results.get(suite.name)
            stored = run.stored_metrics.get(suite.name)
            if results:
                rows.append({
                    "run": run.name, "suite": suite.title,
                    "prompts": len({r.item_id for r in results}), "results": len(results),
                    "groups": len({r.group for r in results if r.group is not None}),
                    "errors": sum(r.error is not None for r in results), "source": "results.jsonl",
                })
            elif stored is not None:
                n = stored.get("n_items")
                rows.append({"run": run.name, "suite": suite.title, "prompts": "—",
                             "results": n if isinstance(n, int) else "—", "groups": "—",
                             "errors": stored.get("n_errors", "—"), "source": "metrics.json"})
    return rows
