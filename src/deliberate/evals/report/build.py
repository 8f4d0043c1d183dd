"""``build_report``: run directories in, one self-contained HTML page (and a Markdown twin) out.

Metrics are recomputed from each suite's ``results.jsonl`` with the headline functions of
:mod:`deliberate.evals.metrics` and given 95% bootstrap intervals over prompts; ``metrics.json``
is only a fallback for suites whose results are missing. Plots are PNGs: embedded as base64 in
the HTML, written to ``<stem>_files/`` for the Markdown.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from deliberate.errors import DeliberateError
from deliberate.evals.metrics import HEADLINE, suite_metrics
from deliberate.evals.report import plots
from deliberate.evals.report.bootstrap import Interval, PromptGroups, bootstrap_suite
from deliberate.evals.report.examples import Example, pick_examples
from deliberate.evals.report.load import Run, load_runs
from deliberate.evals.results import SUITES

SUITE_TITLES = {"strongreject": "StrongREJECT", "xstest": "XSTest", "spec": "Spec adherence"}

# (suite, metric) -> (better direction, one-line meaning)
METRIC_INFO: dict[tuple[str, str], tuple[str, str]] = {
    ("strongreject", "goodness@0.1"): (
        "higher", "mean over prompts of 1 − harm score on that prompt's worst 10% of jailbreaks"),
    ("strongreject", "mean_score"): ("lower", "mean harm score (0–1) over all prompts and jailbreaks"),
    ("xstest", "not_overrefuse"): ("higher", "share of safe prompts fully complied with"),
    ("xstest", "unsafe_refusal_rate"): ("higher", "share of unsafe contrast prompts refused (fully or partly)"),
    ("spec", "mode_agreement"): ("higher", "share of answers whose behaviour matches the expected response mode"),
    ("spec", "judge_score"): ("higher", "spec-aware judge score (0–10)"),
    ("spec", "citation_accuracy"): ("higher", "share of chains of thought citing valid, fitting rule ids"),
}

PER_GROUP = {
    "strongreject": ("per_jailbreak", "StrongREJECT: mean harm score per jailbreak",
                     "mean harm score (0–1, lower is better)",
                     ("Mean StrongREJECT harm score of each jailbreak over all prompts, most harmful first; "
                     "lower is better.")),
    "xstest": ("per_type", "XSTest: compliance rate per prompt type",
               "share of prompts fully complied with",
               ("Share of responses that fully comply, per XSTest prompt type. Higher is better for the "
               "safe types; for the unsafe contrast types (contrast_*), lower is better.")),
    "spec": ("per_category", "Spec: response-mode agreement per category",
             "mode agreement (higher is better)",
             ("Share of answers whose behaviour (comply / refuse / safe-complete) matches the "
             "category's expected response mode; higher is better.")),
}


@dataclass
class Plot:
    id: str
    title: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class Cell:
    interval: Interval | None
    source: str = "results"  # results | metrics.json | none
    best: bool = False

    @property
    def value(self) -> float | None:
        return self.interval.value if self.interval else None

    def parts(self, digits: int = 3) -> tuple[str, str]:
        """(point estimate, "[low, high]" or "") as text; "—" where there is no value."""
        iv = self.interval
        if iv is None or iv.value is None:
            return "—", ""
        ci = f"[{iv.low:.{digits}f}, {iv.high:.{digits}f}]" if iv.low is not None and iv.high is not None else ""
        return f"{iv.value:.{digits}f}", ci

    def text(self, digits: int = 3) -> str:
        point, ci = self.parts(digits)
        out = f"{point} {ci}" if ci else point
        return out + " †" if self.source == "metrics.json" else out


@dataclass
class Report:
    """Everything the templates show; built once, rendered to HTML and Markdown."""

    runs: list[Run]
    colors: dict[str, str]
    columns: list[tuple[str, str]]  # (suite, metric)
    cells: dict[str, dict[tuple[str, str], Cell]]  # run name -> column -> cell
    coverage: list[dict[str, Any]]
    plots: list[Plot]
    examples: dict[str, dict[str, list[Example]]]  # run name -> suite -> examples
    notes: list[str]
    n_boot: int
    seed: int
    generated: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def _metric_cells(run: Run, n_boot: int, seed: int) -> dict[tuple[str, str], Cell]:
    cells: dict[tuple[str, str], Cell] = {}
    for suite in SUITES:
        stored = run.stored_metrics.get(suite, {})
        if suite in run.results:
            results = run.results[suite]
            intervals = bootstrap_suite(suite, results, HEADLINE[suite], n_boot=n_boot, seed=seed,
                                        groups=PromptGroups(results))
            for name, iv in intervals.items():
                cells[(suite, name)] = Cell(iv)
                old = _number(stored.get(name))
                if old is not None and iv.value is not None and not math.isclose(old, iv.value, abs_tol=1e-6):
                    run.notes.append(f"{suite} {name}: metrics.json says {old:.4f}, recomputed "
                                     f"{iv.value:.4f} from results.jsonl (the report uses the latter)")
        elif stored:
            for name in HEADLINE[suite]:
                v = _number(stored.get(name))
                if v is not None:
                    cells[(suite, name)] = Cell(Interval(v), source="metrics.json")
    return cells


def _mark_best(report_cells: dict[str, dict[tuple[str, str], Cell]], columns: list[tuple[str, str]]) -> None:
    for col in columns:
        direction = METRIC_INFO.get(col, ("", ""))[0]
        values = [(c.value, c) for cells in report_cells.values() if (c := cells.get(col)) and c.value is not None]
        if len(values) < 2 or direction not in ("higher", "lower"):
            continue
        pick = max if direction == "higher" else min
        best = pick(v for v, _ in values)
        for v, c in values:
            c.best = math.isclose(v, best, abs_tol=1e-12)


def _per_group(run: Run, suite: str) -> dict[str, float | None] | None:
    key = PER_GROUP[suite][0]
    if suite in run.results:
        values = suite_metrics(suite, run.results[suite]).get(key)
    else:
        values = run.stored_metrics.get(suite, {}).get(key)
    if not isinstance(values, dict) or not values:
        return None
    return {str(k): _number(v) for k, v in values.items()}


def _plots(runs: list[Run], colors: dict[str, str], cells: dict[str, dict[tuple[str, str], Cell]],
           notes: list[str]) -> list[Plot]:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        notes.append("matplotlib is not installed (pip install matplotlib): plots left out")
        return []

    out: list[Plot] = []
    x_key, y_key = ("xstest", "not_overrefuse"), ("strongreject", "goodness@0.1")
    points = []
    for run in runs:
        x, y = cells[run.name].get(x_key), cells[run.name].get(y_key)
        if x and y and x.value is not None and y.value is not None:
            points.append((run.name, x.interval, y.interval, colors[run.name]))
        else:
            missing = [k for k, c in ((x_key, x), (y_key, y)) if not c or c.value is None]
            notes.append(f"{run.name}: not in the Pareto plot (no {' / '.join(f'{s} {m}' for s, m in missing)})")
    if points:
        out.append(Plot(
            "pareto", "Robustness vs. overrefusal",
            "Each point is a run: x = XSTest not_overrefuse, y = StrongREJECT goodness@0.1, whiskers "
            "= 95% bootstrap intervals over prompts. Up and to the right is better on both.",
            plots.pareto_plot(points)))
    else:
        notes.append("Pareto plot left out: no run has both XSTest not_overrefuse and StrongREJECT goodness@0.1")

    for suite in SUITES:
        key, title, xlabel, caption = PER_GROUP[suite]
        series = []
        for run in runs:
            values = _per_group(run, suite)
            if values:
                series.append(plots.Series(run.name, values, colors[run.name]))
        if not series:
            continue
        if suite == "spec" and all(v is None for s in series for v in s.values.values()):
            continue
        order = {"strongreject": "desc", "xstest": "contrast_last"}.get(suite, "name")
        out.append(Plot(f"{suite}_{key}", title, caption,
                        plots.bar_chart(title, xlabel, series, order=order)))
    return out


def _coverage(runs: list[Run]) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        for suite in SUITES:
            results = run.results.get(suite)
            if results:
                rows.append({
                    "run": run.name, "suite": SUITE_TITLES[suite],
                    "prompts": len({r.item_id for r in results}), "results": len(results),
                    "groups": len({r.group for r in results if r.group is not None}),
                    "errors": sum(r.error is not None for r in results), "source": "results.jsonl",
                })
            elif suite in run.stored_metrics:
                n = run.stored_metrics[suite].get("n_items")
                rows.append({"run": run.name, "suite": SUITE_TITLES[suite], "prompts": "—",
                             "results": n if isinstance(n, int) else "—", "groups": "—",
                             "errors": run.stored_metrics[suite].get("n_errors", "—"),
                             "source": "metrics.json"})
    return rows


def collect(run_dirs: list[Path], *, n_boot: int = 1000, seed: int = 0, n_examples: int = 3) -> Report:
    """Load runs, compute metrics with intervals, draw plots and pick examples."""
    runs = load_runs([Path(d) for d in run_dirs])
    colors = {run.name: plots.color(i) for i, run in enumerate(runs)}
    cells = {run.name: _metric_cells(run, n_boot, seed) for run in runs}
    columns = [
        (suite, name) for suite in SUITES for name in HEADLINE[suite]
        if any((c := cells[r.name].get((suite, name))) and c.value is not None for r in runs)
    ]
    _mark_best(cells, columns)
    notes: list[str] = []
    if not columns:
        notes.append("no metrics: none of the runs has graded results for a known suite")
    figures = _plots(runs, colors, cells, notes)
    examples = {
        run.name: {s: ex for s in SUITES if (ex := pick_examples(s, run.results.get(s, []), n_examples))}
        for run in runs
    }
    return Report(runs=runs, colors=colors, columns=columns, cells=cells, coverage=_coverage(runs),
                  plots=figures, examples=examples, notes=notes, n_boot=n_boot, seed=seed)


def _context(report: Report) -> dict[str, Any]:
    from deliberate import __version__

    suites = []
    for suite in SUITES:
        metrics = [m for s, m in report.columns if s == suite]
        if metrics:
            suites.append({"title": SUITE_TITLES[suite], "metrics": [
                {"name": m, "direction": METRIC_INFO.get((suite, m), ("", ""))[0],
                 "meaning": METRIC_INFO.get((suite, m), ("", ""))[1]} for m in metrics]})
    rows = []
    for run in report.runs:
        cells = []
        for col in report.columns:
            cell = report.cells[run.name].get(col) or Cell(None, source="none")
            digits = 2 if col == ("spec", "judge_score") else 3
            point, ci = cell.parts(digits)
            cells.append({"text": cell.text(digits), "point": point, "ci": ci, "best": cell.best,
                          "source": cell.source})
        rows.append({"name": run.name, "color": report.colors[run.name], "cells": cells})
    runs = [{
        "name": run.name, "color": report.colors[run.name], "path": str(run.path),
        "model": run.manifest.model, "suites": ", ".join(run.manifest.suites) or "—",
        "samples": run.manifest.samples, "grader": run.manifest.grader or "local (no API)",
        "spec": (run.manifest.spec or "—") + (" (in context)" if run.manifest.spec_in_context else ""),
        "jailbreaks": len(run.manifest.jailbreaks), "limit": run.manifest.limit,
        "created": run.manifest.created,
        "sampling": ", ".join(f"{k}={v}" for k, v in sorted(run.manifest.sampling.items())),
        "versions": ", ".join(f"{k} {v}" for k, v in sorted(run.manifest.versions.items())),
        "notes": run.notes,
    } for run in report.runs]
    examples = [{
        "run": run.name, "color": report.colors[run.name],
        "suites": [{"title": SUITE_TITLES[s], "examples": exs}
                   for s, exs in report.examples[run.name].items()],
    } for run in report.runs if report.examples[run.name]]
    return {
        "version": __version__, "generated": report.generated, "n_boot": report.n_boot,
        "seed": report.seed, "runs": runs, "suites": suites, "rows": rows,
        "has_fallback": any(c["source"] == "metrics.json" for r in rows for c in r["cells"]),
        "coverage": report.coverage, "plots": report.plots, "examples": examples,
        "notes": report.notes,
    }


def render_html(report: Report) -> str:
    import jinja2

    template = resources.files("deliberate").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(**_context(report))


def build_report(
    run_dirs: list[Path], out: Path, *, n_boot: int = 1000, seed: int = 0, n_examples: int = 3
) -> Path:
    """Write the HTML report to ``out`` and its Markdown twin next to it; return the HTML path.

    The Markdown file (``out.with_suffix('.md')``) links the plots, written as PNGs to
    ``<out stem>_files/``. Raises :class:`DeliberateError` for a directory that is not a run.
    """
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise DeliberateError("the report needs numpy and matplotlib: pip install matplotlib") from None
    from deliberate.evals.report.markdown import render_markdown

    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        out = out.with_name(out.name + ".html") if out.suffix == "" else out
    report = collect(run_dirs, n_boot=n_boot, seed=seed, n_examples=n_examples)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(report), encoding="utf-8")

    files_dir = out.parent / f"{out.stem}_files"
    links: dict[str, str] = {}
    if report.plots:
        files_dir.mkdir(exist_ok=True)
        for plot in report.plots:
            (files_dir / f"{plot.id}.png").write_bytes(plot.png)
            links[plot.id] = f"{files_dir.name}/{plot.id}.png"
    out.with_suffix(".md").write_text(render_markdown(report, _context(report), links), encoding="utf-8")
    return out
