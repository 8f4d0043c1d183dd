"""The metric table as template data: one row per metric, one column per run, one change
column per later run (against the first, the baseline), and whether the metric can be
compared with published results. Shared by the HTML and Markdown renderings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deliberate.evals.suites import SUITES, Metric, Suite
from deliberate.report.cells import Cell, Column
from deliberate.report.compare import comparability_text

if TYPE_CHECKING:
    from deliberate.report.build import Report

ARROWS = {"higher": "↑", "lower": "↓"}


def delta_heads(report: Report) -> list[dict[str, str]]:
    """The change columns: "after − before" for two runs, else "Δ vs <baseline>" per run."""
    if len(report.runs) < 2:
        return []
    base = report.runs[0].name
    if len(report.runs) == 2:
        return [{"label": "Δ after − before", "sub": f"{report.runs[1].name} − {base}"}]
    return [{"label": f"Δ vs {base}", "sub": f"{run.name} − {base}"} for run in report.runs[1:]]


def verdict(metric: Metric, cell: Cell) -> str:
    """better | worse for a change whose interval excludes 0, else ""."""
    if not cell.significant or cell.value is None:
        return ""
    return "better" if (cell.value > 0) == (metric.direction == "higher") else "worse"


def _cell(cell: Cell | None, digits: int) -> dict[str, Any]:
    cell = cell or Cell(None, source="none")
    point, ci = cell.parts(digits)
    return {"text": cell.text(digits), "point": point, "ci": ci, "best": cell.best,
            "source": cell.source}


def _row(report: Report, suite: Suite, metric: Metric, headline: bool) -> dict[str, Any]:
    col: Column = (suite.name, metric.name)
    deltas = []
    for run in report.runs[1:]:
        cell = report.deltas.get(run.name, {}).get(col)
        judged = verdict(metric, cell) if cell else ""
        deltas.append(_cell(cell, metric.digits) | {"verdict": judged})
    having = [run for run in report.runs
              if (c := report.cells[run.name].get(col)) and c.value is not None]
    comparable, text = comparability_text(having, suite, metric.name)
    return {"suite": suite.title, "name": metric.name, "direction": metric.direction,
            "arrow": ARROWS.get(metric.direction, ""), "meaning": metric.meaning,
            "headline": headline,
            "cells": [_cell(report.cells[run.name].get(col), metric.digits) for run in report.runs],
            "deltas": deltas, "comparable": comparable, "comparable_text": text}


def table(report: Report) -> list[dict[str, Any]]:
    """Per suite with a metric to show: its rows (the first is the suite's headline number) and
    the metrics no run has (e.g. goodness@0.1 without the rubric grader)."""
    out = []
    for suite in SUITES:
        shown = [m for m in suite.metrics if (suite.name, m.name) in report.columns]
        if not shown:
            continue
        missing = [m for m in suite.metrics if m not in shown]
        out.append({"title": suite.title,
                    "rows": [_row(report, suite, m, i == 0) for i, m in enumerate(shown)],
                    "missing": [{"name": m.name, "meaning": m.meaning} for m in missing]})
    return out


def changes(report: Report, suites: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every change whose paired interval excludes 0, per later run: the "what changed" list."""
    out = []
    for j, run in enumerate(report.runs[1:]):
        for suite in suites:
            for row in suite["rows"]:
                delta = row["deltas"][j]
                if delta["verdict"]:
                    out.append({"run": run.name, "suite": suite["title"], "metric": row["name"],
                                "arrow": row["arrow"], "before": row["cells"][0]["point"],
                                "after": row["cells"][j + 1]["point"], "delta": delta["text"],
                                "verdict": delta["verdict"]})
    return out
