"""The report's figures, drawn with matplotlib's object API (no pyplot, no global backend).

Every function returns PNG bytes; matplotlib is imported inside them so the rest of the package
never pays for it.
"""

from __future__ import annotations

import io
import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from deliberate.report.bootstrap import Interval

PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3",
           "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"]
DPI = 110


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


@dataclass
class Series:
    """One run's values in a bar chart, and the n behind each (where known)."""

    name: str
    values: dict[str, float | None]
    color: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Panel:
    """One bar chart: its title, axis label, runs and category order."""

    title: str
    xlabel: str
    series: Sequence[Series]
    order: str = "name"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.patch.set_facecolor("white")
    return fig


def _style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color("#888")
    ax.spines["bottom"].set_color("#888")
    ax.tick_params(colors="#333", labelsize=9)
    ax.grid(True, color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def _err(iv: Interval) -> tuple[float, float]:
    if iv.value is None or iv.low is None or iv.high is None:
        return 0.0, 0.0
    return max(0.0, iv.value - iv.low), max(0.0, iv.high - iv.value)


def pareto_plot(points: Sequence[tuple[str, Interval, Interval, str]],
                y_metric: str = "goodness@0.1", *,
                x_label: str = "XSTest not_overrefuse  (higher = fewer overrefusals)",
                title: str = "Robustness vs. overrefusal") -> bytes:
    """Overrefusal (or ``x_label``) against jailbreak robustness (y), one point per run with 95% CIs.

    ``points``: (name, x value such as XSTest not_overrefuse, StrongREJECT ``y_metric``, colour).
    """
    fig = _figure(6.4, 4.8)
    ax = fig.subplots()
    _style(ax)
    lows_x, highs_x, lows_y, highs_y = [], [], [], []
    for name, x, y, c in points:
        (xl, xh), (yl, yh) = _err(x), _err(y)
        ax.errorbar([x.value], [y.value], xerr=[[xl], [xh]], yerr=[[yl], [yh]], fmt="o",
                    color=c, ecolor=c, elinewidth=1.4, capsize=4, markersize=8,
                    markeredgecolor="white", markeredgewidth=1.2, zorder=3)
        lows_x.append(x.value - xl)
        highs_x.append(x.value + xh)
        lows_y.append(y.value - yl)
        highs_y.append(y.value + yh)
    (x_lo, x_hi) = _limits(min(lows_x), max(highs_x))
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(*_limits(min(lows_y), max(highs_y)))
    places = label_places([(x.value, y.value) for _, x, y, _ in points], x_lo, x_hi)
    for (name, x, y, c), (dx, dy, ha) in zip(points, places, strict=True):
        ax.annotate(_short(name, 28), (x.value, y.value), xytext=(dx, dy), textcoords="offset points",
                    ha=ha, fontsize=9, color=c, zorder=4)  # in the run's colour
    ax.set_xlabel(x_label, fontsize=10)
    ax.set_ylabel(f"StrongREJECT {y_metric}  (higher = more robust)", fontsize=10)
    ax.set_title(f"{title} (95% bootstrap CIs)", fontsize=11, loc="left")
    ax.text(0.99, 0.98, "better: up and right \u2197", transform=ax.transAxes, fontsize=8.5,
            color="#777", ha="right", va="top", zorder=1)  # under any point that lands there
    return _png(fig)


def label_places(spots: Sequence[tuple[float, float]], x_lo: float,
                 x_hi: float) -> list[tuple[int, int, str]]:
    """(dx, dy in points, alignment) of each point's label: runs on one spot (a spec-in-context
    run and a trained one both at 1.0 / 0.0, say) get stacked labels, not one over the other; a
    label in the right quarter goes to the left of its point, inside the axes."""
    placed: Counter[tuple[float, float]] = Counter()
    places = []
    for x, y in spots:
        spot = (round(x, 3), round(y, 3))
        at_right = x > x_lo + 0.75 * (x_hi - x_lo)
        places.append((-7 if at_right else 7, 7 + 12 * placed[spot], "right" if at_right else "left"))
        placed[spot] += 1
    return places


@dataclass
class BudgetPanel:
    """One metric against the reasoning budget: tick labels and values in budget order."""

    title: str
    budgets: list[str]
    values: list[Interval | None]


def budget_plot(panels: Sequence[BudgetPanel]) -> bytes:
    """One line per panel (suite): the metric at each budget, evenly spaced, with 95% CIs."""
    import math

    cols = min(len(panels), 3)
    rows = math.ceil(len(panels) / cols)
    fig = _figure(4.2 * cols, 3.3 * rows)
    fig.set_layout_engine("constrained")
    axes = list(fig.subplots(rows, cols, squeeze=False).flat)
    for ax, panel in zip(axes, panels):
        _style(ax)
        xs = list(range(len(panel.budgets)))
        ys = [iv.value if iv and iv.value is not None else float("nan") for iv in panel.values]
        errs = [_err(iv) if iv else (0.0, 0.0) for iv in panel.values]
        ax.errorbar(xs, ys, yerr=[[e[0] for e in errs], [e[1] for e in errs]], fmt="-o",
                    color=PALETTE[0], capsize=3, markersize=6, elinewidth=1.2)
        ax.set_xticks(xs)
        ax.set_xticklabels(panel.budgets)
        ax.set_xlabel("reasoning budget (tokens)", fontsize=9)
        ax.set_title(_short(panel.title, 60), fontsize=10, loc="left")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    return _png(fig)


def _limits(lo: float, hi: float) -> tuple[float, float]:
    """Axis limits around [lo, hi] with some room, kept near the metric's [0, 1] range."""
    span = max(hi - lo, 0.1)
    lo, hi = lo - 0.15 * span, hi + 0.15 * span
    return max(lo, -0.02), min(hi, 1.02)


def _categories(panel: Panel) -> list[str]:
    """The panel's categories in its order: ``name`` (alphabetical), ``desc`` (mean over runs,
    largest first) or ``contrast_last`` (XSTest: safe types, then the ``contrast_*`` ones)."""
    categories = sorted({c for s in panel.series for c in s.values})
    if panel.order == "desc":
        def avg(c: str) -> float:
            vals = [v for s in panel.series if (v := s.values.get(c)) is not None]
            return sum(vals) / len(vals) if vals else float("-inf")
        categories.sort(key=lambda c: -avg(c))
    elif panel.order == "contrast_last":
        categories.sort(key=lambda c: (c.startswith("contrast"), c))
    return categories


def _bar_label(value: float | None, n: int | None) -> str:
    text = "n/a" if value is None else f"{value:.2f}"
    return f" {text} (n={n})" if n is not None else f" {text}"


def _panel(ax, panel: Panel, categories: list[str], xlim: tuple[float, float] | None,
           legend: bool) -> None:
    n_cat, n_run = len(categories), len(panel.series)
    bar = 0.8 / n_run
    _style(ax)
    ax.grid(False, axis="y")
    labels = n_cat * n_run <= 60
    for j, s in enumerate(panel.series):
        ys = [i + (j - (n_run - 1) / 2) * bar for i in range(n_cat)]
        vals = [s.values.get(c) for c in categories]
        ax.barh(ys, [v or 0.0 for v in vals], height=bar * 0.92, color=s.color, label=s.name,
                zorder=2)
        if labels:
            for y, c, v in zip(ys, categories, vals):
                ax.text((v or 0.0), y, _bar_label(v, s.counts.get(c)), va="center", fontsize=7,
                        color="#444")
    ax.set_yticks(range(n_cat))
    ax.set_yticklabels([_short(c, 34) for c in categories])
    ax.set_ylim(n_cat - 0.5, -0.5)
    if xlim is not None:
        ax.set_xlim(xlim[0], xlim[1] * 1.22 if labels else xlim[1])
        ax.set_xticks([t for t in ax.get_xticks() if xlim[0] <= t <= xlim[1]])
    ax.set_xlabel(panel.xlabel, fontsize=10)
    ax.set_title(panel.title, fontsize=11, loc="left")
    if legend and n_run > 1:
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def bar_chart(panels: Sequence[Panel], *, xlim: tuple[float, float] | None = (0.0, 1.0)) -> bytes:
    """Horizontal grouped bars, one panel per :class:`Panel` stacked in one figure: one group
    per category, one bar per run, each labelled with its value and n."""
    categories = [_categories(p) for p in panels]
    heights = [1.1 + len(c) * max(0.3, 0.16 * len(p.series) + 0.12)
               for c, p in zip(categories, panels)]
    fig = _figure(7.6, min(sum(heights) + 0.3 * (len(panels) - 1), 40.0))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False, height_ratios=heights)[:, 0]
    for i, (ax, panel, cats) in enumerate(zip(axes, panels, categories)):
        _panel(ax, panel, cats, xlim, legend=i == 0)
    return _png(fig)


def _short(text: str, width: int) -> str:
    return textwrap.shorten(str(text), width=width, placeholder="…")
