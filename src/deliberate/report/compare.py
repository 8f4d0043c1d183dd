"""What changed, and can it be compared with papers: deltas against the baseline (the first
run) with paired-bootstrap intervals, and each metric's comparability with published results.
"""

from __future__ import annotations

from collections.abc import Sequence

from deliberate.evals.suites import SUITES, Suite
from deliberate.records.evaluation import EvalResult
from deliberate.report.bootstrap import Interval
from deliberate.report.cells import Cell, Column
from deliberate.report.load import Run
from deliberate.report.paired import common_prompts, paired_suite


def delta_cells(runs: list[Run], cells: dict[str, dict[Column, Cell]], *, n_boot: int,
                seed: int, notes: list[str]) -> dict[str, dict[Column, Cell]]:
    """Per later run: each metric's change against ``runs[0]`` (empty for a single run).

    Where both runs have results the change is measured on their common prompts with a paired
    bootstrap interval; where either has only ``metrics.json``, it is the plain difference.
    """
    out: dict[str, dict[Column, Cell]] = {}
    for run in runs[1:]:
        out[run.name] = {}
        for suite in SUITES:
            out[run.name].update(_suite_deltas(runs[0], run, suite, cells, n_boot, seed, notes))
    return out


def _suite_deltas(base: Run, run: Run, suite: Suite, cells: dict[str, dict[Column, Cell]],
                  n_boot: int, seed: int, notes: list[str]) -> dict[Column, Cell]:
    metrics = {m.name: m for m in suite.metrics}
    before, after = base.results.get(suite.name), run.results.get(suite.name)
    if before and after:
        _note_coverage(base, run, suite, before, after, notes)
        deltas = paired_suite(suite.name, before, after, metrics, n_boot=n_boot, seed=seed)
        return {(suite.name, name): Cell(iv, signed=True) for name, iv in deltas.items()}
    out = {}
    for name in metrics:
        b, a = cells[base.name].get((suite.name, name)), cells[run.name].get((suite.name, name))
        if b and a and b.value is not None and a.value is not None:
            out[(suite.name, name)] = Cell(Interval(a.value - b.value), source="metrics.json",
                                           signed=True)
    return out


def _note_coverage(base: Run, run: Run, suite: Suite, before: Sequence[EvalResult],
                   after: Sequence[EvalResult], notes: list[str]) -> None:
    """Say when the deltas rest on fewer prompts, or different groups, than the runs hold."""
    common = set(common_prompts(before, after))
    n_before, n_after = len({r.item_id for r in before}), len({r.item_id for r in after})
    pair = f"{suite.title}, {run.name} vs {base.name}"
    if len(common) < max(n_before, n_after):
        notes.append(f"{pair}: deltas over the {len(common)} prompts in both runs "
                     f"({n_before} and {n_after} prompts)")
    groups_before = {r.group for r in before if r.item_id in common}
    groups_after = {r.group for r in after if r.item_id in common}
    if common and groups_before != groups_after:
        differ = sorted(str(g) for g in groups_before ^ groups_after)
        notes.append(f"{pair}: the runs differ in their groups (jailbreaks, types or categories: "
                     f"{', '.join(differ[:8])}{' …' if len(differ) > 8 else ''}); the deltas "
                     "compare different items")


def comparability(run: Run, suite: Suite, metric: str) -> tuple[bool, str]:
    """(comparable with published results?, why) for one metric of one run, as its suite says."""
    judge = getattr(suite, "comparability", None)
    if judge is None:
        return False, "not stated by the suite"
    described = run.manifest.details.get("suites")
    details = described.get(suite.name) if isinstance(described, dict) else None
    ok, why = judge(metric, details if isinstance(details, dict) else {}, run.config)
    return bool(ok), str(why)


def comparability_text(runs: list[Run], suite: Suite, metric: str) -> tuple[str, str]:
    """("yes" | "no" | "mixed", text) over the runs that have the suite; one line per metric."""
    verdicts = [(run.name, *comparability(run, suite, metric)) for run in runs]
    if not verdicts:
        return "no", ""
    if len({(ok, why) for _, ok, why in verdicts}) == 1:
        _, ok, why = verdicts[0]
        return ("yes" if ok else "no"), f"{'yes' if ok else 'no'} ({why})"
    text = "; ".join(f"{name}: {'yes' if ok else 'no'} ({why})" for name, ok, why in verdicts)
    return "mixed", text
