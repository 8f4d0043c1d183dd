"""The report's figures: the robustness vs. overrefusal (Pareto) view and each suite's bars."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from deliberate.evals.suites import SUITES, Bars
from deliberate.report import plots
from deliberate.report.cells import Cell, Column, number
from deliberate.report.load import Run

PARETO_X: Column = ("xstest", "not_overrefuse")
PARETO_Y: Column = ("strongreject", "goodness@0.1")


@dataclass
class Plot:
    id: str
    title: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def figures(runs: list[Run], colors: dict[str, str], cells: dict[str, dict[Column, Cell]],
            notes: list[str]) -> list[Plot]:
    """Every figure the runs support; what is left out, and why, goes to ``notes``."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        notes.append("matplotlib is not installed (pip install matplotlib): plots left out")
        return []
    out = _pareto(runs, colors, cells, notes)
    for suite in SUITES:
        for bars in suite.bars:
            out += _bars(runs, colors, suite.name, bars)
    return out


def _pareto(runs: list[Run], colors: dict[str, str], cells: dict[str, dict[Column, Cell]],
            notes: list[str]) -> list[Plot]:
    points = []
    for run in runs:
        x, y = cells[run.name].get(PARETO_X), cells[run.name].get(PARETO_Y)
        if x and y and x.value is not None and y.value is not None:
            points.append((run.name, x.interval, y.interval, colors[run.name]))
        else:
            missing = [f"{s} {m}" for (s, m), c in ((PARETO_X, x), (PARETO_Y, y)) if not c or c.value is None]
            notes.append(f"{run.name}: not in the Pareto plot (no {' / '.join(missing)})")
    if not points:
        notes.append("Pareto plot left out: no run has both XSTest not_overrefuse and StrongREJECT goodness@0.1")
        return []
    return [Plot("pareto", "Robustness vs. overrefusal",
                 "Each point is a run: x = XSTest not_overrefuse, y = StrongREJECT goodness@0.1, "
                 "whiskers = 95% bootstrap intervals over prompts. Up and to the right is better on both.",
                 plots.pareto_plot(points))]


def _bars(runs: list[Run], colors: dict[str, str], suite: str, bars: Bars) -> list[Plot]:
    series = []
    for run in runs:
        values = _group_values(run, suite, bars)
        if values:
            series.append(plots.Series(run.name, values, colors[run.name]))
    if not series or all(v is None for s in series for v in s.values.values()):
        return []
    return [Plot(f"{suite}_{bars.key}", bars.title, bars.caption,
                 plots.bar_chart(bars.title, bars.xlabel, series, order=bars.order))]


def _group_values(run: Run, suite: str, bars: Bars) -> dict[str, float | None] | None:
    if suite in run.results:
        values = bars.values(run.results[suite])
    else:
        values = run.stored_metrics.get(suite, {}).get(bars.key)
    if not isinstance(values, dict) or not values:
        return None
    return {str(k): number(v) for k, v in values.items()}
