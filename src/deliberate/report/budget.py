"""Metrics against the reasoning budget: the paper's safety vs. inference-time compute view.

Runs that differ only in ``reasoning_budget`` (the same evaluated model, pinned to the same
weights, and the same eval config otherwise; the display label aside) form a series. A series
with two or more budgets gets one figure: a panel per suite, its headline metric (the first
metric with a value) against the budget, with 95% bootstrap intervals. Budgets are evenly
spaced in increasing order; a run without a cap is the last point, labelled "none".
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from deliberate.evals.suites import SUITES
from deliberate.report import plots
from deliberate.report.cells import Cell, Column
from deliberate.report.load import Run

if TYPE_CHECKING:
    from deliberate.report.figures import Plot

IGNORED = ("reasoning_budget", "label")


def budget_of(run: Run) -> int | None:
    value = run.config.get("reasoning_budget")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _key(run: Run) -> str:
    """What must be equal for runs to differ only in their budget."""
    evaluated = run.manifest.models.get("evaluated")
    config: dict[str, Any] = {k: v for k, v in run.config.items() if k not in IGNORED}
    return json.dumps([run.model, evaluated.fingerprint if evaluated else None, config],
                      sort_keys=True, default=str)


def budget_series(runs: list[Run], notes: list[str]) -> list[list[Run]]:
    """Groups of runs differing only in budget, each with 2+ budgets, sorted (no cap last)."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(_key(run), []).append(run)
    series = []
    for members in groups.values():
        by_budget: dict[int | None, Run] = {}
        for run in members:
            if budget_of(run) in by_budget:
                notes.append(f"{run.name}: same reasoning budget as {by_budget[budget_of(run)].name}; "
                             "left out of the budget plot")
                continue
            by_budget[budget_of(run)] = run
        if len(by_budget) >= 2:
            order = sorted(by_budget, key=lambda b: (b is None, b or 0))
            series.append([by_budget[b] for b in order])
    return series


def _panels(series: list[Run], cells: dict[str, dict[Column, Cell]]) -> list[plots.BudgetPanel]:
    """One panel per suite with a value in the series: its first metric that has one."""
    ticks = ["none" if budget_of(r) is None else str(budget_of(r)) for r in series]
    panels = []
    for suite in SUITES:
        for metric in suite.metrics:
            found = [cells[r.name].get((suite.name, metric.name)) for r in series]
            if any(c is not None and c.value is not None for c in found):
                panels.append(plots.BudgetPanel(
                    f"{suite.title}: {metric.name} ({metric.direction} is better)", ticks,
                    [c.interval if c is not None else None for c in found]))
                break
    return panels


def budget_plots(runs: list[Run], cells: dict[str, dict[Column, Cell]],
                 notes: list[str]) -> list[Plot]:
    """A metrics-vs-budget figure per series of runs that differ only in reasoning budget."""
    from deliberate.report.figures import Plot

    out = []
    for i, series in enumerate(budget_series(runs, notes)):
        panels = _panels(series, cells)
        if not panels:
            continue
        model = series[0].model
        out.append(Plot(
            "budget" if i == 0 else f"budget_{i + 1}", f"Metrics vs. reasoning budget: {model}",
            f"Runs of {model} that differ only in --reasoning-budget ({', '.join(r.name for r in series)}): "
            "each suite's headline metric against the cap on reasoning tokens, whiskers = 95% "
            "bootstrap intervals over prompts; 'none' = no cap.",
            plots.budget_plot(panels)))
    return out
