"""The report's figures: robustness vs. overrefusal (and vs. capability, with GSM8K results), the
metrics against the reasoning budget (runs that differ only in it), and each suite's bars."""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass

from deliberate.evals.suites import SUITES, Bars, Suite
from deliberate.report import plots
from deliberate.report.cells import Cell, Column, number
from deliberate.report.load import Run

PARETO_X: Column = ("xstest", "not_overrefuse")
CAPABILITY_X: Column = ("capability", "gsm8k_accuracy")
PARETO_YS: tuple[Column, ...] = (("strongreject", "goodness@0.1"), ("strongreject", "refusal_rate"))


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
    out = _pareto(runs, colors, cells, notes) + _pareto(runs, colors, cells, notes, CAPABILITY_PARETO)
    from deliberate.report.budget import budget_plots  # imports Plot from here

    out += budget_plots(runs, cells, notes)
    for suite in SUITES:
        out += _suite_bars(runs, colors, suite)
    return out


def pareto_y(runs: list[Run], cells: dict[str, dict[Column, Cell]]) -> Column:
    """goodness@0.1 where a run has it; else the refusal rate (no rubric grader: the headline)."""
    for column in PARETO_YS:
        if any((c := cells[r.name].get(column)) and c.value is not None for r in runs):
            return column
    return PARETO_YS[0]


@dataclass(frozen=True)
class ParetoView:
    """One robustness (y) vs. x trade-off plot: overrefusal, or capability."""

    id: str
    title: str
    x: Column
    x_name: str  # in the caption and notes
    x_label: str  # on the axis
    note_name: str  # "not in the <note_name> plot"
    needs_x: bool  # left out without a note when no run has x (an optional suite)


PARETO = ParetoView("pareto", "Robustness vs. overrefusal", PARETO_X, "XSTest not_overrefuse",
                    "XSTest not_overrefuse  (higher = fewer overrefusals)", "Pareto", False)
CAPABILITY_PARETO = ParetoView("pareto_capability", "Robustness vs. capability", CAPABILITY_X,
                               "GSM8K accuracy", "GSM8K accuracy  (higher = more capable)",
                               "capability Pareto", True)


def _pareto(runs: list[Run], colors: dict[str, str], cells: dict[str, dict[Column, Cell]],
            notes: list[str], view: ParetoView = PARETO) -> list[Plot]:
    if view.needs_x and not any((c := cells[r.name].get(view.x)) and c.value is not None
                                for r in runs):
        return []
    y_col = pareto_y(runs, cells)
    points = []
    for run in runs:
        x, y = cells[run.name].get(view.x), cells[run.name].get(y_col)
        if x and y and x.value is not None and y.value is not None:
            points.append((run.name, x.interval, y.interval, colors[run.name]))
        else:
            missing = [f"{s} {m}" for (s, m), c in ((view.x, x), (y_col, y))
                       if not c or c.value is None]
            notes.append(f"{run.name}: not in the {view.note_name} plot (no {' / '.join(missing)})")
    if not points:
        notes.append(f"{view.note_name} plot left out: no run has both {view.x_name} and StrongREJECT "
                     "goodness@0.1 (or, without the rubric grader, refusal_rate)")
        return []
    y_name = y_col[1]
    fallback = "" if y_col == PARETO_YS[0] else (
        " (the refusal rate on forbidden prompts: no run has goodness@0.1, which needs the rubric "
        "grader)")
    return [Plot(view.id, view.title,
                 f"Each point is a run: x = {view.x_name}, y = StrongREJECT {y_name}"
                 f"{fallback}, whiskers = 95% bootstrap intervals over prompts. Up and to the "
                 "right is better on both.",
                 plots.pareto_plot(points, y_name, x_label=view.x_label, title=view.title))]


def _suite_bars(runs: list[Run], colors: dict[str, str], suite: Suite) -> list[Plot]:
    """One figure per suite, one panel per :class:`Bars` with data (an id fixed per suite)."""
    drawn = [(bars, panel) for bars in suite.bars
             if (panel := _panel(runs, colors, suite.name, bars))]
    if not drawn:
        return []
    heads = {b.title.partition(": ")[0] for b, _ in drawn}
    title = (f"{heads.pop()}: " + "; ".join(b.title.partition(": ")[2] for b, _ in drawn)
             if len(heads) == 1 and all(": " in b.title for b, _ in drawn)
             else "; ".join(b.title for b, _ in drawn))
    caption = " ".join(b.caption for b, _ in drawn) + " n: the prompts behind each bar."
    return [Plot(f"{suite.name}_{suite.bars[0].key}", title, caption,
                 plots.bar_chart([panel for _, panel in drawn]))]


def _panel(runs: list[Run], colors: dict[str, str], suite: str, bars: Bars) -> plots.Panel | None:
    series = []
    for run in runs:
        values = _group_values(run, suite, bars)
        if values:
            counts = _counts(run, suite, bars)
            series.append(plots.Series(run.name, values, colors[run.name], counts))
    if not series or all(v is None for s in series for v in s.values.values()):
        return None
    return plots.Panel(bars.title, bars.xlabel, series, bars.order)


def _counts(run: Run, suite: str, bars: Bars) -> dict[str, int]:
    """n per bar: the suite's own count, else the prompts of each group graded without error."""
    results = run.results.get(suite)
    if not results:
        return {}
    if bars.counts is not None:
        return bars.counts(results)
    prompts: dict[str, set[str]] = defaultdict(set)
    for r in results:
        if r.error is None:
            prompts[r.group or "none"].add(r.item_id)
    return {group: len(ids) for group, ids in prompts.items()}


def _group_values(run: Run, suite: str, bars: Bars) -> dict[str, float | None] | None:
    if suite in run.results:
        values = bars.values(run.results[suite])
    else:
        values = run.stored_metrics.get(suite, {}).get(bars.key)
    if not isinstance(values, dict) or not values:
        return None
    return {str(k): number(v) for k, v in values.items()}
