"""``build_report``: run folders in, one self-contained HTML page (and a Markdown twin) out.

Metrics are recomputed from each suite's ``results.jsonl`` with the suite's headline metrics and
given 95% bootstrap intervals over prompts; ``metrics.json`` is only a fallback for suites whose
results are missing. With two or more runs the first is the baseline: every later run gets each
metric's change with a paired-bootstrap interval (:mod:`.paired`) and paired examples
(:mod:`.pairs`). Plots are PNGs: embedded as base64 in the HTML, written to
``<stem>_files/`` for the Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from deliberate.errors import DeliberateError
from deliberate.evals.suites import SUITES
from deliberate.report import plots
from deliberate.report.cells import Cell, Column, coverage, mark_best, metric_cells
from deliberate.report.compare import delta_cells
from deliberate.report.examples import Example, pick_examples
from deliberate.report.figures import Plot, figures
from deliberate.report.load import Run, load_runs
from deliberate.report.pairs import PairSection, pick_pairs


class ReportConfig(BaseModel):
    """How the report is computed (``deliberate report`` flags, ``stages.report``)."""

    model_config = ConfigDict(extra="forbid")

    n_boot: int = Field(default=1000, ge=0, description="Bootstrap resamples of prompts (0: no "
                        "intervals).")
    seed: int = Field(default=0, description="Seed of the bootstrap.")
    examples: int = Field(default=3, ge=0, description="Example responses per run and suite, "
                          "and before/after pairs per suite.")


def run_report(config: ReportConfig, run_dirs: list[Path], out: Path) -> Path:
    """The report stage: :func:`build_report` with the config's settings."""
    return build_report(run_dirs, out, n_boot=config.n_boot, seed=config.seed,
                        n_examples=config.examples)


@dataclass
class Report:
    """Everything the templates show; built once, rendered to HTML and Markdown."""

    runs: list[Run]
    colors: dict[str, str]
    columns: list[Column]
    cells: dict[str, dict[Column, Cell]]  # run name -> column -> cell
    deltas: dict[str, dict[Column, Cell]]  # later run name -> column -> change vs runs[0]
    coverage: list[dict[str, Any]]
    plots: list[Plot]
    examples: dict[str, dict[str, list[Example]]]  # run name -> suite -> examples
    pairs: dict[str, list[PairSection]]  # later run name -> its pairs with runs[0], per suite
    notes: list[str]
    n_boot: int
    seed: int
    generated: str = field(default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def collect(run_dirs: list[Path], *, n_boot: int = 1000, seed: int = 0, n_examples: int = 3) -> Report:
    """Load runs, compute metrics with intervals, draw plots and pick examples."""
    runs = load_runs([Path(d) for d in run_dirs])
    colors = {run.name: plots.color(i) for i, run in enumerate(runs)}
    cells = {run.name: metric_cells(run, n_boot, seed) for run in runs}
    columns = [(s.name, m.name) for s in SUITES for m in s.metrics
               if any((c := cells[r.name].get((s.name, m.name))) and c.value is not None for r in runs)]
    mark_best(cells, columns)
    notes: list[str] = []
    if not columns:
        notes.append("no metrics: none of the runs has graded results for a known suite")
    deltas = delta_cells(runs, cells, n_boot=n_boot, seed=seed, notes=notes)
    drawn = figures(runs, colors, cells, notes)
    examples = {
        run.name: {s.name: ex for s in SUITES
                   if (ex := pick_examples(s, run.results.get(s.name, []), n_examples))}
        for run in runs
    }
    pairs = {run.name: [p for s in SUITES if (p := pick_pairs(s, runs[0], run, colors, n_examples))]
             for run in runs[1:]}
    return Report(runs=runs, colors=colors, columns=columns, cells=cells, deltas=deltas,
                  coverage=coverage(runs), plots=drawn, examples=examples, pairs=pairs,
                  notes=notes, n_boot=n_boot, seed=seed)


def render_html(report: Report) -> str:
    import jinja2

    from deliberate.report.context import context

    template = resources.files("deliberate").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(**context(report))


def build_report(
    run_dirs: list[Path], out: Path, *, n_boot: int = 1000, seed: int = 0, n_examples: int = 3
) -> Path:
    """Write the HTML report to ``out`` and its Markdown twin next to it; return the HTML path.

    ``run_dirs``: eval run folders, or pipeline run folders (standing for their eval runs). The
    Markdown file (``out.with_suffix('.md')``) links the plots, written as PNGs to
    ``<out stem>_files/``. Raises :class:`DeliberateError` for a folder that is not a run.
    """
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise DeliberateError("the report needs numpy and matplotlib: pip install matplotlib") from None
    from deliberate.report.context import context
    from deliberate.report.markdown import render_markdown

    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        out = out.with_name(out.name + ".html") if out.suffix == "" else out
    report = collect(run_dirs, n_boot=n_boot, seed=seed, n_examples=n_examples)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(report), encoding="utf-8")
    links = _write_plot_files(report, out)
    out.with_suffix(".md").write_text(render_markdown(report, context(report), links), encoding="utf-8")
    return out


def _write_plot_files(report: Report, out: Path) -> dict[str, str]:
    files_dir = out.parent / f"{out.stem}_files"
    links: dict[str, str] = {}
    if report.plots:
        files_dir.mkdir(exist_ok=True)
        for plot in report.plots:
            (files_dir / f"{plot.id}.png").write_bytes(plot.png)
            links[plot.id] = f"{files_dir.name}/{plot.id}.png"
    return links
